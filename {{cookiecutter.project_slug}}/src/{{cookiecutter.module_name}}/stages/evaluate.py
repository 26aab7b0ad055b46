"""The evaluate stage: models/ + the test split -> reports/metrics.json and the plot rows."""

from __future__ import annotations

from pathlib import Path

from .. import files
from ..artifacts import ArtifactError, load_artifacts
from ..data import load_schema, read_split
from ..errors import PipelineError
from ..evaluate import metrics_json, prediction_rows, score
from ..features import split_xy
from ..params import Params


def run(params: Params) -> None:
    """Score the trained model on the test split; write the DVC metrics and plot files."""
    paths = params.paths
    try:
        model, _ = load_artifacts(Path(paths.model_dir))
    except ArtifactError as error:
        raise PipelineError(str(error)) from error
    schema = load_schema(Path(paths.schema_))
    x, y = split_xy(read_split(Path(paths.test), schema), schema.features, schema.target)
    metrics = score(model, x, y, schema.task)
    files.write_csv(Path(paths.predictions), prediction_rows(model, x, y))
    files.write_text(Path(paths.metrics), metrics_json(metrics))
    print(f"evaluate: {metrics}")
