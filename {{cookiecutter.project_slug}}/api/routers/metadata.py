"""Lineage of the served model: which run, commit, data and config produced it."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from api.deps import ModelDep
from api.schemas import ErrorMessage, Metadata

router = APIRouter(tags=["metadata"])


@router.get(
    "/metadata",
    response_model=Metadata,
    responses={
        503: {"model": ErrorMessage, "description": "No model is loaded; the detail says why."}
    },
)
async def metadata(model: ModelDep) -> Metadata:
    meta = model.meta
    return Metadata(
        model_name=meta.model_name,
        model_version=meta.model_version,
        source=model.source,
        runtime=model.runtime,
        runtime_reason=model.runtime_reason,
        run_id=meta.run_id,
        git_commit=meta.git_commit,
        git_dirty=meta.git_dirty,
        data_hash=meta.data_hash,
        config_name=meta.config_name,
        trained_at=meta.trained_at,
        metrics=meta.metrics,
        target=meta.target,
        task=meta.task,
        classes=model.classes if model.classes is not None else meta.classes,
        features=[asdict(feature) for feature in meta.features],
        normalize_categories=asdict(meta.normalize_categories),
    )
