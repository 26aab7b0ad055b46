"""The model artifact shared by training and serving.

Training writes a directory with two files; serving (the API, the batch CLI, the image) reads it
back. This module must stay light: no mlflow, hydra or dvc imports, so the serving path starts fast
and the container does not need them.

    models/model.joblib      the fitted scikit-learn estimator (a Pipeline), joblib-serialised
    models/model_meta.json   what the estimator expects and where it came from (ModelMeta below)
    models/model.onnx        the same model for ONNX Runtime, when it could be exported and gives
                             the same answers (onnx_export.py); the API prefers it: far faster
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MODEL_FILE = "model.joblib"
META_FILE = "model_meta.json"
ONNX_FILE = "model.onnx"


@dataclass(frozen=True)
class Feature:
    """One input column: its name and kind ("float", "int", "str" or "bool")."""

    name: str
    dtype: str


@dataclass(frozen=True)
class ModelMeta:
    """Everything a consumer of the model needs besides the estimator itself."""

    model_name: str
    features: list[Feature]
    target: str
    # Class labels in predict_proba column order; None for regression.
    classes: list[str] | None = None
    run_id: str | None = None  # MLflow run that trained the model
    model_version: str | None = None  # registered model version, when registered
    git_commit: str | None = None
    git_dirty: bool | None = None
    data_hash: str | None = None  # sha256 of the training data file
    config_name: str | None = None
    trained_at: str | None = None  # ISO 8601, UTC
    metrics: dict[str, float] = field(default_factory=dict)
    # What the ONNX parity check measured ({"checked_rows": ..., "max_probability_diff": ...});
    # None when there is no model.onnx.
    onnx_parity: dict[str, Any] | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelMeta:
        features = [Feature(**f) for f in raw.get("features", [])]
        return cls(**{**raw, "features": features})


class ArtifactError(RuntimeError):
    """The model directory is missing, incomplete or unreadable; the message says how to fix it."""


def save_artifacts(
    model: Any, meta: ModelMeta, model_dir: Path, onnx_model: bytes | None = None
) -> None:
    """Write the estimator, its metadata and (when given) its ONNX export into model_dir.

    A model.onnx left by an earlier training is removed when there is no new export, so the API
    never serves an ONNX model that belongs to another estimator.
    """
    import joblib

    model_dir.mkdir(parents=True, exist_ok=True)
    # Temporary names, then rename: an interrupted save never leaves a file that looks valid.
    final = [MODEL_FILE, META_FILE] + ([ONNX_FILE] if onnx_model is not None else [])
    temporary = {name: model_dir / f".{name}.tmp" for name in final}
    try:
        joblib.dump(model, temporary[MODEL_FILE])
        temporary[META_FILE].write_text(meta.to_json(), encoding="utf-8")
        if onnx_model is not None:
            temporary[ONNX_FILE].write_bytes(onnx_model)
        else:
            (model_dir / ONNX_FILE).unlink(missing_ok=True)
        for name, path in temporary.items():
            os.replace(path, model_dir / name)
    finally:
        for path in temporary.values():
            path.unlink(missing_ok=True)


def load_meta(model_dir: Path) -> ModelMeta:
    """Read only the metadata (cheap: no unpickling)."""
    path = model_dir / META_FILE
    if not path.is_file():
        raise ArtifactError(f"no model metadata at {path}: train a model first (dvc repro).")
    try:
        return ModelMeta.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise ArtifactError(f"{path} is not valid model metadata: {error}") from error


def load_artifacts(model_dir: Path) -> tuple[Any, ModelMeta]:
    """Read the estimator and its metadata; ArtifactError with a clear message when missing."""
    import joblib

    meta = load_meta(model_dir)
    path = model_dir / MODEL_FILE
    if not path.is_file():
        raise ArtifactError(f"no model at {path}: train a model first (dvc repro).")
    return joblib.load(path), meta


def onnx_session(model: bytes) -> Any:
    """An ONNX Runtime session tuned for serving: one thread per request, no spinning when idle."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def load_onnx(model_dir: Path, meta: ModelMeta) -> Any | None:
    """A session on model_dir/model.onnx when training exported and checked one, else None."""
    path = model_dir / ONNX_FILE
    if meta.onnx_parity is None or not path.is_file():
        return None
    return onnx_session(path.read_bytes())


# Rows; up to this many, plain Python beats numpy, whose per-call overhead dwarfs a few divisions.
SMALL_BATCH = 16


def onnx_probabilities(raw: Any) -> list[list[float]]:
    """The export's class probabilities as rows of Python floats that sum to 1.

    Tree models answer in float32, whose sums drift (0.9999993 for a unanimous forest); dividing
    by the row sum in float64 restores what scikit-learn returns, well within the parity tolerance.
    Both paths below compute the same float64 quotients; only their speed differs with the size.
    """
    import numpy as np

    if raw.dtype != np.float32:
        return raw.tolist()
    if len(raw) <= SMALL_BATCH:
        rows = raw.tolist()
        return [[p / total for p in row] if (total := sum(row)) > 0 else row for row in rows]
    probabilities = raw.astype(np.float64)
    sums = probabilities.sum(axis=1, keepdims=True)
    np.divide(probabilities, sums, out=probabilities, where=sums > 0)
    return probabilities.tolist()
