"""Check and type the table, and the data stage itself: read, prepare, split, write.

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

from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from .. import files
from ..errors import PipelineError
from ..kinds import NUMERIC
from ..params import Params
from .convert import as_categories, as_numbers
from .infer import infer_kind, json_type, resolve_task
from .read import load_source
from .schema import TableSchema, schema_json
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
) -> tuple[pd.DataFrame, TableSchema, int]:
    """The model-ready table, what was decided about it, and how many rows lacked a target."""
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
        name: as_numbers(selected[name]) if kind == NUMERIC else as_categories(selected[name])
        for name, kind in resolved_kinds.items()
    }
    label = selected[target]
    columns[target] = as_categories(label) if task == "classification" else as_numbers(label)
    typed = pd.DataFrame(columns, index=selected.index, copy=False)  # the columns are new already
    return typed, TableSchema(target, task, names, resolved_kinds, dtypes), dropped


def prepare_data(params: Params) -> None:
    """The data stage: read data.source, check, type and split it, write the files.

    Nothing is written when a check fails.
    """
    data, paths = params.data, params.paths
    raw = load_source(data.source)
    frame, schema, dropped = prepare(raw, data.target, data.features, data.kinds, data.task)
    train_rows, test_rows = split_rows(frame, schema, data.test_size, params.seed)
    # Every check has passed. Each table is written, then let go, before the next one is made:
    # a large source is never in memory in four copies at once.
    read = len(raw)
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
