"""The model the API serves: the estimator, its metadata, and how to hand it a batch of records.

Two sources: the pipeline's artifact directory (default, no mlflow import) or an MLflow model URI
(MODEL_URI). From the directory, the ONNX export is served when training wrote a checked one
(microseconds per record, no scikit-learn import), else the scikit-learn model. Any failure to load
becomes an ArtifactError whose message says what to do.
"""

from __future__ import annotations

import json
import logging
import math
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from functools import cached_property
from operator import itemgetter
from pathlib import Path
from typing import Any

import numpy as np
from pydantic_core import to_json

from {{ cookiecutter.module_name }}.artifacts import (
    META_FILE,
    ArtifactError,
    Feature,
    ModelMeta,
    load_artifacts,
    load_meta,
    load_onnx,
    onnx_probabilities,
)

from api.settings import Settings

logger = logging.getLogger("uvicorn.error")  # uvicorn's logger: lines land in the server log

NUMERIC_DTYPES = {"float", "int"}
KNOWN_DTYPES = {"float", "int", "str", "bool"}  # what api.schemas can build a request field for


class NonFiniteOutput(ValueError):
    """The model answered NaN or infinity, which JSON cannot carry: a fault of the model."""


@dataclass(frozen=True)
class ServedModel:
    """A loaded model plus what the request path needs, all decided once at load time."""

    meta: ModelMeta
    source: str
    runtime: str  # "onnx" (model.onnx, checked at training time) or "scikit-learn"
    classes: list[str] | None  # column order of the probabilities; None when there are none
    score: Callable[[Any], tuple[list[Any], list[list[float]] | None]]
    wants_frame: bool  # the scikit-learn model needs named or mixed-type columns: a DataFrame
    dtype: Any = np.float64  # of the matrix `score` takes when it does not want a DataFrame

    @cached_property
    def feature_names(self) -> list[str]:
        return [feature.name for feature in self.meta.features]

    @cached_property
    def _row_of(self) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
        """A record's values in feature order (built once: this runs for every record)."""
        getter = itemgetter(*self.feature_names)
        if len(self.feature_names) == 1:  # itemgetter of one key returns the value, not a 1-tuple
            return lambda record: (getter(record),)
        return getter

    def predict(self, records: list[dict[str, Any]]) -> tuple[list[Any], list[list[float]] | None]:
        """Predictions (and class probabilities) for validated records, in request order."""
        return self.score(self._as_input(self._rows(records)))

    def answer(self, records: list[dict[str, Any]]) -> bytes:
        """The /predict response body (schemas.PredictResponse) for validated records.

        The route and the fast lane both send these bytes. pydantic's serializer, not json.dumps:
        ten times faster on a large batch, and what FastAPI itself uses for response models.
        """
        predictions, probabilities = self.predict(records)
        body = {
            "predictions": predictions,
            "classes": self.classes,
            "probabilities": probabilities,
            "model_name": self.meta.model_name,
            "model_version": self.meta.model_version,
        }
        rendered = to_json(body, inf_nan_mode="constants")
        # NaN and Infinity are not JSON. The byte search is only a cheap first check: a class label
        # may contain those letters too.
        if (b"NaN" in rendered or b"Infinity" in rendered) and not finite(body):
            raise NonFiniteOutput(
                "the model returned NaN or infinity for this request; JSON has no such numbers"
            )
        return rendered

    def _rows(self, records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        return list(map(self._row_of, records))

    def _as_input(self, rows: list[tuple[Any, ...]]) -> Any:
        if not self.wants_frame:
            return np.array(rows, dtype=self.dtype)
        import pandas as pd  # only for models that need named or mixed-type columns

        return pd.DataFrame.from_records(rows, columns=self.feature_names)


def finite(body: dict[str, Any]) -> bool:
    """True when no prediction or probability in the /predict body is NaN or infinite."""
    values = [value for value in body["predictions"] if isinstance(value, float)]
    values += [value for row in body["probabilities"] or [] for value in row]
    return all(math.isfinite(value) for value in values)


def check_features(meta: ModelMeta, source: str) -> None:
    if not meta.features:
        raise ArtifactError(
            f"{source}: the model metadata lists no features to build a request from."
        )
    unknown = [f"{f.name} ({f.dtype})" for f in meta.features if f.dtype not in KNOWN_DTYPES]
    if unknown:
        raise ArtifactError(
            f"{source}: cannot build a request for features {', '.join(unknown)};"
            f" feature dtypes must be one of {', '.join(sorted(KNOWN_DTYPES))}."
        )


def serve(estimator: Any, meta: ModelMeta, source: str) -> ServedModel:
    """Serve a scikit-learn estimator, checking it can do what the metadata promises."""
    if not hasattr(estimator, "predict"):
        raise ArtifactError(f"{source}: the saved object has no predict() method.")
    check_features(meta, source)
    classes = None
    if hasattr(estimator, "predict_proba") and hasattr(estimator, "classes_"):
        classes = [str(label) for label in estimator.classes_]

    def score(inputs: Any) -> tuple[list[Any], list[list[float]] | None]:
        predictions = estimator.predict(inputs).tolist()
        if classes is None:
            return predictions, None
        return predictions, estimator.predict_proba(inputs).tolist()

    numeric = all(feature.dtype in NUMERIC_DTYPES for feature in meta.features)
    wants_frame = hasattr(estimator, "feature_names_in_") or not numeric
    return ServedModel(meta, source, "scikit-learn", classes, score, wants_frame)


def serve_onnx(session: Any, meta: ModelMeta, source: str) -> ServedModel:
    """Serve the checked ONNX export: a numeric matrix in, labels (and probabilities) out."""
    check_features(meta, source)
    model_input = session.get_inputs()[0]
    input_name = model_input.name
    # Tree models are exported for float32 inputs (what scikit-learn's trees compare).
    dtype = np.float32 if model_input.type == "tensor(float)" else np.float64
    outputs = [output.name for output in session.get_outputs()]
    has_probabilities = len(outputs) > 1 and meta.classes is not None
    classes = meta.classes if has_probabilities else None
    wanted = outputs[:2] if has_probabilities else outputs[:1]

    def score(inputs: np.ndarray) -> tuple[list[Any], list[list[float]] | None]:
        labels, *probabilities = session.run(wanted, {input_name: inputs})
        return labels.tolist(), onnx_probabilities(probabilities[0]) if probabilities else None

    return ServedModel(meta, source, "onnx", classes, score, wants_frame=False, dtype=dtype)


def load_model(settings: Settings) -> ServedModel:
    """The model the settings name: from MLflow when MODEL_URI is set, else from MODEL_DIR."""
    if settings.model_uri:
        return load_from_mlflow(settings.model_uri)
    return load_from_dir(settings.model_dir)


def load_from_dir(model_dir: Path) -> ServedModel:
    """model.onnx when training exported a checked one (fast), else the scikit-learn model."""
    meta = load_meta(model_dir)
    try:
        session = load_onnx(model_dir, meta)
    except Exception as error:  # a damaged model.onnx: the scikit-learn model is still right
        logger.warning("Cannot load %s/model.onnx (%s): serving scikit-learn.", model_dir, error)
        session = None
    if session is not None:
        return serve_onnx(session, meta, str(model_dir))
    if meta.onnx_parity is None:
        logger.info("No checked ONNX export in %s: serving the scikit-learn model.", model_dir)
    try:
        estimator, meta = load_artifacts(model_dir)
    except ArtifactError:
        raise
    except Exception as error:  # unpickling runs arbitrary code: report any failure the same way
        raise ArtifactError(f"could not load the model in {model_dir}: {error}") from error
    return serve(estimator, meta, str(model_dir))


def load_from_mlflow(model_uri: str) -> ServedModel:
    """Load a logged scikit-learn model and its metadata from MLflow (tracking URI from the env)."""
    import mlflow  # ~2 s and ~1800 modules: imported only when MLflow serving is configured

    try:
        estimator = mlflow.sklearn.load_model(model_uri)
        run_id, version = resolve_run(mlflow.MlflowClient(), model_uri)
        meta = download_meta(mlflow, run_id) or meta_from_run(mlflow, model_uri, run_id)
    except ArtifactError:
        raise
    except Exception as error:  # mlflow raises many types: all mean "cannot serve this URI"
        raise ArtifactError(f"could not load {model_uri} from MLflow: {error}") from error
    return serve(estimator, replace(meta, run_id=run_id, model_version=version), model_uri)


def resolve_run(client: Any, model_uri: str) -> tuple[str, str | None]:
    """The run that logged the model, and the registered version when the URI names one."""
    if model_uri.startswith("runs:/"):
        return model_uri.split("/")[1], None
    name_part = model_uri.removeprefix("models:/")
    if "@" in name_part:
        name, alias = name_part.split("@", 1)
        version = client.get_model_version_by_alias(name, alias)
    else:
        name, number = name_part.split("/", 1)
        version = client.get_model_version(name, number)
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


# MLflow signature column types -> the feature dtypes api.schemas knows.
SIGNATURE_DTYPES = {"double": "float", "float": "float", "long": "int", "integer": "int"}
SIGNATURE_DTYPES |= {"string": "str", "boolean": "bool"}


def meta_from_run(mlflow: Any, model_uri: str, run_id: str) -> ModelMeta:
    """Metadata rebuilt from the logged signature and the run's tags, params and metrics."""
    signature = mlflow.models.get_model_info(model_uri).signature
    if signature is None:
        raise ArtifactError(f"{model_uri} was logged without a signature: cannot build a request.")
    features = [
        Feature(column.name, SIGNATURE_DTYPES.get(str(column.type.name), str(column.type.name)))
        for column in signature.inputs.inputs
    ]
    run = mlflow.MlflowClient().get_run(run_id)
    tags, params = run.data.tags, run.data.params
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc)
    return ModelMeta(
        model_name=model_uri.removeprefix("models:/").split("@")[0].split("/")[0],
        features=features,
        target=params.get("data.target", "target"),
        git_commit=tags.get("git_commit"),
        git_dirty={"True": True, "False": False}.get(tags.get("git_dirty", "")),
        data_hash=tags.get("data_hash"),
        config_name=tags.get("config_name"),
        trained_at=started.isoformat(timespec="seconds"),
        metrics=dict(run.data.metrics),
    )
