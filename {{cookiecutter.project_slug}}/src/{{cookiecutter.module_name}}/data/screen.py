"""Find the columns that identify rows: as features they teach nothing about new rows, or leak.

A column identifies rows when it has at least MIN_VALUES values and
- it has no header (pandas reads it as `Unnamed: N`) and its values are all different; or
- it holds whole numbers, each once, that
  - count the rows (a run such as 0 to n-1 or 1 to n, in any order: a row number, the index
    pandas writes), or
  - rise, or fall, with every row (an id in file order, a sequence number), or
  - lie too close together to be all different by chance: n values drawn from fewer than
    n^2 / (2 * REPEATS_EXPECTED) possible ones would repeat about REPEATS_EXPECTED times, so
    values that never repeat there were given out one per row (ids with gaps, shuffled); or
- it holds text with a different value in at least NEARLY_UNIQUE of its rows (a name, an id, a
  free-text note).
Measurements are kept: numbers with fractions never identify rows, and neither do whole numbers
that repeat, or that are all different over a wide range and in no order (incomes in dollars).
Dates are not screened here: the date rule (data.dates) decides about them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd
from pandas.api.types import is_numeric_dtype

from ..utils.kinds import NUMERIC

MIN_VALUES = 20
NEARLY_UNIQUE = 0.9
# Distinct whole numbers this dense are ids (see above): by chance they would repeat about this
# many times (the chance of no repeat at all is then below 1 in 20,000).
REPEATS_EXPECTED = 10
# What pandas names a column whose header cell is empty.
NO_HEADER = re.compile(r"Unnamed: \d+")


@dataclass(frozen=True)
class ColumnRules:
    """How the data stage treats identifiers and dates (data.identifiers, data.dates)."""

    inferred: bool  # data.features is null: the features are every column but the target
    identifiers: str = "drop"  # or "keep"
    dates: str = "days"  # or "drop"


def identifier_reason(column: pd.Series, kind: str) -> str | None:
    """Why the column identifies rows, in a few words, or None when it does not."""
    present = column.dropna()
    if len(present) < MIN_VALUES:  # booleans then never qualify: two values repeat
        return None
    distinct = int(present.nunique())
    if NO_HEADER.fullmatch(str(column.name)) and distinct == len(present):
        return "no header, a different value in every row"
    if kind == NUMERIC:
        return sequence_reason(present) if distinct == len(present) else None
    if distinct >= NEARLY_UNIQUE * len(present):
        return f"a different text in {distinct:,} of {len(present):,} rows"
    return None


def sequence_reason(values: pd.Series) -> str | None:
    """Why distinct numbers identify rows (a run, in file order, or too dense), or None."""
    numbers = values if is_numeric_dtype(values) else pd.to_numeric(values, errors="coerce")
    if numbers.isna().any() or not (numbers == numbers.round()).all():
        return None
    low, high = int(numbers.min()), int(numbers.max())
    count = len(numbers)
    if high - low == count - 1:
        return f"the whole numbers {low:,} to {high:,}, each once: they count the rows"
    if numbers.is_monotonic_increasing or numbers.is_monotonic_decreasing:
        way = "rise" if numbers.is_monotonic_increasing else "fall"
        return f"whole numbers, each once, that {way} with every row"
    if high - low + 1 < count**2 / (2 * REPEATS_EXPECTED):
        return (
            f"{count:,} whole numbers between {low:,} and {high:,}, each once: too close"
            " together to be all different by chance"
        )
    return None


def identifiers(frame: pd.DataFrame, names: list[str], kinds: dict[str, str]) -> dict[str, str]:
    """The columns among names that identify rows, and why."""
    found = {name: identifier_reason(frame[name], kinds[name]) for name in names}
    return {name: why for name, why in found.items() if why is not None}


def left_out(
    frame: pd.DataFrame,
    names: list[str],
    kinds: dict[str, str],
    dates: dict[str, str],
    declared: Mapping[str, str],
    rules: ColumnRules,
) -> dict[str, str]:
    """The columns to leave out of the features, and why; one line each on stdout.

    Only inferred features are left out (data.features: null), and never a column whose kind
    data.kinds declares: that is how a user keeps one. Listed features are the user's choice:
    those that look like identifiers are named, and used.
    """
    undeclared = [name for name in names if name not in declared and name not in dates]
    found = identifiers(frame, undeclared, kinds) if rules.identifiers == "drop" else {}
    if not rules.inferred:
        for name, why in found.items():
            print(f"data: {name!r} looks like an identifier ({why}); used: data.features lists it")
        return {}
    keep = "to use it, declare its kind in data.kinds"
    for name, why in found.items():
        print(
            f"data: left out {name!r}, which identifies rows ({why}); {keep} or set"
            " data.identifiers: keep"
        )
    dropped = {name: f"identifies rows: {why}" for name, why in found.items()}
    if rules.dates == "drop":
        for name, fmt in dates.items():
            if name not in declared:
                print(
                    f"data: left out {name!r}, which holds dates ({fmt}), as data.dates: drop"
                    " says; to use it as a number of days, set data.dates: days"
                )
                dropped[name] = f"dates ({fmt})"
    return dropped
