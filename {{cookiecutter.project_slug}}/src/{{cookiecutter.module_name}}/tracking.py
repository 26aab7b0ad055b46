"""MLflow helpers: where the store is, what a training run logs, and sweep parent runs.

Only training, the Hydra sweep callback and the promote command import this module, and mlflow is
imported inside the functions: the serving path (artifacts.py, predict.py, the API) never loads it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from .artifacts import META_FILE, ModelMeta
from .params import Params

DEFAULT_TRACKING_URI = "sqlite:///mlflow.db"
# Set by SweepParentRun for the jobs of a multirun sweep: their runs become its children.
SWEEP_PARENT_ENV = "PIPELINE_SWEEP_PARENT_RUN_ID"


def tracking_uri() -> str:
    """MLFLOW_TRACKING_URI from the environment or .env, else the sqlite store.

    The one place the setting is read.
    """
    from dotenv import load_dotenv

    load_dotenv(Path(".env"), override=False)
    return os.environ.get("MLFLOW_TRACKING_URI") or DEFAULT_TRACKING_URI


def use_tracking_store() -> None:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri())


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


def flatten(cfg: DictConfig | Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    """{"model.estimator.n_estimators": "100", ...}: the resolved config as MLflow params."""
    container = OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else cfg
    flat: dict[str, str] = {}
    for key, value in container.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


# What loading the logged model needs. Listing them saves MLflow ~10 s of inferring them per run.
MODEL_REQUIREMENTS = ("scikit-learn", "skops", "numpy", "pandas", "scipy")


def model_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS]


def log_training_run(
    params: Params,
    model: Any,
    example: pd.DataFrame,
    meta: ModelMeta,
    tags: Mapping[str, str],
) -> tuple[str, str | None]:
    """Log one training run (params, metrics, tags, model, its metadata) and register the model.

    Returns (run_id, registered model version). In a sweep the run is a child of the sweep's run.
    """
    import mlflow
    from mlflow.models import infer_signature
    from skops.io import dumps, get_untrusted_types

    use_tracking_store()
    mlflow.set_experiment(params.mlflow.experiment)
    parent = os.environ.get(SWEEP_PARENT_ENV)
    with mlflow.start_run(run_name=params.name, parent_run_id=parent, tags=dict(tags)) as run:
        mlflow.log_params(flatten(params.model_dump(mode="json", by_alias=True)))
        mlflow.log_metrics(dict(meta.metrics))
        # What the API needs to serve this run's model from MLflow (MODEL_URI): features, kinds.
        mlflow.log_text(meta.to_json(), META_FILE)
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(example, model.predict(example)),
            input_example=example,
            pip_requirements=model_requirements(),
            registered_model_name=params.mlflow.registered_model,
            # We built this estimator ourselves, so every type in it is trusted to load back.
            skops_trusted_types=get_untrusted_types(data=dumps(model)),
        )
    version = info.registered_model_version
    return run.info.run_id, None if version is None else str(version)


class SweepParentRun(Callback):
    """Hydra callback: one MLflow parent run per multirun sweep; each job logs a child run."""

    def __init__(self) -> None:
        self.run_id: str | None = None

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        import mlflow
        from mlflow import MlflowClient

        use_tracking_store()
        experiment = mlflow.set_experiment(config.mlflow.experiment)
        run = MlflowClient().create_run(
            experiment.experiment_id, run_name=f"sweep-{config.name}", tags={"sweep": "true"}
        )
        self.run_id = run.info.run_id
        # Jobs (in this process or in joblib workers started after this) inherit the environment.
        os.environ[SWEEP_PARENT_ENV] = self.run_id

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from mlflow import MlflowClient

        if self.run_id is not None:
            MlflowClient().set_terminated(self.run_id)
            os.environ.pop(SWEEP_PARENT_ENV, None)
