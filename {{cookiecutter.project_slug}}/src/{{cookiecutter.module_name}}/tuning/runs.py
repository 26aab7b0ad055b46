"""The study in MLflow: one parent run per study, found again on a resume, and one child run per
trial (its configuration's tags and settings, its end state)."""

from __future__ import annotations

from typing import Any

from ..params import Params
from .study import Study

STUDY_TAG = "tune_study"
TRIAL_TAG = "tune_trial"
STATE_TAG = "tune_state"
PARENT_TAG = "mlflow.parentRunId"
# How a trial's run ends, by the trial's final state.
RUN_STATUS = {"COMPLETE": "FINISHED", "PRUNED": "KILLED", "FAIL": "FAILED"}


def parent_run(client: Any, experiment_id: str, name: str) -> str:
    """The study's MLflow parent run: found by its tag when the study is resumed, else created."""
    from ..tracking.dead_runs import process_tags
    from ..tracking.sweep import SweepParentRun

    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.{STUDY_TAG} = '{name}' and tags.{TRIAL_TAG} = 'parent'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if found:
        SweepParentRun.take_over(client, found[0])
        return str(found[0].info.run_id)
    tags = {STUDY_TAG: name, TRIAL_TAG: "parent", **process_tags()}
    return str(client.create_run(experiment_id, run_name=f"tune-{name}", tags=tags).info.run_id)


def start_trial_run(client: Any, spec: Study, trial: Any, params: Params) -> str:
    """The trial's child run, tagged like a training of the same configuration, with its
    settings as params; its id (also kept on the trial, where recovery.py looks for it)."""
    from mlflow.entities import Param

    from ..tracking.dead_runs import process_tags
    from ..tracking.training_run import config_tags, flatten

    tags = {
        PARENT_TAG: spec.parent_run_id,
        STUDY_TAG: spec.name,
        TRIAL_TAG: str(trial.number),
        **config_tags(params),
        **process_tags(),
    }
    run = client.create_run(spec.experiment_id, run_name=f"trial-{trial.number}", tags=tags)
    run_id = str(run.info.run_id)
    trial.set_user_attr("mlflow_run_id", run_id)
    logged = flatten(params.model_dump(mode="json", by_alias=True, exclude={"paths"}))
    items = [Param(k, v[:6000]) for k, v in logged.items()]
    for start in range(0, len(items), 100):  # MLflow takes at most 100 params a request
        client.log_batch(run_id, params=items[start : start + 100])
    return run_id


def end_trial_run(client: Any, run_id: str, state: str) -> None:
    """End the trial's run as its trial ended: COMPLETE, PRUNED or FAIL."""
    client.set_tag(run_id, STATE_TAG, state)
    client.set_terminated(run_id, RUN_STATUS[state])
