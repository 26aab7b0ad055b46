"""Load, check, type and split the dataset. Pure functions; the data stage (stages.py) writes files.

The rules, in the order they are applied (docs/your-own-data.md explains them):
1. Read the table: CSV (`.csv`, `.tsv`, `.txt`) or Parquet (`.parquet`, `.pq`), a path or an URL.
2. Columns: `data.target`, and `data.features` (all other columns when null).
3. Rows without a target are dropped (and counted in the stage's output).
4. Kinds: as declared in `data.kinds`, else numeric for number columns and categorical for text
   and booleans. A text column that is mostly numbers stops with the value that is not one.
5. Task: `data.task` (classification or regression), checked against the target: regression
   needs numbers; classification refuses numbers with fractions; both need two distinct values.
6. Split: seeded; stratified by class for classification.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd
from pandas.api.types import is_bool_dtype, is_numeric_dtype

from . import files
from .errors import PipelineError, first_line
from .kinds import CATEGORICAL, MISSING_CATEGORY, NUMERIC, CategoryRule, category_text
from .params import Params, is_url

# A text column is taken for a numeric one with typos when at least this share of it are numbers.
MOSTLY_NUMBERS = 0.9
CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": None}
PARQUET_SUFFIXES = (".parquet", ".pq")
# A local CSV file this large is read in chunks, with a line per chunk saying how far it got.
LARGE_FILE_BYTES = 100 * 2**20
CHUNK_ROWS = 250_000


@dataclass(frozen=True)
class TableSchema:
    """What the data stage decided: the task, and each feature's kind and JSON type."""

    target: str
    task: str  # "classification" or "regression"
    features: list[str]
    kinds: dict[str, str]  # feature -> NUMERIC or CATEGORICAL
    dtypes: dict[str, str]  # feature -> "float", "int", "str" or "bool": what a request sends
    # How category text was normalised (kinds.CategoryRule as a dict; empty: not at all): training
    # records it with the model, so serving applies the same.
    normalize_categories: dict[str, Any] = field(default_factory=dict)

    @property
    def categorical(self) -> list[str]:
        return [name for name in self.features if self.kinds[name] == CATEGORICAL]

    @property
    def numeric(self) -> list[str]:
        return [name for name in self.features if self.kinds[name] == NUMERIC]


def table_format(source: str) -> str:
    suffix = Path(urlparse(source).path if is_url(source) else source).suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in CSV_SUFFIXES:
        return "csv"
    raise PipelineError(
        f"cannot tell the format of {source}: name a .csv, .tsv or .parquet file (data.source)."
    )


def load_source(source: str) -> pd.DataFrame:
    """The table at data.source (a path relative to the project, or an http(s) URL)."""
    if not is_url(source) and not Path(source).is_file():
        raise PipelineError(f"data file not found: {source} (set data.source in configs/data/).")
    kind = table_format(source)
    try:
        if kind == "parquet":
            frame = pd.read_parquet(source)
        else:
            separator = CSV_SUFFIXES[Path(urlparse(source).path).suffix.lower()]
            engine = "python" if separator is None else "c"
            if not is_url(source) and Path(source).stat().st_size >= LARGE_FILE_BYTES:
                frame = read_csv_in_chunks(Path(source), separator, engine)
            else:
                frame = pd.read_csv(source, sep=separator, engine=engine)
    except pd.errors.EmptyDataError as error:
        raise PipelineError(f"{source} is empty: the dataset has no header and no rows.") from error
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise PipelineError(f"{source} is not a readable CSV table: {first_line(error)}") from error
    except OSError as error:  # network errors from a URL land here too
        raise PipelineError(f"could not read {source}: {first_line(error)}") from error
    except Exception as error:  # pyarrow's errors for a file that is not Parquet
        raise PipelineError(
            f"{source} is not a readable {kind} table: {first_line(error)}"
        ) from error
    if frame.columns.duplicated().any():
        names = sorted(set(frame.columns[frame.columns.duplicated()].map(str)))
        raise PipelineError(f"{source} has duplicate column names: {', '.join(names)}.")
    frame.columns = frame.columns.map(str)
    return frame


def read_csv_in_chunks(path: Path, separator: str | None, engine: str) -> pd.DataFrame:
    """A large CSV file, read CHUNK_ROWS rows at a time, printing the rows read so far."""
    size = path.stat().st_size
    chunks = []
    rows = 0
    with path.open("rb") as handle:
        reader = pd.read_csv(handle, sep=separator, engine=engine, chunksize=CHUNK_ROWS)
        for chunk in reader:
            chunks.append(chunk)
            rows += len(chunk)
            done = min(100 * handle.tell() / size, 100)  # the parser reads ahead: an estimate
            print(
                f"data: {rows:,} rows read from {path} ({done:.0f} % of {size / 2**20:,.0f} MiB)",
                file=sys.stderr,
                flush=True,
            )
    if not chunks:  # a header without rows
        return pd.read_csv(path, sep=separator, engine=engine)
    return pd.concat(chunks, ignore_index=True)


