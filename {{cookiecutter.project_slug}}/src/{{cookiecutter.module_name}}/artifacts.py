"""The model artifact shared by training and serving.

Training writes a directory with two files; serving (the API, the batch CLI, the image) reads it
back. This module must stay light: no mlflow, hydra or dvc imports, so the serving path starts fast
and the container does not need them.

    models/model.joblib      the fitted scikit-learn estimator (a Pipeline), joblib-serialised
    models/model_meta.json   what the estimator expects and where it came from (ModelMeta below)
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

MODEL_FILE = "model.joblib"
META_FILE = "model_meta.json"


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

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> ModelMeta:
        features = [Feature(**f) for f in raw.get("features", [])]
        return cls(**{**raw, "features": features})


class ArtifactError(RuntimeError):
    """The model directory is missing, incomplete or unreadable; the message says how to fix it."""


def save_artifacts(model: Any, meta: ModelMeta, model_dir: Path) -> None:
    """Write the estimator and its metadata into model_dir (created if needed)."""
    import joblib

    model_dir.mkdir(parents=True, exist_ok=True)
    # Temporary names, then rename: an interrupted save never leaves a file that looks valid.
    model_tmp, meta_tmp = model_dir / f".{MODEL_FILE}.tmp", model_dir / f".{META_FILE}.tmp"
    try:
        joblib.dump(model, model_tmp)
        meta_tmp.write_text(meta.to_json(), encoding="utf-8")
        os.replace(model_tmp, model_dir / MODEL_FILE)
        os.replace(meta_tmp, model_dir / META_FILE)
    finally:
        model_tmp.unlink(missing_ok=True)
        meta_tmp.unlink(missing_ok=True)


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
