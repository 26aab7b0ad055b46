"""Liveness and readiness, for load balancers, orchestrators and the image's HEALTHCHECK."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ModelDep
from api.schemas import ErrorMessage, Health, Ready

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is up (says nothing about the model: see /ready)."""
    return Health()


@router.get(
    "/ready",
    response_model=Ready,
    responses={
        503: {"model": ErrorMessage, "description": "No model is loaded; the detail says why."}
    },
)
async def ready(model: ModelDep) -> Ready:
    """A model is loaded and /predict will answer."""
    return Ready(model_name=model.meta.model_name, source=model.source)
