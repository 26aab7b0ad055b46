"""Infer what each column is: its kind (numeric or categorical), its JSON type, and the task."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from ..errors import PipelineError
from ..kinds import CATEGORICAL, NUMERIC

# A text column is taken for a numeric one with typos when at least this share of it are numbers.
MOSTLY_NUMBERS = 0.9


def infer_kind(column: pd.Series, declared: str | None) -> str:
    """NUMERIC or CATEGORICAL, as declared or from the values (see the module docstring)."""
    name = column.name
    if declared == CATEGORICAL or is_booleans(column):
        return CATEGORICAL
    if is_numeric_dtype(column):
        return NUMERIC
    present = column.dropna()
    as_numbers = pd.to_numeric(present, errors="coerce")
    if declared == NUMERIC or (len(present) and as_numbers.notna().mean() >= MOSTLY_NUMBERS):
        bad = present[as_numbers.isna()]
        if len(bad):
            row = int(bad.index[0])
            why = "is declared numeric" if declared == NUMERIC else "holds numbers"
            raise PipelineError(
                f"column {name!r} {why} but holds the non-numeric value {bad.iloc[0]!r}"
                f" (row {row + 1} of the data, among {len(bad)} such values): fix the file,"
                f" or declare it categorical in data.kinds."
            )
        return NUMERIC
    return CATEGORICAL


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
    """The JSON type a request sends for this feature."""
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
            f" (for example {target.iloc[0]!r}): set data.task: classification."
        )
    if task == "classification" and numbers and not whole:
        example = target[target != target.round()].iloc[0]
        raise PipelineError(
            f"data.task is classification, but the target {target.name!r} holds"
            f" {distinct} distinct numbers with fractions (for example {example!r}):"
            " set data.task: regression."
        )
    if distinct < 2:
        what = "class" if task == "classification" else "value"
        raise PipelineError(
            f"the target {target.name!r} has a single {what} ({target.iloc[0]!r}) in"
            f" {len(target)} rows: there is nothing to learn. Check the data or data.target."
        )
    return task