def feature_columns(frame: pd.DataFrame, features: Sequence[str] | None, target: str) -> list[str]:
    """The feature columns (all but the target when features is None), checked against frame."""
    names = [c for c in frame.columns if c != target] if features is None else list(features)
    if target in names:
        raise PipelineError(f"data.features lists the target column {target!r}: remove it.")
    if len(set(names)) != len(names):
        raise PipelineError("data.features lists a column twice.")
    missing = [column for column in [*names, target] if column not in frame.columns]
    if missing:
        raise PipelineError(
            f"the dataset lacks the column(s) {', '.join(missing)}"
            f" (it has: {', '.join(map(str, frame.columns))})."
            " Fix data.features / data.target or the file."
        )
    if not names:
        raise PipelineError(f"the dataset has no feature columns besides the target {target!r}.")
    return names


def drop_missing_targets(frame: pd.DataFrame, target: str) -> tuple[pd.DataFrame, int]:
    """Rows whose target is missing teach nothing: drop them and say how many."""
    keep = frame[target].notna()
    dropped = int((~keep).sum())
    if not dropped:  # no copy of a large table for nothing
        return frame, 0
    return frame[keep].reset_index(drop=True), dropped


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


def prepare(
    frame: pd.DataFrame,
    target: str,
    features: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    task: str = "classification",
    categories: CategoryRule | None = None,
) -> tuple[pd.DataFrame, TableSchema, int]:
    """The model-ready table, what was decided about it, and how many rows lacked a target.

    categories: how categorical features' text is normalised (data.normalize_categories).
    """
    # Columns are read from frame by name: no copy of a large table to select them.
    names = feature_columns(frame, features, target)
    unknown = sorted(set(kinds or {}) - set(names))
    if unknown:
        raise PipelineError(
            f"data.kinds names column(s) that are not features: {', '.join(unknown)}."
        )
    selected, dropped = drop_missing_targets(frame, target)
    if selected.empty:
        raise PipelineError("the dataset has no rows" + (" with a target." if dropped else "."))
    empty = [name for name in names if selected[name].isna().all()]
    if empty:
        raise PipelineError(
            f"column(s) {', '.join(empty)} hold no values at all (every cell is missing):"
            " leave them out of data.features."
        )
    resolved_kinds = {name: infer_kind(selected[name], (kinds or {}).get(name)) for name in names}
    dtypes = {name: json_type(selected[name], resolved_kinds[name]) for name in names}
    task = resolve_task(selected[target], task)
    columns = {
        name: as_numbers(selected[name])
        if kind == NUMERIC
        else as_categories(selected[name], categories)
        for name, kind in resolved_kinds.items()
    }
    label = selected[target]
    columns[target] = as_categories(label) if task == "classification" else as_numbers(label)
    typed = pd.DataFrame(columns, index=selected.index, copy=False)  # the columns are new already
    rule = asdict(categories) if categories is not None else {}
    return typed, TableSchema(target, task, names, resolved_kinds, dtypes, rule), dropped


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


def load_schema(path: Path) -> TableSchema:
    """The schema the data stage wrote (data/processed/schema.json)."""
    if not path.is_file():
        raise PipelineError(f"no data schema at {path}: run the data stage first (dvc repro data).")
    try:
        return TableSchema(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise PipelineError(
            f"{path} is not a data schema ({error}): run `dvc repro data`."
        ) from error


def prepare_data(params: Params) -> None:
    """The data stage: read data.source, check, type and split it, write the files.

    Nothing is written when a check fails.
    """
    data, paths = params.data, params.paths
    raw = load_source(data.source)
    rule = CategoryRule(**data.normalize_categories.model_dump())
    frame, schema, dropped = prepare(raw, data.target, data.features, data.kinds, data.task, rule)
    train_rows, test_rows = split_rows(frame, schema, data.test_size, params.seed)
    # Every check has passed. Each table is written, then let go, before the next one is made:
    # a large source is never in memory in four copies at once.
    read = len(raw)
    files.write_csv(Path(paths.raw), raw)
    del raw
    files.write_csv(Path(paths.train), take(frame, train_rows))
    files.write_csv(Path(paths.test), take(frame, test_rows))
    files.write_text(Path(paths.schema_), json.dumps(asdict(schema), indent=2) + "\n")
    if dropped:
        print(f"data: dropped {dropped} row(s) without a value of the target {data.target!r}")
    kinds = f"{len(schema.numeric)} numeric and {len(schema.categorical)} categorical features"
    print(
        f"data: {read} rows read from {data.source}; {kinds}; {schema.task};"
        f" {len(train_rows)} training rows, {len(test_rows)} test rows"
    )
