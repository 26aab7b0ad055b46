"""The baseline of a comparison (a row named by the user, the registered champion's run, or the
best cross-validated row) and the paired test of a row against it on their common folds."""

from __future__ import annotations

from ..evaluate import PRIMARY_METRIC
from ..params import Params
from ..stats.intervals import PairedTest, paired_test
from ..utils.errors import PipelineError
from .experiments import Row, mlflow_row

# The significance level of the paired tests.
ALPHA = 0.05


def paired(row: Row, baseline: Row | None, metric: str, confidence: float) -> PairedTest | None:
    """The paired test of row against the baseline on their common folds, when they share them."""
    if baseline is None or row is baseline or not row.split_id or row.split_id != baseline.split_id:
        return None
    mine, theirs = row.folds.get(metric) or [], baseline.folds.get(metric) or []
    if len(mine) != len(theirs) or len(mine) < 2 or not row.k or row.k < 2:
        return None
    return paired_test(mine, theirs, 1 / (row.k - 1), confidence)


def find_baseline(rows: list[Row], params: Params, wanted: str | None) -> Row | None:
    """The row named by `wanted`; else the registered champion's run; else the best CV score."""
    primary, higher = PRIMARY_METRIC[params.data.task]
    if wanted:
        for row in rows:
            if wanted in (row.name, row.run_id) or (row.run_id or "").startswith(wanted):
                return row
            if row.name.startswith(f"{wanted} (") or row.name == wanted:
                return row
        raise PipelineError(f"no experiment or run named {wanted!r} to compare against.")
    champion = champion_run(params)
    if champion is not None:
        for row in rows:
            if row.run_id == champion:
                return row
        from mlflow import MlflowClient

        row = mlflow_row(MlflowClient().get_run(champion))
        rows.append(row)
        return row
    scored = [row for row in rows if "mean" in row.cv.get(primary, {})]
    if not scored:
        return None
    best = max if higher else min
    return best(scored, key=lambda row: row.cv[primary]["mean"])


def champion_run(params: Params) -> str | None:
    """The run id of the registered model's `champion` version, if there is one."""
    name = params.mlflow.registered_model
    if not name:
        return None
    try:
        from mlflow import MlflowClient

        from ..tracking.training_run import use_tracking_store

        use_tracking_store()
        return str(MlflowClient().get_model_version_by_alias(name, "champion").run_id)
    except Exception:  # no such model or alias, or no server: fall back to the best row
        return None
