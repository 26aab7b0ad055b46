"""The FastAPI application: `uvicorn api.main:app`, or `python -m api` (host/port from settings).

The model is loaded once, when the app is created. A missing or broken model does not stop the
server: /health answers, /ready and /predict answer 503 with the reason, and the log says it too.
"""

from __future__ import annotations

import json
import logging
import math
from functools import partial
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.module_name }}.artifacts import ArtifactError

from api.fast_predict import FastPredict
from api.limits import BodySizeLimit
from api.model import NonFiniteOutput, ServedModel, load_model
from api.routers import health, metadata, predict
from api.schemas import predict_request_type
from api.settings import Settings

logger = logging.getLogger("uvicorn.error")  # uvicorn's own logger: messages land in its output


def try_load(settings: Settings) -> tuple[ServedModel | None, str | None]:
    """The model, or None and the reason it could not be loaded."""
    try:
        model = load_model(settings)
    except ArtifactError as error:
        logger.warning("Serving without a model (/ready answers 503): %s", error)
        return None, str(error)
    logger.info(
        "Loaded model %r from %s (runtime: %s)", model.meta.model_name, model.source, model.runtime
    )
    return model, None


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: a lone surrogate echoed from the input
    (valid in a JSON string, not in UTF-8) cannot break the answer."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 body, made safe to send: no echo of whole batches, no NaN in the JSON."""
    return AsciiJSONResponse({"detail": jsonable_encoder([clean(p) for p in error.errors()])}, 422)


async def non_finite_output(request: Request, error: NonFiniteOutput) -> JSONResponse:
    """500 with the reason, and a line in the log: the model, not the request, is at fault."""
    logger.error("%s %s: %s", request.method, request.url.path, error)
    return JSONResponse({"detail": str(error)}, 500)


def clean(problem: dict[str, Any]) -> dict[str, Any]:
    if problem["type"] in ("too_long", "too_short"):  # the input is the whole batch
        return {k: v for k, v in problem.items() if k not in ("input", "ctx")}
    value = problem.get("input")
    if isinstance(value, float) and not math.isfinite(value):  # strict JSON has no NaN/Infinity
        return {**problem, "input": str(value)}
    return problem


class App(FastAPI):
    """FastAPI, with valid /predict requests answered by the fast lane (api/fast_predict.py)."""

    fast_lane: FastPredict | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.fast_lane is not None and self.fast_lane.handles(scope):
            await self.fast_lane(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)


def create_app(settings: Settings | None = None) -> App:
    settings = settings or Settings()
    model, load_error = try_load(settings)
    app = App(
        title={{ cookiecutter.project_name | tojson }},  # noqa: E501, RUF100
        description={{ cookiecutter.description | tojson }},  # noqa: E501, RUF100
        version="0.1.0",
    )
    app.state.settings = settings
    app.state.model = model
    app.state.load_error = load_error
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(NonFiniteOutput, non_finite_output)
    request_type = (
        predict_request_type(model.meta.features, settings.max_batch_size) if model else None
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.fast_lane = FastPredict(
        partial(FastAPI.__call__, app), model, request_type, settings.max_body_bytes
    )
    app.include_router(health.router)
    app.include_router(metadata.router)
    app.include_router(predict.build_router(request_type))
    return app


app = create_app()
