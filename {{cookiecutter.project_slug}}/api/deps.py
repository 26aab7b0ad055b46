"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.model import ServedModel


def served_model(request: Request) -> ServedModel:
    """The loaded model, or 503 with the reason none is loaded."""
    model: ServedModel | None = request.app.state.model
    if model is None:
        raise HTTPException(
            status_code=503, detail=f"no model loaded: {request.app.state.load_error}"
        )
    return model


ModelDep = Annotated[ServedModel, Depends(served_model)]
