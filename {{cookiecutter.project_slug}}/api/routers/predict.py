"""POST /predict: a batch of records in, one prediction (and class probabilities) per record out."""

# No `from __future__ import annotations`: FastAPI must see the request type built at start-up,
# which lives in this function's closure, not in the module's globals.
from typing import Annotated, Any

from fastapi import APIRouter, Body, Response

from api.deps import ModelDep
from api.schemas import PredictResponse, strict_dict

# Stand-in body while no model is loaded: /predict answers 503 before validating it.
UntypedRequest = strict_dict("PredictRequest", {"records": list[dict[str, Any]]})


def build_router(request_type: Any) -> APIRouter:
    """The /predict route for this model's request type (None: no model loaded)."""
    body_type = request_type or UntypedRequest
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
    def predict(body: Annotated[body_type, Body()], model: ModelDep) -> Response:  # type: ignore[valid-type]
        """Score a batch of records (sync: runs in the thread pool, the event loop stays free)."""
        # Rendered by the model rather than validated against PredictResponse: the model's own
        # output needs no checking, and the fast lane (api/fast_predict.py) sends the same bytes.
        return Response(model.answer(body["records"]), media_type="application/json")

    return router
