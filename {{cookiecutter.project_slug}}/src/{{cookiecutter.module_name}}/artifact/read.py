"""Serving's side of the model directory: read it back, every file checked against the hash its
metadata records, with the lineage of the run that trained it."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from .meta import (
    META_FILE,
    MODEL_FILE,
    VOLATILE,
    ArtifactError,
    ModelMeta,
    sha256,
)


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
