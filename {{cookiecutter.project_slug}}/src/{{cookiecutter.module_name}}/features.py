"""Turn a typed frame into model inputs, and describe those inputs for the model artifact."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .data import TableSchema
from .utils.kinds import CATEGORICAL, MISSING_CATEGORY, Feature

# More known categories than this are not listed in the metadata (an identifier, a free text).
MAX_LISTED_CATEGORIES = 200


def split_xy(
    frame: pd.DataFrame, features: Sequence[str], target: str
) -> tuple[pd.DataFrame, pd.Series]:
    """The feature matrix (columns in config order) and the target vector."""
    return frame[list(features)], frame[target]


def missing_rows(x: pd.DataFrame, schema: TableSchema, names: Sequence[str]) -> pd.DataFrame:
    """One row per feature in `names`, a copy of the first row with that feature missing."""
    rows = x.iloc[[0] * len(names)].reset_index(drop=True).astype(object)
    for index, name in enumerate(names):
        rows.loc[index, name] = MISSING_CATEGORY if schema.kinds[name] == CATEGORICAL else np.nan
    return rows.astype(x.dtypes.to_dict())


def imputes(model: Any, x: pd.DataFrame, schema: TableSchema, names: Sequence[str]) -> bool:
    """True when the fitted model scores rows with any one of `names` missing."""
    if not names:
        return False
    try:
        model.predict(missing_rows(x, schema, names))
    except ValueError:  # scikit-learn's "Input contains NaN" and the like
        return False
    return True


def describe_features(model: Any, x: pd.DataFrame, schema: TableSchema) -> list[Feature]:
    """Name, kind, JSON type, known categories and nullability of each input column.

    Nullability is measured, not assumed: the fitted model is asked to score a row with the
    value missing, so a user's own pipeline without an imputer gets non-nullable features.
    """
    nullable = {
        kind: imputes(model, x, schema, [n for n in schema.features if schema.kinds[n] == kind])
        for kind in set(schema.kinds.values())
    }
    described = []
    for name in schema.features:
        kind = schema.kinds[name]
        categories = None
        if kind == CATEGORICAL:
            seen = sorted(set(x[name]) - {MISSING_CATEGORY})
            categories = seen if len(seen) <= MAX_LISTED_CATEGORIES else None
        date_format = schema.dates.get(name)
        described.append(
            Feature(name, schema.dtypes[name], kind, categories, nullable[kind], date_format)
        )
    return described
