"""MLflow helpers: what a training run logs and registers (where the store is, and whether its
server answers: server.py).

Only training, the Hydra sweep callback (sweep.py) and the promote command import this module, and
mlflow is imported inside the functions: the serving path (artifact/, predict.py, the API) never
loads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from ..artifact.meta import META_FILE, ModelMeta
from ..params import Params
from ..utils.errors import DISK_FULL, PipelineError, first_line
from .logged_model import model_requirements, save_model
from .server import check_tracking_store, tracking_uri

# Set by sweep.SweepParentRun for the jobs of a multirun sweep: their runs become its children.
SWEEP_PARENT_ENV = "PIPELINE_SWEEP_PARENT_RUN_ID"
# Tags every training run with config_hash(): how a resumed sweep finds its finished points.
CONFIG_HASH_TAG = "config_hash"


def use_tracking_store() -> None:
    """Point MLflow at the project's tracking store (checked first: check_tracking_store)."""
    uri = check_tracking_store()
    import mlflow

    mlflow.set_tracking_uri(uri)


class TrackingFailed(PipelineError):
    """The tracking store failed during a training (a lost server, a full disk): one line."""


@contextmanager
def tracking_errors(doing: str) -> Iterator[None]:
    """Turn what a failing tracking store raises (MLflow's errors, a lost connection, a full
    disk) into TrackingFailed naming the store and what was being done."""
    from mlflow.exceptions import MlflowException

    from .server import shown

    try:
        yield
    except (MlflowException, OSError) as error:
        if isinstance(error, OSError) and error.errno in DISK_FULL:
            where = f" writing {error.filename}" if error.filename else ""
            reason = f"no space left on the device{where}"
        else:
            reason = first_line(error)
        raise TrackingFailed(
            f"{doing} in the MLflow tracking store at {shown(tracking_uri())} failed: {reason}"
        ) from error


# What the pipeline and `make report` write into git-tracked files: their changes do not make the
# tree dirty (else a second reproduction would record dirty=True because the first one updated
# dvc.lock, or because the report of the last model was rewritten).
PIPELINE_WRITES = ("dvc.lock", "params.yaml", "reports", "docs/report.md", "docs/report")


def git_state(
    cwd: Path = Path(), ignore: tuple[str, ...] = PIPELINE_WRITES
) -> tuple[str | None, bool | None]:
    """(commit, dirty) of the repository, (None, None) outside git.

    Untracked files, and the pipeline's own outputs (`ignore`), do not count as changes.
    """
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, check=True
        ).stdout.strip()
        status = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                *(f":(exclude){path}" for path in ignore),
            ],
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None, None
    return commit, bool(status.strip())


def flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """{"model.estimator.n_estimators": "100", ...}: nested settings as MLflow params."""
    flat: dict[str, str] = {}
    for key, value in settings.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@contextmanager
def training_run(params: Params, tags: Mapping[str, str]) -> Iterator[Any]:
    """The MLflow run of one training, started before the fit, so a run exists while it trains.

    Runs left RUNNING by killed trainings are ended as FAILED (dead_runs.py). The run's tags name
    this process. It ends FINISHED when the block completes; when it raises (an error, Ctrl-C),
    what the run uploaded is deleted and it ends FAILED. A store that fails on the way is one
    TrackingFailed line; the run it could not end is ended (and cleaned) by the next training.
    In a sweep it is a child of the sweep's parent run.
    """
    import mlflow
    from mlflow import MlflowClient

    from .dead_runs import discard_uploads, end_stale_runs, process_tags
    from .server import TrackingServerDown, check_tracking_server

    use_tracking_store()
    client = MlflowClient()
    with tracking_errors("starting the training's run"):
        experiment = mlflow.set_experiment(params.mlflow.experiment)
        end_stale_runs(client, experiment.experiment_id)
        parent = os.environ.get(SWEEP_PARENT_ENV)
        run_tags = {**tags, **process_tags()}
        run = mlflow.start_run(run_name=params.name, parent_run_id=parent, tags=run_tags)
    try:
        yield run
    except BaseException as error:
        try:
            if isinstance(error, TrackingFailed):  # asked again only if it answers at once
                check_tracking_server(tracking_uri(), cached=False)
            with tracking_errors("ending the failed run"):
                discard_uploads(client, client.get_run(run.info.run_id))
                mlflow.end_run("FAILED")
        except PipelineError as cleanup:
            why = "the store did not answer" if isinstance(cleanup, TrackingServerDown) else cleanup
            print(
                f"tracking: run {run.info.run_id} is left RUNNING ({why}): the next training"
                " marks it FAILED and deletes its uploads."
            )
        raise
    with tracking_errors("ending the run"):
        mlflow.end_run()


def log_training_run(
    params: Params, model: Any, example: pd.DataFrame, meta: ModelMeta, model_file: Path
) -> str:
    """Log params, metrics, the model and its metadata to the active run; the logged model's URI.

    model_file: the model as training wrote and checked it (stage_artifacts), logged as it is.
    Registers nothing: register() does, once the model's files are written and checked.
    """
    from functools import partial
    from types import SimpleNamespace

    import mlflow
    from mlflow.models import Model, infer_signature

    mlflow.log_params(flatten(params.model_dump(mode="json", by_alias=True)))
    mlflow.log_metrics(dict(meta.metrics))
    # What the API needs to serve this run's model from MLflow (MODEL_URI): features, kinds.
    mlflow.log_text(meta.to_json(), META_FILE)
    # MLflow's sklearn flavor, pickled (skops, MLflow's default, writes a file up to 15 times
    # larger for a forest of small trees, and takes seconds), from model_file itself: the model is
    # serialised once, and the store holds the very bytes of model.joblib. Loading either runs code
    # from the file (MLflow says so for skops too): the store, like models/, must hold only models
    # you trust.
    flavor = SimpleNamespace(__name__="mlflow.sklearn", save_model=partial(save_model, model_file))
    info = Model.log(
        artifact_path=None,  # MLflow 3 names the logged model instead
        name="model",
        flavor=flavor,
        sk_model=model,
        serialization_format="pickle",
        signature=infer_signature(example, model.predict(example)),
        input_example=example,
        pip_requirements=model_requirements(),
        # stage_artifacts() loaded these bytes back and checked them: not loaded a second time.
        validate_serving_input=False,
    )
    return str(info.model_uri)


def register(name: str, model_uri: str) -> str:
    """Register the logged model as a new version of `name`; the version number."""
    import mlflow

    return str(mlflow.register_model(model_uri, name).version)


def config_hash(params: Params) -> str:
    """A stable digest of the resolved configuration, without `paths` (in a Hydra run they name
    its output directory): equal configurations give equal digests, in any process."""
    settings = params.model_dump(mode="json", by_alias=True, exclude={"paths"})
    canonical = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def config_tags(params: Params) -> dict[str, str]:
    """The tags that name a run's configuration: a training's, and a tuning trial's."""
    return {
        "config_name": params.name,
        "model": params.model.name,
        "data": params.data.name,
        CONFIG_HASH_TAG: config_hash(params),
    }
