"""Infer what each column is: its kind (numeric or categorical), a date's format, its JSON type,
and the task."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
    is_object_dtype,
    is_string_dtype,
)

from ..utils.errors import PipelineError, shown
from ..utils.kinds import CATEGORICAL, ISO_8601, NUMERIC, date_number

# A text column is taken for a numeric one with a few stray texts when at least this share of its
# values are numbers ...
MOSTLY_NUMBERS = 0.9
# ... or at least half of them, and the rest at most FEW_TEXTS distinct texts: placeholders for
# a missing value ("unknown", "?", "-"), which data.missing_values declares.
SOME_NUMBERS = 0.5
FEW_TEXTS = 3
# A text column holds dates when at least half of its distinct values (up to this many, the
# first ones) are dates in the format guessed from one of the first few.
DATE_SAMPLE = 1000
DATE_GUESSES = 5


def infer_kind(column: pd.Series, declared: str | None) -> str:
    """NUMERIC or CATEGORICAL, as declared or from the values (see prepare.py's docstring)."""
    if declared == CATEGORICAL or is_booleans(column):
        return CATEGORICAL
    if is_numeric_dtype(column) or is_datetime64_any_dtype(column):
        return NUMERIC
    present = column.dropna()
    texts = present[pd.to_numeric(present, errors="coerce").isna()]
    share = 1 - len(texts) / len(present) if len(present) else 0.0
    few = share >= SOME_NUMBERS and texts.nunique() <= FEW_TEXTS
    if declared == NUMERIC or share >= MOSTLY_NUMBERS or few:
        if len(texts):
            what = "is declared numeric" if declared == NUMERIC else "holds numbers"
            raise stray_texts(str(column.name), what, texts)
        return NUMERIC
    return CATEGORICAL


def stray_texts(name: str, what: str, texts: pd.Series) -> PipelineError:
    """One line naming the texts found among a column's numbers (or dates) and both fixes."""
    counts = texts.map(str).value_counts(sort=True)
    listed = ", ".join(shown(text) for text in counts.index[:FEW_TEXTS])
    if len(counts) > FEW_TEXTS:
        listed += f" and {len(counts) - FEW_TEXTS} other texts"
    declare = json.dumps(list(counts.index[:FEW_TEXTS]), ensure_ascii=False)
    kinds = json.dumps({name: "categorical"}, ensure_ascii=False)
    return PipelineError(
        f"column {name!r} {what} but also the text {listed} ({cells(len(texts))}, the first in"
        f" row {int(texts.index[0]) + 1} of the data): declare them missing"
        f" (data.missing_values: {declare}) or the column categorical (data.kinds: {kinds})."
    )


def cells(count: int) -> str:
    return f"{count:,} cell" + ("" if count == 1 else "s")


def date_format(column: pd.Series) -> str | None:
    """How the column writes dates (a strptime format, or ISO_8601 for a date-typed column), or
    None when it does not hold dates. A date names at least a year and a month; numbers are
    never dates (20240301 stays a number)."""
    if is_datetime64_any_dtype(column):
        return ISO_8601
    if not (is_object_dtype(column) or is_string_dtype(column)):
        return None
    sample = [str(value).strip() for value in pd.unique(column.dropna())[:DATE_SAMPLE]]
    best, parsed = None, 0
    for fmt in guessed_formats(sample[:DATE_GUESSES]):
        count = sum(is_date(value, fmt) for value in sample)
        if count > parsed:
            best, parsed = fmt, count
    return best if sample and parsed >= SOME_NUMBERS * len(sample) else None


def guessed_formats(values: list[str]) -> list[str]:
    """The date formats pandas guesses for these values (month first, then day first)."""
    from pandas.tseries.api import guess_datetime_format

    found = []
    for value in values:
        if pd.notna(pd.to_numeric(value, errors="coerce")):
            continue  # a number
        for dayfirst in (False, True):
            with warnings.catch_warnings():  # "Parsing dates in %Y-%m-%d format when dayfirst..."
                warnings.simplefilter("ignore", UserWarning)
                fmt = guess_datetime_format(value, dayfirst=dayfirst)
            names_a_month = fmt is not None and any(m in fmt for m in ("%m", "%b", "%B"))
            if names_a_month and ("%Y" in fmt or "%y" in fmt) and fmt not in found:
                found.append(fmt)
    return found


def is_date(value: str, fmt: str) -> bool:
    try:
        date_number(value, fmt)
    except ValueError:
        return False
    return True


def is_booleans(column: pd.Series) -> bool:
    """True for a column of booleans (with gaps, pandas keeps them as objects)."""
    if is_bool_dtype(column):
        return True
    present = column.dropna()
    return (
        bool(len(present))
        and column.dtype == object
        and present.map(type).isin([bool, np.bool_]).all()
    )


def json_type(column: pd.Series, kind: str) -> str:
    """The JSON type a request sends for this feature (a date is sent as text: "str")."""
    if kind == NUMERIC:
        return "float"
    present = column.dropna()
    if is_booleans(column):
        return "bool"
    if is_numeric_dtype(column):
        return "int" if (present == present.round()).all() else "float"
    return "str"


def resolve_task(target: pd.Series, task: str) -> str:
    """classification or regression: data.task, checked against the target's values."""
    numbers = is_numeric_dtype(target) and not is_bool_dtype(target)
    whole = numbers and bool((target == target.round()).all())
    distinct = target.nunique()
    if task == "regression" and not numbers:
        raise PipelineError(
            f"data.task is regression, but the target {target.name!r} holds text or booleans"
            f" (for example {shown(target.iloc[0])}): set data.task: classification."
        )
    if task == "classification" and numbers and not whole:
        example = target[target != target.round()].iloc[0]
        raise PipelineError(
            f"data.task is classification, but the target {target.name!r} holds"
            f" {distinct} distinct numbers with fractions (for example {shown(example)}):"
            " set data.task: regression."
        )
    if distinct < 2:
        what = "class" if task == "classification" else "value"
        raise PipelineError(
            f"the target {target.name!r} has a single {what} ({shown(target.iloc[0])}) in"
            f" {len(target)} rows: there is nothing to learn. Check the data or data.target."
        )
    return task
