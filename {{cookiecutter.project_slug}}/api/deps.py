"""Dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from api.model import ServedModel


async def served_model(request: Request) -> ServedModel:
    """The loaded model, or 503 with the reason none is loaded.

    Async only to run on the event loop: FastAPI runs a plain `def` dependency in a worker thread,
    a hop that costs more than scoring one record.
    """
    model: ServedModel | None = request.app.state.model
    if model is None:
        raise HTTPException(
            status_code=503, detail=f"no model loaded: {request.app.state.load_error}"
        )
    return model


ModelDep = Annotated[ServedModel, Depends(served_model)]
