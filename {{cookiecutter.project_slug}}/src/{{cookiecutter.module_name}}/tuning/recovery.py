"""Trials a killed process left running: kept when their MLflow run had finished, else marked
failed and queued again with the same values."""

from __future__ import annotations

from typing import Any

from .runs import end_trial_run


def recover(study: Any, client: Any, metric: str) -> None:
    """Trials left RUNNING by a process that is gone: recorded ones (the MLflow run finished) are
    told to the study; the others are marked failed and queued again with the same values."""
    from mlflow.exceptions import MlflowException
    from optuna.trial import TrialState

    from ..tracking.dead_runs import owner_alive

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if owner_alive(trial.user_attrs.get("process", {})):
            continue
        run_id = trial.user_attrs.get("mlflow_run_id")
        run = None
        if run_id:
            try:
                run = client.get_run(run_id)
            except MlflowException:
                run = None
        value = run.data.metrics.get(f"cv_{metric}_mean") if run is not None else None
        if run is not None and run.info.status == "FINISHED" and value is not None:
            study.tell(trial.number, value, skip_if_finished=True)
            print(f"tune: trial {trial.number} had finished: its value is kept")
            continue
        if run is not None and run.info.status == "RUNNING":
            end_trial_run(client, run_id, "FAIL")
        study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        print(f"tune: trial {trial.number} was killed: queued again with the same values")
