"""The model the API serves: the estimator, its metadata, and how to hand it a batch of records.

Two sources: the pipeline's artifact directory (default, no mlflow import) or an MLflow model URI
(MODEL_URI). From the directory, the ONNX export is served when training wrote a checked one
(microseconds per record, no scikit-learn import), else the scikit-learn model. Any failure to load
becomes an ArtifactError whose message says what to do.
"""

from __future__ import annotations

import importlib.util
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
    ModelMeta,
    load_artifacts,
    load_meta,
    load_onnx,
    onnx_probabilities,
)
from {{ cookiecutter.module_name }}.kinds import JSON_TYPES, NUMERIC, Feature, category_text, numeric_value

from api.settings import Settings

logger = logging.getLogger("uvicorn.error")  # uvicorn's logger: lines land in the server log

KNOWN_DTYPES = set(JSON_TYPES)  # what api.schemas can build a request field for
# What loading model.joblib imports; the ONNX-only image has none of them.
SKLEARN_RUNTIME = ("joblib", "sklearn", "pandas")

Score = Callable[[Any], tuple[list[Any], list[list[float]] | None]]


class NonFiniteOutput(ValueError):
    """The model answered NaN or infinity, which JSON cannot carry: a fault of the model."""


@dataclass(frozen=True)
class ServedModel:
    """A loaded model plus what the request path needs, all decided once at load time."""

    meta: ModelMeta
    source: str
    runtime: str  # "onnx" (model.onnx, checked at training time) or "scikit-learn"
    classes: list[str] | None  # column order of the probabilities; None when there are none
    score: Score  # model inputs (see _as_input) -> predictions, probabilities
    wants_frame: bool  # True: a pandas DataFrame (scikit-learn); False: ONNX per-feature arrays
    dtype: Any = np.float64  # of the numeric ONNX inputs

    @cached_property
    def feature_names(self) -> list[str]:
        return [feature.name for feature in self.meta.features]

    @cached_property
    def _converters(self) -> list[Callable[[Any], Any]]:
        """Per feature, value -> model input: the same rules as training (kinds.py)."""
        return [numeric_value if f.kind == NUMERIC else category_text for f in self.meta.features]

    @cached_property
    def _row_of(self) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
        """A record's values in feature order (built once: this runs for every record)."""
        getter = itemgetter(*self.feature_names)
        if len(self.feature_names) == 1:  # itemgetter of one key returns the value, not a 1-tuple
            return lambda record: (getter(record),)
        return getter

    def predict(self, records: list[dict[str, Any]]) -> tuple[list[Any], list[list[float]] | None]:
        """Predictions (and class probabilities) for validated records, in request order."""
        return self.score(self._as_input(self._columns(records)))

    def answer(self, records: list[dict[str, Any]]) -> bytes:
        """The /predict response body (schemas.PredictResponse) for validated records.

        pydantic's serializer, not json.dumps: ten times faster on a large batch, and what FastAPI
        itself uses for response models. A regressor answers numbers only (no classes).
        """
        predictions, probabilities = self.predict(records)
        body: dict[str, Any] = {"predictions": predictions}
        if self.classes is not None:
            body["classes"] = self.classes
            body["probabilities"] = probabilities
        body["model_name"] = self.meta.model_name
        body["model_version"] = self.meta.model_version
        rendered = to_json(body, inf_nan_mode="constants")
        # NaN and Infinity are not JSON. The byte search is only a cheap first check: a class label
        # may contain those letters too.
        if (b"NaN" in rendered or b"Infinity" in rendered) and not finite(body):
            raise NonFiniteOutput(
                "the model returned NaN or infinity for this request; JSON has no such numbers"
            )
        return rendered

    def _columns(self, records: list[dict[str, Any]]) -> list[list[Any]]:
        """Per feature, the converted values of every record."""
        rows = map(self._row_of, records)
        columns = zip(*rows, strict=True) if len(records) > 1 else ([v] for v in next(rows))
        return [
            list(map(convert, column))
            for convert, column in zip(self._converters, columns, strict=True)
        ]

    def _as_input(self, columns: list[list[Any]]) -> Any:
        if not self.wants_frame:
            return {
                f.name: np.array(values, dtype=self.dtype if f.kind == NUMERIC else object).reshape(
                    -1, 1
                )
                for f, values in zip(self.meta.features, columns, strict=True)
            }
        import pandas as pd  # only for the scikit-learn runtime

        data = {
            f.name: pd.Series(values, dtype="float64" if f.kind == NUMERIC else object)
            for f, values in zip(self.meta.features, columns, strict=True)
        }
        return pd.DataFrame(data)


