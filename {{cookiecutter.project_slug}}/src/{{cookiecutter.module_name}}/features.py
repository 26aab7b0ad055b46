"""Turn a validated frame into model inputs, and describe those inputs for the model artifact."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from pandas.api.types import is_integer_dtype

from .artifacts import Feature


def split_xy(
    frame: pd.DataFrame, features: Sequence[str], target: str
) -> tuple[pd.DataFrame, pd.Series]:
    """The feature matrix (columns in config order) and the target vector."""
    return frame[list(features)], frame[target].astype(str)


def describe_features(frame: pd.DataFrame, features: Sequence[str]) -> list[Feature]:
    """Name and kind of each input column, as serving validates requests against them."""
    return [Feature(name, "int" if is_integer_dtype(frame[name]) else "float") for name in features]
