"""Multirun sweeps in MLflow: one parent run per sweep, and resuming an interrupted sweep.

`make sweep` (`python -m {{ cookiecutter.module_name }}.train --multirun ...`) runs one job per point. Each job's
training run is a child of the sweep's parent run, tagged with the hash of its resolved
configuration (tracking.config_hash). The parent run is tagged with the sweep key: a hash of the
sweep's settings (the composed configuration and the overrides; not the launcher). Running the same
sweep again takes over that parent run, and every point that already has a FINISHED child run with
its configuration hash is skipped; a point whose run failed, or was left RUNNING by a killed
process (dead_runs.py marks those FAILED first), runs again. Each job says which point it is on:

    sweep: point 3/8 skipped: finished run 9f2c...    (model=random_forest seed=3)
    sweep: point 4/8: model=logistic_regression seed=3

`hydra.callbacks.mlflow_sweep.resume=false` (`make sweep FORCE=1`) starts a new parent run
instead, so every point runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from dataclasses import dataclass
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from ..utils.errors import PipelineError, exit_on_error
from .dead_runs import ENDED_TAG, HOST_TAG, PID_TAG, is_this_process, process_tags
from .training_run import CONFIG_HASH_TAG, SWEEP_PARENT_ENV, use_tracking_store

# Set by SweepParentRun for the jobs: how many points the sweep has (for "point 3/8"), and which
# keys it varies (each job names its values of those).
SWEEP_POINTS_ENV = "PIPELINE_SWEEP_POINTS"
SWEEP_KEYS_ENV = "PIPELINE_SWEEP_KEYS"
SWEEP_TAG = "sweep"
SWEEP_KEY_TAG = "sweep_key"


def sweep_key(config: DictConfig) -> str:
    """A digest of what the sweep computes: the composed configuration (without the `hydra`
    node: launcher, output directories, times) and the sweep's overrides, in any order."""
    task = OmegaConf.masked_copy(config, [str(key) for key in config if key != "hydra"])
    sweeper_params = config.hydra.sweeper.get("params")
    settings = {
        "config": OmegaConf.to_container(task, resolve=True),
        "overrides": sorted(config.hydra.overrides.task),
        "sweeper": OmegaConf.to_container(sweeper_params) if sweeper_params else None,
    }
    canonical = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def swept_values(config: DictConfig) -> dict[str, int] | None:
    """{key: number of values} of the keys the sweep varies (Hydra's basic sweeper: the product
    of the counts is the number of jobs); None for another sweeper or a non-discrete sweep."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    if not str(config.hydra.sweeper.get("_target_", "")).endswith(".BasicSweeper"):
        return None
    arguments = list(config.hydra.overrides.task)
    arguments += [f"{k}={v}" for k, v in (config.hydra.sweeper.get("params") or {}).items()]
    swept: dict[str, int] = {}
    for override in OverridesParser.create().parse_overrides(arguments):
        key = override.get_key_element()
        swept.pop(key, None)  # a later override of the same key wins, as in the sweeper
        if override.is_sweep_override():
            if not override.is_discrete_sweep():
                return None
            swept[key] = len(list(override.sweep_string_iterator()))
    return swept


def finished_children(client: Any, parent: Any) -> dict[str, Any]:
    """{config hash: a FINISHED child run} under the parent run."""
    runs = client.search_runs(
        [parent.info.experiment_id],
        filter_string=(
            f"tags.mlflow.parentRunId = '{parent.info.run_id}' and attributes.status = 'FINISHED'"
        ),
        max_results=10000,
    )
    return {r.data.tags[CONFIG_HASH_TAG]: r for r in runs if CONFIG_HASH_TAG in r.data.tags}


@dataclass(frozen=True)
class Point:
    """One job of a running sweep."""

    number: int  # from 1
    total: int | None
    parent_run_id: str
    values: tuple[str, ...]  # the job's overrides of the keys the sweep varies ("key=value")

    def __str__(self) -> str:
        return f"point {self.number}/{self.total or '?'}"

    def describe(self) -> str:
        """The point's values, as `key=value ...` (empty when the sweep varies nothing)."""
        return " ".join(self.values)


