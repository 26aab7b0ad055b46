"""Turn raw columns into the model's values: numbers and dates as float64, categories as text.

The data stage and the batch predictor both convert with these, one value as utils/kinds.py does.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from ..utils.errors import PipelineError, shown
from ..utils.kinds import MISSING_CATEGORY, CategoryRule, category_text, date_number


def as_numbers(column: pd.Series) -> pd.Series:
    """A numeric feature as float64, refusing infinity (no model can use it)."""
    values = pd.to_numeric(column, errors="coerce").astype("float64")
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise PipelineError(
            f"column {column.name!r} holds an infinite value ({shown(column.iloc[row])}, row"
            f" {row + 1} of the data): replace it with a number, or leave the cell empty."
        )
    return values


def as_categories(column: pd.Series, rule: CategoryRule | None = None) -> pd.Series:
    """A categorical feature as the model's text (kinds.category_text, then the data config's
    normalisation when a rule is given); missing -> "".

    Each distinct value is converted once and every cell points at its text: a million rows of a
    few categories cost a million pointers, not a million strings.
    """
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    # Code -1 (missing) picks the last one.
    to_text = category_text if rule is None else rule.converter()
    texts = np.array([*map(to_text, distinct), MISSING_CATEGORY], dtype=object)
    return pd.Series(texts[codes], index=column.index, name=column.name, dtype=object)


def as_dates(column: pd.Series, date_format: str) -> pd.Series:
    """A date feature as the model's number (kinds.date_number, the days since 1970-01-01),
    each distinct value converted once; NaN where a value is missing or not a date in that
    format (compare with column.notna() to find those)."""
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    days = np.array([*(days_or_nan(value, date_format) for value in distinct), np.nan])
    return pd.Series(days[codes], index=column.index, name=column.name, dtype="float64")


def days_or_nan(value: object, date_format: str) -> float:
    if isinstance(value, pd.Timestamp):  # a date-typed column: to microseconds, as a request
        value = value.to_pydatetime()
    try:
        return date_number(value, date_format)
    except ValueError:
        return np.nan


def with_missing(
    frame: pd.DataFrame, names: Sequence[str], tokens: Sequence[str | float]
) -> pd.DataFrame:
    """frame with the cells of `names` that hold one of tokens made missing (data.missing_values):
    a text token matches a text cell (surrounding spaces aside), a number a numeric cell."""
    texts = {token.strip() for token in tokens if isinstance(token, str)}
    numbers = [token for token in tokens if not isinstance(token, str)]
    changed = {}
    for name in names:
        column = frame[name]
        if is_numeric_dtype(column) and not is_bool_dtype(column):
            hit = column.isin(numbers).to_numpy() if numbers else None
        else:
            codes, distinct = pd.factorize(column, use_na_sentinel=True)
            tokens_at = [i for i, value in enumerate(distinct) if str(value).strip() in texts]
            hit = np.isin(codes, tokens_at) if tokens_at else None
        if hit is not None and hit.any():
            changed[name] = column.mask(hit)
    return frame.assign(**changed) if changed else frame
