"""Check and type the table, and the data stage itself: read, prepare, split, write.

The rules, in the order they are applied (docs/your-own-data.md explains them):
1. Read the table: CSV (`.csv`, `.tsv`, `.txt`; `data.delimiter`) or Parquet (`.parquet`, `.pq`),
   a path or an URL.
2. Columns: `data.target`, and `data.features` (all other columns when null).
3. Cells that hold one of `data.missing_values` are missing. Rows without a target are dropped
   (and counted in the stage's output).
4. Dates (text in a date format, or a date-typed column) are numeric features, the days since
   1970-01-01, unless `data.kinds` declares them categorical.
5. Kinds: as declared in `data.kinds`, else numeric for number columns and categorical for text
   and booleans. A text column that is mostly numbers stops naming the texts that are not.
6. Inferred features only (`data.features: null`), for columns `data.kinds` does not declare:
   columns that identify rows are left out (`data.identifiers`, screen.py), and dates too when
   `data.dates` is drop; one line each says so and how to keep it.
7. Task: `data.task` (classification or regression), checked against the target: regression
   needs numbers; classification refuses numbers with fractions; both need two distinct values.
8. Split: seeded; stratified by class for classification.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, replace
from pathlib import Path

import pandas as pd

from ..params import Params
from ..utils import files
from ..utils.errors import PipelineError
from ..utils.kinds import CATEGORICAL, NUMERIC, CategoryRule
from .convert import as_categories, as_dates, as_numbers, with_missing
from .infer import date_format, infer_kind, json_type, resolve_task, stray_texts
from .read import load_source
from .schema import TableSchema, schema_json
from .screen import ColumnRules, left_out
from .split import split_rows, take


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


def prepare(
    frame: pd.DataFrame,
    target: str,
    features: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    task: str = "classification",
    *,
    identifiers: str = "drop",
    dates: str = "days",
    missing_values: Sequence[str | float] = (),
    categories: CategoryRule | None = None,
) -> tuple[pd.DataFrame, TableSchema, int]:
    """The model-ready table, what was decided about it, and how many rows lacked a target.

    categories: how categorical features' text is normalised (data.normalize_categories).
    """
    # Columns are read from frame by name: no copy of a large table to select them.
    declared = dict(kinds or {})
    names = feature_columns(frame, features, target)
    unknown = sorted(set(declared) - set(names))
    if unknown:
        raise PipelineError(
            f"data.kinds names column(s) that are not features: {', '.join(unknown)}."
        )
    frame = with_missing(frame, [*names, target], missing_values)
    selected, dropped = drop_missing_targets(frame, target)
    if selected.empty:
        raise PipelineError("the dataset has no rows" + (" with a target." if dropped else "."))
    empty = [name for name in names if selected[name].isna().all()]
    if empty:
        raise PipelineError(
            f"column(s) {', '.join(empty)} hold no values at all (every cell is missing):"
            " leave them out of data.features."
        )
    formats = {
        name: found
        for name in names
        if declared.get(name) != CATEGORICAL and (found := date_format(selected[name]))
    }
    resolved = {
        name: NUMERIC if name in formats else infer_kind(selected[name], declared.get(name))
        for name in names
    }
    rules = ColumnRules(features is None, identifiers, dates)
    dropped_columns = left_out(selected, names, resolved, formats, declared, rules)
    names = [name for name in names if name not in dropped_columns]
    if not names:
        raise PipelineError(
            f"no feature is left: {', '.join(dropped_columns)} were left out (see above)."
        )
    formats = {name: found for name, found in formats.items() if name in names}
    for name, found in formats.items():
        print(
            f"data: {name!r} holds dates ({found}): a numeric feature, the days since"
            " 1970-01-01 (data.dates: drop leaves dates out)"
        )
    kinds_of = {name: resolved[name] for name in names}
    dtypes = {
        name: "str" if name in formats else json_type(selected[name], kinds_of[name])
        for name in names
    }
    task = resolve_task(selected[target], task)
    columns = {
        name: typed_column(selected[name], kinds_of[name], formats.get(name), categories)
        for name in names
    }
    label = selected[target]
    columns[target] = as_categories(label) if task == "classification" else as_numbers(label)
    typed = pd.DataFrame(columns, index=selected.index, copy=False)  # the columns are new already
    rule = asdict(categories) if categories is not None else {}
    schema = TableSchema(
        target, task, names, kinds_of, dtypes, formats, dropped_columns, normalize_categories=rule
    )
    return typed, schema, dropped


def typed_column(
    column: pd.Series, kind: str, date_format: str | None, rule: CategoryRule | None = None
) -> pd.Series:
    """A feature as the model takes it: numbers, dates as numbers of days, or category text."""
    if date_format is None:
        return as_numbers(column) if kind == NUMERIC else as_categories(column, rule)
    days = as_dates(column, date_format)
    texts = column[days.isna() & column.notna()]
    if len(texts):
        raise stray_texts(str(column.name), f"holds dates ({date_format})", texts)
    return days


def prepare_data(params: Params) -> None:
    """The data stage: read data.source, check, type and split it, write the files.

    Nothing is written when a check fails.
    """
    data, paths = params.data, params.paths
    raw = load_source(data.source, data.delimiter)
    frame, schema, dropped = prepare(
        raw,
        data.target,
        data.features,
        data.kinds,
        data.task,
        identifiers=data.identifiers,
        dates=data.dates,
        missing_values=data.missing_values,
        categories=CategoryRule(**data.normalize_categories.model_dump()),
    )
    train_rows, test_rows = split_rows(frame, schema, data.test_size, params.seed)
    read = len(raw)
    schema = replace(schema, rows_read=read, rows_without_target=dropped)
    # Every check has passed. Each table is written, then let go, before the next one is made:
    # a large source is never in memory in four copies at once.
    files.write_csv(Path(paths.raw), raw)
    del raw
    files.write_csv(Path(paths.train), take(frame, train_rows))
    files.write_csv(Path(paths.test), take(frame, test_rows))
    files.write_text(Path(paths.schema_), schema_json(schema))
    if dropped:
        print(f"data: dropped {dropped} row(s) without a value of the target {data.target!r}")
    kinds = f"{len(schema.numeric)} numeric and {len(schema.categorical)} categorical features"
    print(
        f"data: {read} rows read from {data.source}; {kinds}; {schema.task};"
        f" {len(train_rows)} training rows, {len(test_rows)} test rows"
    )