def current_point() -> Point | None:
    """The sweep point this job runs, or None outside a sweep with a parent run."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    parent = os.environ.get(SWEEP_PARENT_ENV)
    if not parent or not HydraConfig.initialized() or HydraConfig.get().mode != RunMode.MULTIRUN:
        return None
    hydra = HydraConfig.get()
    total = os.environ.get(SWEEP_POINTS_ENV, "")
    keys = set(filter(None, os.environ.get(SWEEP_KEYS_ENV, "").split(",")))
    overrides = [str(o) for o in hydra.overrides.task]
    return Point(
        number=int(hydra.job.num) + 1,
        total=int(total) if total.isdigit() else None,
        parent_run_id=parent,
        values=tuple(o for o in overrides if o.split("=", 1)[0] in keys),
    )


def finished_run(point: Point, digest: str) -> Any | None:
    """The FINISHED run of this point's configuration under the sweep's parent run, if any."""
    from mlflow import MlflowClient

    use_tracking_store()
    client = MlflowClient()
    return finished_children(client, client.get_run(point.parent_run_id)).get(digest)


class SweepParentRun(Callback):
    """Hydra callback: one MLflow parent run per sweep (taken over when the sweep is run again)."""

    def __init__(self, resume: bool = True) -> None:
        self.resume = resume
        self.run_id: str | None = None
        self.points: int | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        # Hydra turns a callback's exception into a warning and runs the sweep anyway.
        exit_on_error(self.start)(config)

    def start(self, config: DictConfig) -> None:
        import mlflow
        from mlflow import MlflowClient

        from .dead_runs import end_stale_runs

        use_tracking_store()
        client = MlflowClient()
        experiment = mlflow.set_experiment(config.mlflow.experiment)
        end_stale_runs(client, experiment.experiment_id)  # their points run again
        key = sweep_key(config)
        swept = swept_values(config)
        self.points = math.prod(swept.values()) if swept is not None else None
        many = "" if self.points == 1 else "s"
        points = f"{self.points} point{many}" if self.points is not None else "a sweep"
        parent = self.find_parent(client, experiment.experiment_id, key) if self.resume else None
        if parent is None:
            run = client.create_run(
                experiment.experiment_id,
                run_name=f"sweep-{config.name}",
                tags={SWEEP_TAG: "true", SWEEP_KEY_TAG: key, **process_tags()},
            )
            self.run_id = run.info.run_id
            forced = "; FORCE: earlier runs are not reused" if not self.resume else ""
            print(f"sweep: {points}, parent run {self.run_id}{forced}")
        else:
            self.run_id = parent.info.run_id
            self.take_over(client, parent)
            finished = len(finished_children(client, parent))
            print(
                f"sweep: {points}, resuming parent run {self.run_id}: {finished} finished earlier"
                " and will be skipped (FORCE=1 reruns them)"
            )
        # Jobs (in this process, or in joblib/submitit processes started after this) inherit these.
        os.environ[SWEEP_PARENT_ENV] = self.run_id
        if swept is not None:
            os.environ[SWEEP_POINTS_ENV] = str(self.points)
            os.environ[SWEEP_KEYS_ENV] = ",".join(swept)

    @staticmethod
    def find_parent(client: Any, experiment_id: str, key: str) -> Any | None:
        """The latest parent run of this sweep; PipelineError when it is running right now."""
        found = client.search_runs(
            [experiment_id],
            filter_string=f"tags.{SWEEP_KEY_TAG} = '{key}' and tags.{SWEEP_TAG} = 'true'",
            order_by=["attributes.start_time DESC"],
            max_results=1,
        )
        if not found:
            return None
        parent = found[0]
        # Still RUNNING after end_stale_runs: its process lives, unless that is this one (a sweep
        # that failed earlier in this process: Hydra does not end it).
        if parent.info.status == "RUNNING" and not is_this_process(parent.data.tags):
            tags = parent.data.tags
            raise PipelineError(
                f"the same sweep is running now (parent run {parent.info.run_id}, process"
                f" {tags.get(PID_TAG, '?')} on {tags.get(HOST_TAG, '?')}): wait for it to end,"
                " or run a separate sweep with FORCE=1 (hydra.callbacks.mlflow_sweep.resume=false)."
            )
        return parent

    @staticmethod
    def take_over(client: Any, parent: Any) -> None:
        """Make the parent run this process's: its process tags first, then RUNNING."""
        from mlflow.exceptions import MlflowException

        for key, value in process_tags().items():
            client.set_tag(parent.info.run_id, key, value)
        if ENDED_TAG in parent.data.tags:
            with contextlib.suppress(MlflowException):  # another process removed it first
                client.delete_tag(parent.info.run_id, ENDED_TAG)
        client.update_run(parent.info.run_id, status="RUNNING")

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from mlflow import MlflowClient

        if self.run_id is None:
            return
        client = MlflowClient()
        client.set_terminated(self.run_id)
        finished = len(finished_children(client, client.get_run(self.run_id)))
        total = f" of {self.points}" if self.points is not None else ""
        print(f"sweep: done: {finished}{total} points have a finished run under {self.run_id}")
        for name in (SWEEP_PARENT_ENV, SWEEP_POINTS_ENV, SWEEP_KEYS_ENV):
            os.environ.pop(name, None)
