"""What a model directory holds, and what its model expects and answers (ModelMeta).

Training writes a directory; serving (the API, the batch CLI, the image) reads it back. This module
must stay light: no mlflow, hydra, dvc or pandas imports, so the serving path starts fast and the
container does not need them.

    models/model.joblib      the fitted scikit-learn Pipeline (preprocessing and estimator), pickled
                             (joblib.load reads it; MLflow's sklearn flavor logs the same bytes)
    models/model.onnx        the same pipeline for ONNX Runtime, when it could be exported and gives
                             the same answers (onnx_export.py); the API prefers it: far faster
    models/model_meta.json   what the model expects and answers, and what produced it (ModelMeta)

Everything in models/ is a pure function of the data, the configs and the code, so two
reproductions give byte-identical files (and the same DVC hash). What differs on every run (the
MLflow run id, the registered version, the time, the git commit) is the lineage file,
reports/lineage.json by default, kept beside the metrics and tied to the model by its hash.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ..utils.kinds import CategoryRule, Feature

MODEL_FILE = "model.joblib"
META_FILE = "model_meta.json"
ONNX_FILE = "model.onnx"
# Where training writes and checks a model before it is published (see stage_artifacts).
STAGING_DIR = ".staging"
# What differs on every run: kept out of model_meta.json (see the module docstring).
# The commit too: committing the code after training must not change the model's DVC hash.
VOLATILE = ("run_id", "model_version", "trained_at", "git_commit", "git_dirty")


@dataclass(frozen=True)
class ModelMeta:
    """Everything a consumer of the model needs besides the estimator itself."""

    model_name: str
    features: list[Feature]
    target: str
    task: str = "classification"  # or "regression"
    # Class labels in predict_proba column order; None for regression.
    classes: list[str] | None = None
    data_hash: str | None = None  # sha256 of the training data file
    config_name: str | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    # How category text is normalised before the model sees it (data.normalize_categories).
    normalize_categories: CategoryRule = field(default_factory=CategoryRule)
    # What the ONNX parity check measured; None when there is no model.onnx.
    onnx_parity: dict[str, Any] | None = None
    # Feature name -> the name of its input in model.onnx (ONNX converters rewrite names that are
    # not plain identifiers: "home city" becomes "home_city"). None: the feature names themselves.
    onnx_inputs: dict[str, str] | None = None
    # Why training kept no model.onnx (one line); None when it kept one.
    onnx_skipped: str | None = None
    # sha256 of each model file, written when saved and checked when loaded.
    artifacts: dict[str, str] = field(default_factory=dict)
    # The lineage of this run (reports/lineage.json, or the MLflow run): not in model_meta.json.
    run_id: str | None = None  # MLflow run that trained the model
    model_version: str | None = None  # registered model version, when registered
    trained_at: str | None = None  # ISO 8601, UTC
    git_commit: str | None = None  # the commit the model was trained from
    git_dirty: bool | None = None  # tracked files were modified

    def to_json(self) -> str:
        stable = {k: v for k, v in asdict(self).items() if k not in VOLATILE}
        return json.dumps(stable, indent=2, sort_keys=True) + "\n"

    def lineage_json(self) -> str:
        lineage = {key: getattr(self, key) for key in VOLATILE}
        lineage["model_sha256"] = self.artifacts.get(MODEL_FILE)
        return json.dumps(lineage, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_dict(cls, raw: Any) -> ModelMeta:
        """ModelMeta from parsed JSON; ValueError naming what is wrong."""
        if not isinstance(raw, dict):
            raise ValueError(f"expected a JSON object, found {type(raw).__name__}")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}")
        missing = [name for name in ("model_name", "features", "target") if name not in raw]
        if missing:
            raise ValueError(f"missing field(s) {', '.join(missing)}")
        if not isinstance(raw["features"], list) or not all(
            isinstance(f, dict) for f in raw["features"]
        ):
            raise ValueError("features must be a list of objects")
        try:
            features = [Feature.from_dict(f) for f in raw["features"]]
        except TypeError as error:
            raise ValueError(f"a feature is malformed: {error}") from error
        try:
            rule = CategoryRule.from_dict(raw.get("normalize_categories") or {})
        except (TypeError, ValueError) as error:
            raise ValueError(f"normalize_categories is malformed: {error}") from error
        return cls(**{**raw, "features": features, "normalize_categories": rule})


class ArtifactError(RuntimeError):
    """The model directory is missing, incomplete or unreadable; the message says how to fix it."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
