"""Training's side of the model directory: write it through a staging directory, check it,
publish it; and the lineage file that ties a run to the model's hash."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..utils.errors import writing
from .meta import (
    META_FILE,
    MODEL_FILE,
    ONNX_FILE,
    STAGING_DIR,
    ModelMeta,
    file_sha256,
    sha256,
)
from .read import load_artifacts, load_meta, read_checked


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
