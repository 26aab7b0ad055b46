"""The model artifact shared by training and serving.

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
import os
import shutil
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from ..utils.errors import writing
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


def stage_artifacts(
    model: Any, meta: ModelMeta, model_dir: Path, onnx_model: bytes | None = None
) -> ModelMeta:
    """Write the estimator, its ONNX export (when given) and its metadata into model_dir/.staging/,
    then read them back and check them; returns meta with the files' hashes.

    Nothing in model_dir itself changes: publish_artifacts() moves the files in once the run that
    trained them is recorded, so a training that dies half-way leaves no model that looks valid.
    """
    import pickle

    staging = model_dir / STAGING_DIR
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    # A full disk is one line naming the file (the caller removes the staging directory). A plain
    # pickle, which joblib.load reads too: the very bytes MLflow's sklearn flavor loads, so the
    # training run logs this file rather than a second serialisation (tracking.log_training_run).
    with writing(model_dir / MODEL_FILE), (staging / MODEL_FILE).open("wb") as handle:
        pickle.dump(model, handle, protocol=pickle.DEFAULT_PROTOCOL)
    hashes = {MODEL_FILE: file_sha256(staging / MODEL_FILE)}
    if onnx_model is not None:
        with writing(model_dir / ONNX_FILE):
            (staging / ONNX_FILE).write_bytes(onnx_model)
        hashes[ONNX_FILE] = sha256(onnx_model)
    meta = replace(meta, artifacts=hashes)
    with writing(model_dir / META_FILE):
        (staging / META_FILE).write_text(meta.to_json(), encoding="utf-8")
    # What serving will do: the metadata parses, every file has its recorded hash, the model loads.
    load_artifacts(staging)
    if onnx_model is not None:
        read_checked(staging, ONNX_FILE, load_meta(staging))
    return meta


def publish_artifacts(model_dir: Path) -> None:
    """Move the staged files into model_dir, the metadata last (until it is replaced, the old one
    names the old files' hashes). A model.onnx of an earlier training goes when none was staged,
    so the API never serves an export of another model."""
    staging = model_dir / STAGING_DIR
    if not (staging / ONNX_FILE).is_file():
        (model_dir / ONNX_FILE).unlink(missing_ok=True)
    for name in (MODEL_FILE, ONNX_FILE, META_FILE):
        if (staging / name).is_file():
            os.replace(staging / name, model_dir / name)
    shutil.rmtree(staging, ignore_errors=True)


def save_artifacts(
    model: Any, meta: ModelMeta, model_dir: Path, onnx_model: bytes | None = None
) -> ModelMeta:
    """stage_artifacts() then publish_artifacts(): the model in model_dir, with its hashes."""
    meta = stage_artifacts(model, meta, model_dir, onnx_model)
    publish_artifacts(model_dir)
    return meta


def remove_model(model_dir: Path) -> bool:
    """Delete the model files (and anything staged) from model_dir; whether there were any."""
    found = False
    for name in (MODEL_FILE, ONNX_FILE, META_FILE):
        path = model_dir / name
        found = found or path.exists()
        path.unlink(missing_ok=True)
    shutil.rmtree(model_dir / STAGING_DIR, ignore_errors=True)
    return found


def write_lineage(meta: ModelMeta, path: Path) -> None:
    """The volatile lineage (run id, version, time, commit) of the model just saved."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        with writing(path):
            temporary.write_text(meta.lineage_json(), encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def with_lineage(meta: ModelMeta, path: Path | None) -> ModelMeta:
    """meta plus the lineage in path, when that file describes this very model."""
    if path is None or not path.is_file():
        return meta
    try:
        lineage = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return meta
    if not isinstance(lineage, dict) or lineage.get("model_sha256") != meta.artifacts.get(
        MODEL_FILE
    ):
        return meta  # another model's lineage (an older checkout, a copied directory)
    values: dict[str, Any] = {
        key: None if lineage.get(key) is None else str(lineage[key]) for key in VOLATILE
    }
    dirty = lineage.get("git_dirty")
    values["git_dirty"] = dirty if isinstance(dirty, bool) else None
    return replace(meta, **values)


def load_meta(model_dir: Path, lineage: Path | None = None) -> ModelMeta:
    """Read only the metadata (cheap: no unpickling), with the lineage when it matches."""
    path = model_dir / META_FILE
    if not path.is_file():
        raise ArtifactError(
            f"no model metadata in {model_dir.name}/: train a model first (dvc repro)."
        )
    try:
        meta = ModelMeta.from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise ArtifactError(
            f"{model_dir.name}/{META_FILE} is not valid model metadata: {error}"
        ) from error
    return with_lineage(meta, lineage)


def read_checked(model_dir: Path, name: str, meta: ModelMeta) -> bytes:
    """The bytes of a model file, refused when they are not the ones the metadata names."""
    path = model_dir / name
    if not path.is_file():
        raise ArtifactError(f"no {name} in {model_dir.name}/: train a model first (dvc repro).")
    data = path.read_bytes()
    expected = meta.artifacts.get(name)
    if expected is not None and sha256(data) != expected:
        raise ArtifactError(
            f"{model_dir.name}/{name} is not the file {META_FILE} describes (its sha256 differs):"
            " it was replaced or damaged. Restore it with `dvc checkout` or retrain (dvc repro)."
        )
    return data


def load_artifacts(model_dir: Path, lineage: Path | None = None) -> tuple[Any, ModelMeta]:
    """Read the estimator and its metadata; ArtifactError with a clear message when unusable."""
    import io

    import joblib

    meta = load_meta(model_dir, lineage)
    data = read_checked(model_dir, MODEL_FILE, meta)
    try:
        return joblib.load(io.BytesIO(data)), meta
    except Exception as error:  # unpickling a damaged file raises anything
        reason = (str(error).strip().splitlines() or [""])[0]
        raise ArtifactError(
            f"{model_dir.name}/{MODEL_FILE} cannot be loaded ({type(error).__name__}"
            f"{': ' + reason if reason else ''}): restore it with `dvc checkout` or retrain."
        ) from error


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
    if meta.onnx_parity is None or not (model_dir / ONNX_FILE).is_file():
        return None
    return onnx_session(read_checked(model_dir, ONNX_FILE, meta))


# Rows; up to this many, plain Python beats numpy, whose per-call overhead dwarfs a few divisions.
SMALL_BATCH = 16


def onnx_probabilities(raw: Any) -> list[list[float]]:
    """The export's class probabilities as rows of Python floats that sum to 1.

    Tree models answer in float32, whose sums drift (0.9999993 for a unanimous forest); dividing
    by the row sum in float64 restores what scikit-learn returns, well within the parity tolerance.
    Both paths below compute the same float64 quotients; only their speed differs with the size.
    """
    import numpy as np

    rows: list[list[float]]
    if raw.dtype != np.float32:
        rows = raw.tolist()
        return rows
    if len(raw) <= SMALL_BATCH:
        rows = raw.tolist()
        return [[p / total for p in row] if (total := sum(row)) > 0 else row for row in rows]
    probabilities = raw.astype(np.float64)
    sums = probabilities.sum(axis=1, keepdims=True)
    np.divide(probabilities, sums, out=probabilities, where=sums > 0)
    rows = probabilities.tolist()
    return rows
