"""A model logged to MLflow (MODEL_URI): the scikit-learn model, its metadata and the run's lineage.

mlflow is imported only when a model is loaded from here (~2 s and ~1800 modules); the tracking
server comes from the environment (MLFLOW_TRACKING_URI), as for training. A server that does not
answer is asked once, for seconds, not retried for minutes: the app starts without a model, /health
answers and /ready says which server did not answer.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from {{ cookiecutter.module_name }}.artifact.meta import META_FILE, ArtifactError, ModelMeta
from {{ cookiecutter.module_name }}.tracking.server import bound_http_retries, check_tracking_server
from {{ cookiecutter.module_name }}.utils.errors import PipelineError
from {{ cookiecutter.module_name }}.utils.kinds import Feature

from api.model import ServedModel, serve
from api.model_uri import ModelURI

# MLflow signature column types -> the feature dtypes (kinds.JSON_TYPES) a request sends.
SIGNATURE_DTYPES = {"double": "float", "float": "float", "long": "int", "integer": "int"}
SIGNATURE_DTYPES |= {"string": "str", "boolean": "bool"}


def load_from_mlflow(model_uri: ModelURI) -> ServedModel:
    """Load a logged scikit-learn model and its metadata from MLflow."""
    bound_http_retries()
    try:
        check_tracking_server(os.environ.get("MLFLOW_TRACKING_URI", ""))
    except PipelineError as error:
        raise ArtifactError(f"could not load {model_uri}: {error}") from error
    import mlflow

    try:
        estimator = mlflow.sklearn.load_model(model_uri.text)
        client = mlflow.MlflowClient()
        run_id, version = resolve_run(client, model_uri)
        run = client.get_run(run_id)
        meta = download_meta(mlflow, run_id) or meta_from_run(mlflow, model_uri, run)
    except ArtifactError:
        raise
    except Exception as error:  # mlflow raises many types: all mean "cannot serve this URI"
        raise ArtifactError(f"could not load {model_uri} from MLflow: {error}") from error
    # model_meta.json holds no lineage (it would change the model's hash): the run is the record.
    meta = replace(meta, run_id=run_id, model_version=version, **lineage_of(run))
    # MLflow keeps the scikit-learn model only; the ONNX export lives in the model directory.
    reason = "a model from MLflow (MODEL_URI) has no ONNX export"
    return serve(estimator, meta, model_uri.text, reason)


def lineage_of(run: Any) -> dict[str, Any]:
    """The commit, its state and the training time, from the MLflow run's tags and start."""
    tags = run.data.tags
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc)
    return {
        "git_commit": tags.get("git_commit") if tags.get("git_commit") != "None" else None,
        "git_dirty": {"True": True, "False": False}.get(tags.get("git_dirty", "")),
        "trained_at": started.isoformat(timespec="seconds"),
    }


def resolve_run(client: Any, model_uri: ModelURI) -> tuple[str, str | None]:
    """The run that logged the model, and the registered version when the URI names one."""
    if model_uri.run_id is not None:
        return model_uri.run_id, None
    if model_uri.alias is not None:
        version = client.get_model_version_by_alias(model_uri.name, model_uri.alias)
    else:
        version = client.get_model_version(model_uri.name, model_uri.version)
    return version.run_id, str(version.version)


def download_meta(mlflow: Any, run_id: str) -> ModelMeta | None:
    """The run's model_meta.json artifact, when training logged one."""
    with tempfile.TemporaryDirectory() as tmp:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=META_FILE, dst_path=tmp
            )
        except Exception:  # absent: fall back to the signature
            return None
        return ModelMeta.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def meta_from_run(mlflow: Any, model_uri: ModelURI, run: Any) -> ModelMeta:
    """Metadata rebuilt from the logged signature and the run's tags, params and metrics."""
    signature = mlflow.models.get_model_info(model_uri.text).signature
    if signature is None:
        raise ArtifactError(f"{model_uri} was logged without a signature: cannot build a request.")
    features = [
        Feature.from_dict(
            {"name": column.name, "dtype": SIGNATURE_DTYPES.get(column.type.name, column.type.name)}
        )
        for column in signature.inputs.inputs
    ]
    tags, params = run.data.tags, run.data.params
    return ModelMeta(
        model_name=model_uri.name or model_uri.text,
        features=features,
        target=params.get("data.target", "target"),
        task=tags.get("task", "classification"),
        data_hash=tags.get("data_hash"),
        config_name=tags.get("config_name"),
        metrics=dict(run.data.metrics),
    )
