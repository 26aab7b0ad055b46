"""Turn raw columns into the model's values: numbers as float64, categories as text (kinds.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import PipelineError
from ..kinds import MISSING_CATEGORY, category_text


def as_numbers(column: pd.Series) -> pd.Series:
    """A numeric feature as float64, refusing infinity (no model can use it)."""
    values = pd.to_numeric(column, errors="coerce").astype("float64")
    infinite = np.isinf(values.to_numpy())
    if infinite.any():
        row = int(np.flatnonzero(infinite)[0])
        raise PipelineError(
            f"column {column.name!r} holds an infinite value ({column.iloc[row]}, row"
            f" {row + 1} of the data): replace it with a number, or leave the cell empty."
        )
    return values


def as_categories(column: pd.Series) -> pd.Series:
    """A categorical feature as the model's text (kinds.category_text); missing -> "".

    Each distinct value is converted once and every cell points at its text: a million rows of a
    few categories cost a million pointers, not a million strings.
    """
    codes, distinct = pd.factorize(column, use_na_sentinel=True)
    # Code -1 (missing) picks the last one.
    texts = np.array([*map(category_text, distinct), MISSING_CATEGORY], dtype=object)
    return pd.Series(texts[codes], index=column.index, name=column.name, dtype=object)
