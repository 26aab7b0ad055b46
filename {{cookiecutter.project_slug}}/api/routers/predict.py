"""POST /predict: a batch of records in, one prediction (and class probabilities) per record out."""

# No `from __future__ import annotations`: FastAPI must see the request model built at start-up,
# which lives in this function's closure, not in the module's globals.
from typing import Annotated, Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from api.deps import ModelDep
from api.schemas import PredictResponse


class UntypedRequest(BaseModel):
    """Stand-in body while no model is loaded: /predict answers 503 before validating it."""

    model_config = ConfigDict(title="PredictRequest")
    records: list[dict[str, Any]]


def build_router(request_model: type[BaseModel] | None) -> APIRouter:
    """The /predict route for this model's request schema (None: no model loaded)."""
    body_model = request_model or UntypedRequest
    router = APIRouter(tags=["predict"])

    @router.post(
        "/predict",
        response_model=PredictResponse,
        responses={
            413: {"description": "The body is larger than MAX_BODY_BYTES."},
            422: {"description": "Missing, extra or wrongly typed fields, or too many records."},
            503: {"description": "No model is loaded."},
        },
    )
    def predict(body: Annotated[body_model, Body()], model: ModelDep) -> JSONResponse:  # type: ignore[valid-type]
        """Score a batch of records (sync: runs in the thread pool, the event loop stays free)."""
        predictions, probabilities = model.predict(body.records)  # type: ignore[attr-defined]
        # Built by hand rather than validated against PredictResponse: the model's own output
        # needs no checking, and skipping it keeps large batches cheap.
        return JSONResponse(
            {
                "predictions": predictions,
                "classes": model.classes,
                "probabilities": probabilities,
                "model_name": model.meta.model_name,
                "model_version": model.meta.model_version,
            }
        )

    return router
