"""The evaluate stage: models/ + the test split -> reports/metrics.json and the plot rows.

metrics.json keeps each test-split metric at its top level (what `dvc metrics diff` compares), and
adds `test_interval` (a bootstrap interval for each) and `cv` (the cross-validation on the training
split that training wrote to paths.cv: mean, standard deviation, interval and fold scores).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..artifact.meta import ArtifactError
from ..artifact.read import load_artifacts
from ..data import load_schema, read_split
from ..evaluate import metrics_json, prediction_rows, score
from ..features import split_xy
from ..params import Params
from ..stats.resampling import test_intervals
from ..utils import files
from ..utils.errors import PipelineError


def read_cv(path: Path) -> dict[str, Any]:
    try:
        cv: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PipelineError(
            f"cannot read the cross-validation at {path}: run `make repro`."
        ) from error
    return cv


def run(params: Params) -> None:
    """Score the trained model on the test split; write the DVC metrics and plot files."""
    paths = params.paths
    try:
        model, _ = load_artifacts(Path(paths.model_dir))
    except ArtifactError as error:
        raise PipelineError(str(error)) from error
    schema = load_schema(Path(paths.schema_))
    x, y = split_xy(read_split(Path(paths.test), schema), schema.features, schema.target)
    metrics: dict[str, Any] = score(model, x, y, schema.task)
    shown = dict(metrics)
    metrics["test_interval"] = test_intervals(
        model, x, y, schema.task, params.evaluation, params.seed
    )
    metrics["cv"] = read_cv(Path(paths.cv))
    files.write_csv(Path(paths.predictions), prediction_rows(model, x, y))
    files.write_text(Path(paths.metrics), metrics_json(metrics))
    print(f"evaluate: {shown}")
