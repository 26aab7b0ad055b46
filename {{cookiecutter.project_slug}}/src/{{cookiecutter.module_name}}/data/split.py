"""Split the typed table into seeded train and test rows, and read a written split back."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import PipelineError
from .schema import TableSchema


def split(
    frame: pd.DataFrame, schema: TableSchema, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split; stratified by class for classification."""
    train_rows, test_rows = split_rows(frame, schema, test_size, seed)
    return take(frame, train_rows), take(frame, test_rows)


def take(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    return frame.take(rows).reset_index(drop=True)


def split_rows(
    frame: pd.DataFrame, schema: TableSchema, test_size: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The positions of the training and the test rows (every check of the split, no copy)."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise PipelineError(f"data.test_size must be between 0 and 1, not {test_size}.")
    stratify = None
    if schema.task == "classification":
        counts = frame[schema.target].value_counts()
        if counts.min() < 2:
            raise PipelineError(
                f"too few rows to split: class {counts.idxmin()!r} has {counts.min()} row"
                " (need at least 2 per class): drop or merge it."
            )
        stratify = frame[schema.target].to_numpy()
    if len(frame) < 4:
        raise PipelineError(f"too few rows to split: {len(frame)} (need at least 4).")
    try:
        train, test = train_test_split(
            np.arange(len(frame)), test_size=test_size, random_state=seed, stratify=stratify
        )
    except ValueError as error:
        message = f"cannot split the dataset with test_size={test_size}: {error}"
        raise PipelineError(message) from error
    return train, test


def read_split(path: Path, schema: TableSchema) -> pd.DataFrame:
    """A train or test file the data stage wrote, typed as it was written."""
    if not path.is_file():
        raise PipelineError(f"no data at {path}: run the data stage first (dvc repro data).")
    text_columns = [*schema.categorical] + (
        [schema.target] if schema.task == "classification" else []
    )
    # Text read as categories (one string per distinct value), then handed on as plain objects
    # pointing at those strings: what the model takes, at 8 bytes a cell.
    frame = pd.read_csv(
        path,
        dtype={name: "category" for name in text_columns},
        keep_default_na=False,
        na_values={name: [""] for name in schema.numeric},
    )
    missing = [c for c in [*schema.features, schema.target] if c not in frame.columns]
    if missing:
        raise PipelineError(
            f"{path} lacks the column(s) {', '.join(missing)}: run `dvc repro data`."
        )
    for name in text_columns:
        frame[name] = as_text(frame[name])
    return frame[[*schema.features, schema.target]]


def as_text(column: pd.Series) -> pd.Series:
    """A categorical column as objects sharing one string per category."""
    categories = np.array([str(value) for value in column.cat.categories], dtype=object)
    values = categories[column.cat.codes.to_numpy()]
    # dtype=object: pandas 3 would otherwise store text as Arrow strings, which scikit-learn
    # turns back into one new Python string per cell.
    return pd.Series(values, index=column.index, name=column.name, dtype=object)
