"""Load, validate and split the dataset. Pure functions; the stage in stages.py writes the files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from .errors import PipelineError

BUNDLED_PREFIX = "sklearn:"


def load_iris_frame() -> pd.DataFrame:
    """scikit-learn's bundled iris data, plain column names and string labels (no download)."""
    from sklearn.datasets import load_iris

    bunch = load_iris(as_frame=True)
    frame = bunch.data.rename(columns=lambda name: name.removesuffix(" (cm)").replace(" ", "_"))
    frame["species"] = bunch.target.map(dict(enumerate(bunch.target_names))).astype(str)
    return frame


BUNDLED = {"iris": load_iris_frame}


def is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_csv(source: str) -> pd.DataFrame:
    """Read a CSV from a path or an http(s) URL; PipelineError naming the source when that fails."""
    if not is_url(source) and not Path(source).is_file():
        raise PipelineError(f"data file not found: {source} (set data.source in configs/data/).")
    try:
        return pd.read_csv(source)
    except pd.errors.EmptyDataError as error:
        raise PipelineError(f"{source} is empty: the dataset has no header and no rows.") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise PipelineError(f"{source} is not a readable CSV file: {error}") from error
    except OSError as error:  # network errors from a URL land here too
        raise PipelineError(f"could not read {source}: {error}") from error


def load_source(source: str) -> pd.DataFrame:
    """The raw dataset named by data.source: "sklearn:<name>", a CSV path or an http(s) URL."""
    if source.startswith(BUNDLED_PREFIX):
        name = source.removeprefix(BUNDLED_PREFIX)
        if name not in BUNDLED:
            raise PipelineError(
                f"unknown bundled dataset {source!r}; choose one of "
                + ", ".join(BUNDLED_PREFIX + n for n in BUNDLED)
                + ", a CSV path or an http(s) URL."
            )
        return BUNDLED[name]()
    return read_csv(source)


def validate(frame: pd.DataFrame, features: Sequence[str], target: str) -> pd.DataFrame:
    """Check columns, numeric features and missing values; return just the expected columns."""
    missing = [column for column in [*features, target] if column not in frame.columns]
    if missing:
        raise PipelineError(
            f"the dataset lacks the column(s) {', '.join(missing)}"
            f" (it has: {', '.join(map(str, frame.columns))})."
            " Fix data.features / data.target or the file."
        )
    if frame.empty:
        raise PipelineError("the dataset has no rows.")
    not_numeric = [c for c in features if not is_numeric_dtype(frame[c]) or is_bool_dtype(frame[c])]
    if not_numeric:
        raise PipelineError(
            f"feature column(s) {', '.join(not_numeric)} hold non-numeric values"
            f" (for example {frame[not_numeric[0]].iloc[0]!r}); features must be numbers."
        )
    gaps = frame[[*features, target]].isna().sum()
    if gaps.any():
        holes = ", ".join(f"{column} ({count})" for column, count in gaps[gaps > 0].items())
        raise PipelineError(f"the dataset has missing values in: {holes}.")
    return frame[[*features, target]].reset_index(drop=True)


def split(
    frame: pd.DataFrame, target: str, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Seeded train/test split, stratified by the target so every class is in both parts."""
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise PipelineError(f"data.test_size must be between 0 and 1, not {test_size}.")
    counts = frame[target].value_counts()
    if len(frame) < 4 or counts.min() < 2:
        raise PipelineError(
            f"too few rows to split: {len(frame)} rows, smallest class has {counts.min()}"
            " (need at least 2 per class)."
        )
    try:
        train, test = train_test_split(
            frame, test_size=test_size, random_state=seed, stratify=frame[target]
        )
    except ValueError as error:
        message = f"cannot split the dataset with test_size={test_size}: {error}"
        raise PipelineError(message) from error
    return train.reset_index(drop=True), test.reset_index(drop=True)
