"""Split the typed table into seeded train and test rows, and read a written split back."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api.types import is_numeric_dtype

from ..utils.errors import PipelineError, first_line
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
    """A train or test file the data stage wrote, typed as it was written.

    A damaged file (a row cut short or with a field too many, a missing target, text in a numeric
    column) stops with the file and its line: nothing may be trained or scored on it.
    """
    if not path.is_file():
        raise PipelineError(f"no data at {path}: run the data stage first (dvc repro data).")
    regression = schema.task == "regression"
    text_columns = [*schema.categorical] + ([] if regression else [schema.target])
    numbers = [*schema.numeric] + ([schema.target] if regression else [])
    # Text read as categories (one string per distinct value), then handed on as plain objects
    # pointing at those strings: what the model takes, at 8 bytes a cell.
    try:
        frame = pd.read_csv(
            path,
            dtype={name: "category" for name in text_columns},
            keep_default_na=False,
            na_values={name: [""] for name in numbers},
        )
    except pd.errors.EmptyDataError as error:
        raise damaged(path, "it is empty") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise damaged(path, parser_problem(error)) from error
    missing = [c for c in [*schema.features, schema.target] if c not in frame.columns]
    if missing:
        raise PipelineError(
            f"{path} lacks the column(s) {', '.join(missing)}: run `dvc repro data`."
        )
    check_values(frame, path, schema, numbers)
    for name in text_columns:
        frame[name] = as_text(frame[name])
    return frame[[*schema.features, schema.target]]


def check_values(frame: pd.DataFrame, path: Path, schema: TableSchema, numbers: list[str]) -> None:
    """Refuse what the data stage never writes: a row without a target, text in a number column.

    The target is the last column, so a row cut short (a file cut mid-line) has none; the data
    stage drops the rows without one.
    """
    target = frame[schema.target]
    absent = target.isna() | (target.astype(object) == "")
    if absent.any():
        line = int(np.flatnonzero(absent.to_numpy())[0]) + 2  # line 1 is the header
        raise damaged(path, f"line {line} has no value for the target {schema.target!r}")
    for name in numbers:
        if not is_numeric_dtype(frame[name]):
            bad = pd.to_numeric(frame[name], errors="coerce").isna() & frame[name].notna()
            row = int(np.flatnonzero(bad.to_numpy())[0])
            value = frame[name].iloc[row]
            raise damaged(path, f"line {row + 2} holds {value!r} in the numeric column {name!r}")


def parser_problem(error: Exception) -> str:
    """The parser's complaint in a few words: which line has how many fields."""
    text = first_line(error)
    counts = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if counts is None:
        return text.removeprefix("Error tokenizing data. C error: ")
    expected, line, seen = counts.groups()
    return f"line {line} has {seen} fields, the header {expected}"


def damaged(path: Path, why: str) -> PipelineError:
    return PipelineError(
        f"{path} is damaged ({why}): the data stage never writes that;"
        " rebuild the split with `dvc repro data`."
    )


def as_text(column: pd.Series) -> pd.Series:
    """A categorical column as objects sharing one string per category."""
    categories = np.array([str(value) for value in column.cat.categories], dtype=object)
    values = categories[column.cat.codes.to_numpy()]
    # dtype=object: pandas 3 would otherwise store text as Arrow strings, which scikit-learn
    # turns back into one new Python string per cell.
    return pd.Series(values, index=column.index, name=column.name, dtype=object)
