"""The report's inputs: what the pipeline wrote (params, schema, model, metrics, predictions,
the splits), read into one Inputs, with a clear error when a file is missing or broken."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ..artifact.meta import ArtifactError, ModelMeta
from ..artifact.read import load_artifacts
from ..data import TableSchema, load_schema, read_split
from ..params import Params
from ..utils.errors import PipelineError


@dataclass(frozen=True)
class Inputs:
    """Everything the report shows, read from the pipeline's files."""

    params: Params
    schema: TableSchema
    meta: ModelMeta
    model: Any
    metrics: dict[str, float]
    predictions: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame
    # The metrics file's nested entries: `cv` and `test_interval` (see stages/evaluate.py).
    estimates: dict[str, Any] = field(default_factory=dict)


def read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise PipelineError(f"no {what} at {path}: run `make repro` first.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise PipelineError(f"{path} is not valid JSON ({error}): run `make repro`.") from error


def read_inputs(params: Params) -> Inputs:
    paths = params.paths
    schema = load_schema(Path(paths.schema_))
    try:
        model, meta = load_artifacts(Path(paths.model_dir), Path(paths.lineage))
    except ArtifactError as error:
        raise PipelineError(str(error)) from error
    written = read_json(Path(paths.metrics), "metrics")
    metrics = {k: v for k, v in written.items() if isinstance(v, int | float)}
    if not Path(paths.predictions).is_file():
        raise PipelineError(f"no predictions at {paths.predictions}: run `make repro` first.")
    text = schema.task == "classification"
    predictions = pd.read_csv(
        paths.predictions, dtype=str if text else None, keep_default_na=not text
    )
    return Inputs(
        params=params,
        schema=schema,
        meta=meta,
        model=model,
        metrics=metrics,
        predictions=predictions,
        train=read_split(Path(paths.train), schema),
        test=read_split(Path(paths.test), schema),
        estimates={k: v for k, v in written.items() if isinstance(v, dict)},
    )
