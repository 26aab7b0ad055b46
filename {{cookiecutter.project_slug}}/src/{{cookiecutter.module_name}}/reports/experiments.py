"""The rows `make compare` compares: the DVC experiments (`dvc exp show`, with the fold scores of
each revision's cross-validation file) and the newest MLflow runs of the task, as one Row each."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..params import Params
from ..utils.errors import PipelineError, first_line

DEFAULT_RUNS = 10


@dataclass(frozen=True)
class Row:
    """One experiment or run: where it comes from, its name, its flat params and metrics."""

    source: str  # "DVC" or "MLflow"
    name: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    # The cross-validation: metric -> {mean, std, low, high}; metric -> fold scores; its folds.
    cv: dict[str, dict[str, float]] = field(default_factory=dict)
    folds: dict[str, list[float]] = field(default_factory=dict)
    split_id: str | None = None
    k: int | None = None
    run_id: str | None = None
    rev: str | None = None  # of a DVC row: "workspace" or a git revision


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested params as {"model.estimator.n_estimators": "100"}: spelt the way MLflow logs them."""
    if isinstance(value, Mapping):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: str(value)}


def dvc_rows(exp_show: Sequence[Mapping[str, Any]]) -> list[Row]:
    """The rows of `dvc exp show --json`: the workspace, each commit and its experiments.

    DVC leaves lists out of the metrics it shows: the fold scores are read by fold_scores_at.
    """
    rows = []

    def add(entry: Mapping[str, Any], name: str) -> None:
        data = entry.get("data") or {}
        if entry.get("error") or not data:
            return
        params: dict[str, str] = {}
        for content in (data.get("params") or {}).values():
            params.update(flatten(content.get("data") or {}))
        metrics: dict[str, float] = {}
        cv: dict[str, Any] = {}
        for content in (data.get("metrics") or {}).values():
            values = content.get("data") or {}
            metrics.update({k: v for k, v in values.items() if isinstance(v, int | float)})
            found = values.get("cv")
            cv = found if isinstance(found, dict) else cv
        summaries = {m: v for m, v in cv.items() if isinstance(v, dict) and "mean" in v}
        rows.append(
            Row(
                "DVC",
                name,
                params,
                metrics,
                cv={
                    m: {k: v[k] for k in ("mean", "std", "low", "high")}
                    for m, v in summaries.items()
                },
                folds={m: list(v.get("folds") or []) for m, v in summaries.items()},
                split_id=cv.get("split_id"),
                k=cv.get("k"),
                rev=str(entry.get("rev", "")) or None,
            )
        )

    for commit in exp_show:
        rev = str(commit.get("rev", ""))
        add(commit, "workspace" if rev == "workspace" else commit.get("name") or rev[:7])
        for experiment in commit.get("experiments") or []:
            for entry in experiment.get("revs") or []:
                add(entry, entry.get("name") or str(entry.get("rev", ""))[:7])
    # An unchanged workspace repeats the last commit: one row is enough.
    if len(rows) > 1 and rows[0].name == "workspace" and same(rows[0], rows[1]):
        rows.pop(0)
    return rows


def fold_scores_at(rev: str, path: str) -> dict[str, list[float]]:
    """The fold scores in the cross-validation file (paths.cv) at a git revision (or the
    workspace); empty when it is not there."""
    if rev == "workspace":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError:
            return {}
    else:
        shown = subprocess.run(
            ["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=False
        )
        if shown.returncode != 0:
            return {}
        text = shown.stdout
    try:
        cv = json.loads(text)
    except ValueError:
        return {}
    return {
        name: list(value["folds"])
        for name, value in cv.items()
        if isinstance(value, dict) and isinstance(value.get("folds"), list)
    }


def same(one: Row, other: Row) -> bool:
    return one.params == other.params and one.metrics == other.metrics


def dvc_experiments() -> list[Row]:
    """`dvc exp show --json` in the current directory, as rows."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dvc", "exp", "show", "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise PipelineError(f"could not run dvc: {error}") from error
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1].removeprefix("ERROR: ")
        raise PipelineError(f"`dvc exp show` failed: {reason}")
    try:
        return dvc_rows(json.loads(result.stdout or "[]"))
    except ValueError as error:
        raise PipelineError(f"`dvc exp show --json` printed no JSON: {error}") from error


def mlflow_runs(experiment: str, task: str, limit: int = DEFAULT_RUNS) -> list[Row]:
    """The newest finished runs of the MLflow experiment that trained a model for this task.

    A tracking server that does not answer raises TrackingServerDown within seconds."""
    from ..tracking.training_run import use_tracking_store

    use_tracking_store()
    import mlflow

    found = mlflow.search_runs(
        experiment_names=[experiment],
        filter_string=f"attributes.status = 'FINISHED' and tags.task = '{task}'",
        order_by=["attributes.start_time DESC"],
        max_results=limit,
        output_format="list",
    )
    return [mlflow_row(run) for run in found]


def mlflow_row(run: Any) -> Row:
    """A run as a row; its fold scores are the history of each cv_<metric>_fold metric."""
    from mlflow import MlflowClient

    metrics = dict(run.data.metrics)
    cv: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        if key.startswith("cv_") and key.rsplit("_", 1)[-1] in ("mean", "std", "low", "high"):
            name, part = key[3:].rsplit("_", 1)
            cv.setdefault(name, {})[part] = value
    client = MlflowClient()
    folds = {
        name: [
            m.value
            for m in sorted(
                client.get_metric_history(run.info.run_id, f"cv_{name}_fold"), key=lambda m: m.step
            )
        ]
        for name in cv
    }
    # The test metrics alone: the cross-validation and the intervals are columns of their own.
    plain = {
        k: v
        for k, v in metrics.items()
        if not k.startswith("cv_") and not k.endswith(("_low", "_high"))
    }
    k = run.data.tags.get("cv_folds")
    return Row(
        "MLflow",
        f"{run.info.run_name or 'run'} ({run.info.run_id[:8]})",
        dict(run.data.params),
        plain,
        cv=cv,
        folds=folds,
        split_id=run.data.tags.get("cv_split_id"),
        k=int(k) if k and k.isdigit() else None,
        run_id=run.info.run_id,
    )


def collect(params: Params, runs: int = DEFAULT_RUNS) -> tuple[list[Row], list[str]]:
    """All rows, and a note for each source that could not be read (so the rest still shows)."""
    rows: list[Row] = []
    problems: list[str] = []
    try:
        found = dvc_experiments()
        for row in found:
            if row.rev and row.cv:
                row.folds.update(fold_scores_at(row.rev, params.paths.cv))
        rows += found
    except PipelineError as error:
        problems.append(f"DVC experiments: {error}")
    if runs > 0:
        try:
            rows += mlflow_runs(params.mlflow.experiment, params.data.task, runs)
        except Exception as error:  # an unreachable tracking server must not stop the report
            problems.append(f"MLflow runs: {first_line(error)}")
    return rows, problems
