"""POST /predict: a batch of records in, one prediction (and class probabilities) per record out.

A lean route: the endpoint reads the raw body and validates it in one pass (api/json_body.py)
instead of declaring a `Body()` parameter, which costs FastAPI a JSON parse and a second
validation pass. It is still an ordinary route: middleware, router dependencies and
`app.dependency_overrides` apply to every request, and the body schema is documented as usual.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from fastapi import APIRouter, Request, Response

from api.deps import ModelDep
from api.json_body import JSONBody
from api.metrics import Metrics
from api.schemas import (
    MAX_LISTED_ERRORS,
    ErrorMessage,
    InvalidRequest,
    PredictResponse,
    strict_dict,
)

# Larger batches are scored in a worker thread, so one big request never stalls the event loop;
# a small one is not worth the thread hop.
INLINE_RECORDS = 64

# Stand-in body while no model is loaded: /predict answers 503 before reading it.
UntypedRequest = strict_dict("PredictRequest", {"records": list[dict[str, Any]]})


def build_router(
    request_type: Any, metrics: Metrics | None = None
) -> tuple[APIRouter, dict[str, Any]]:
    """The /predict route for this model's request type (None: no model loaded), and the schemas
    its documented body refers to, for the OpenAPI components (api.openapi.add_schemas).

    `metrics` counts the records scored and their unseen categories (None: metrics are off)."""
    body = JSONBody(request_type or UntypedRequest)
    request_body, schemas = body.openapi()
    router = APIRouter(tags=["predict"])

    @router.post(
        "/predict",
        response_model=PredictResponse,
        responses={
            400: {
                "model": ErrorMessage,
                "description": "The body is not JSON text (not UTF-8, or nested too deep).",
            },
            408: {
                "model": ErrorMessage,
                "description": "The whole body did not arrive within BODY_TIMEOUT seconds.",
            },
            413: {"model": ErrorMessage, "description": "The body is larger than MAX_BODY_BYTES."},
            415: {
                "model": ErrorMessage,
                "description": "A compressed body (Content-Encoding): send it uncompressed.",
            },
            422: {
                "model": InvalidRequest,
                "description": "Missing, extra or wrongly typed fields, or too many records"
                f" (the first {MAX_LISTED_ERRORS} errors are listed).",
            },
            500: {"model": ErrorMessage, "description": "The model answered NaN or infinity."},
            503: {"model": ErrorMessage, "description": "No model is loaded; the detail says why."},
        },
        openapi_extra={"requestBody": request_body},
    )
    async def predict(request: Request, model: ModelDep) -> Response:
        """Score a batch of records.

        A nullable field may be left out (it means null). A categorical value never seen in
        training is answered too, and named per record in `unseen`."""
        records = (await body.read(request))["records"]
        # Rendered by the model rather than validated against PredictResponse: the model's own
        # output needs no checking.
        if len(records) <= INLINE_RECORDS:
            answer = model.answer(records)
        else:
            answer = await to_thread.run_sync(model.answer, records)
        if metrics is not None:
            metrics.scored(len(records), answer.unseen)
        if answer.unseen:  # for the access log line (api/observe.py)
            request.state.unseen = answer.unseen
        return Response(answer.body, media_type="application/json")

    return router, schemas