def finite(body: dict[str, Any]) -> bool:
    """True when no prediction or probability in the /predict body is NaN or infinite."""
    values = [value for value in body["predictions"] if isinstance(value, float)]
    values += [value for row in body.get("probabilities") or [] for value in row]
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
    expected = getattr(estimator, "feature_names_in_", None)
    if expected is not None and sorted(map(str, expected)) != sorted(f.name for f in meta.features):
        raise ArtifactError(
            f"{source}: the model was trained on features {', '.join(map(str, expected))},"
            f" but its metadata lists {', '.join(f.name for f in meta.features)}: retrain."
        )
    classes = None
    if meta.task == "classification" and hasattr(estimator, "predict_proba"):
        classes = [str(label) for label in estimator.classes_]

    def score(inputs: Any) -> tuple[list[Any], list[list[float]] | None]:
        predictions = estimator.predict(inputs).tolist()
        if classes is None:
            return predictions, None
        return predictions, estimator.predict_proba(inputs).tolist()

    return ServedModel(meta, source, "scikit-learn", classes, score, wants_frame=True)


def serve_onnx(session: Any, meta: ModelMeta, source: str) -> ServedModel:
    """Serve the checked ONNX export: one input per feature in, labels (and probabilities) out."""
    check_features(meta, source)
    inputs = {model_input.name: model_input.type for model_input in session.get_inputs()}
    if sorted(inputs) != sorted(f.name for f in meta.features):
        raise ArtifactError(
            f"{source}: model.onnx takes inputs {', '.join(inputs)}, but the metadata lists"
            f" features {', '.join(f.name for f in meta.features)}: retrain."
        )
    # Tree models are exported for float32 inputs (what scikit-learn's trees compare).
    numeric = [inputs[f.name] for f in meta.features if f.kind == NUMERIC]
    dtype = np.float64 if numeric and numeric[0] == "tensor(double)" else np.float32
    outputs = [output.name for output in session.get_outputs()]
    has_probabilities = len(outputs) > 1 and meta.task == "classification"
    classes = meta.classes if has_probabilities else None
    wanted = outputs[:2] if has_probabilities else outputs[:1]
    regression = meta.task == "regression"

    def score(feeds: dict[str, np.ndarray]) -> tuple[list[Any], list[list[float]] | None]:
        labels, *probabilities = session.run(wanted, feeds)
        if regression:  # (n, 1) float32 or float64 values
            return labels.ravel().astype(np.float64).tolist(), None
        return labels.ravel().tolist(), onnx_probabilities(
            probabilities[0]
        ) if probabilities else None

    return ServedModel(meta, source, "onnx", classes, score, wants_frame=False, dtype=dtype)


def load_model(settings: Settings) -> ServedModel:
    """The model the settings name: from MLflow when MODEL_URI is set, else from MODEL_DIR."""
    if settings.model_uri:
        return load_from_mlflow(settings.model_uri)
    return load_from_dir(settings.model_dir, settings.lineage_file)


def load_from_dir(model_dir: Path, lineage: Path | None = None) -> ServedModel:
    """model.onnx when training exported a checked one (fast), else the scikit-learn model.

    A model file that is not the one the metadata names (its hash differs) is refused outright.
    """
    meta = load_meta(model_dir, lineage)
    try:
        session = load_onnx(model_dir, meta)
    except ArtifactError:
        raise
    except Exception as error:  # a damaged model.onnx: the scikit-learn model is still right
        logger.warning("Cannot load %s/model.onnx (%s): serving scikit-learn.", model_dir, error)
        session = None
    if session is not None:
        return serve_onnx(session, meta, str(model_dir))
    if meta.onnx_parity is None:
        logger.info("No checked ONNX export in %s: serving the scikit-learn model.", model_dir)
    missing = [name for name in SKLEARN_RUNTIME if importlib.util.find_spec(name) is None]
    if missing:  # an image built for the ONNX runtime (requirements-serve-onnx.txt)
        raise ArtifactError(
            f"{model_dir} has no usable model.onnx, and this environment cannot load model.joblib"
            f" (no {', '.join(missing)}: it holds the ONNX runtime only). Serve a model whose"
            " ONNX export passed its check, or rebuild the image: `make build-image` picks the"
            " scikit-learn runtime when models/ has no model.onnx."
        )
    try:
        estimator, meta = load_artifacts(model_dir, lineage)
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
    return serve(estimator, meta, model_uri)


def lineage_of(run: Any) -> dict[str, Any]:
    """The commit, its state and the training time, from the MLflow run's tags and start."""
    tags = run.data.tags
    started = datetime.fromtimestamp(run.info.start_time / 1000, tz=timezone.utc)
    return {
        "git_commit": tags.get("git_commit") if tags.get("git_commit") != "None" else None,
        "git_dirty": {"True": True, "False": False}.get(tags.get("git_dirty", "")),
        "trained_at": started.isoformat(timespec="seconds"),
    }


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


def meta_from_run(mlflow: Any, model_uri: str, run: Any) -> ModelMeta:
    """Metadata rebuilt from the logged signature and the run's tags, params and metrics."""
    signature = mlflow.models.get_model_info(model_uri).signature
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
        model_name=model_uri.removeprefix("models:/").split("@")[0].split("/")[0],
        features=features,
        target=params.get("data.target", "target"),
        task=tags.get("task", "classification"),
        data_hash=tags.get("data_hash"),
        config_name=tags.get("config_name"),
        metrics=dict(run.data.metrics),
    )
