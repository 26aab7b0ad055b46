"""The FastAPI application, built by `create_app`: `python -m api` (host, port and workers from the
settings) or `uvicorn --factory api.main:create_app`.

Importing this module loads nothing: the model is loaded when the app is created, once per worker.
A missing or broken model does not stop the server: /health answers, /ready and /predict answer 503
with the reason, and the log says it too.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.middleware.cors import CORSMiddleware

from {{ cookiecutter.module_name }}.artifact.meta import ArtifactError

from api.limits import BodyLimits
from api.metrics import Metrics
from api.model import NonFiniteOutput, ServedModel
from api.observe import ObserveRequests
from api.openapi import add_schemas
from api.routers import health, metadata, metrics, predict
from api.schemas import MAX_LISTED_ERRORS, ErrorMessage, predict_request_type
from api.security import document_api_keys, require_api_key, warn_if_exposed
from api.settings import Settings
from api.sources import load_model

logger = logging.getLogger("uvicorn.error")  # uvicorn's own logger: messages land in its output

# An absolute path in a message (not a URL's or a URI's path: those follow "/" or ":").
ABSOLUTE_PATH = re.compile(r"(?<![\w.:/-])(?:file://)?/[^\s'\"(),;:]+")


def try_load(settings: Settings) -> tuple[ServedModel | None, str | None]:
    """The model, or None and the reason it could not be loaded.

    The log has the whole reason; what clients see (/ready, /metadata, the 503s) names no absolute
    path of the server.
    """
    try:
        model = load_model(settings)
    except ArtifactError as error:
        logger.warning("Serving without a model (/ready answers 503): %s", error)
        return None, without_server_paths(str(error))
    logger.info(
        "Loaded model %r from %s (runtime: %s)", model.meta.model_name, model.source, model.runtime
    )
    return replace(model, source=without_server_paths(model.source)), None


def without_server_paths(text: str) -> str:
    """text with each absolute path made relative to the working directory when it is inside it,
    else shortened to its last part (/srv/models/model.onnx -> models/model.onnx or model.onnx)."""
    cwd = Path.cwd()

    def shorten(match: re.Match[str]) -> str:
        found = match.group().removeprefix("file://")
        stripped = found.rstrip("./")
        path = Path(stripped)
        shown = str(path.relative_to(cwd)) if path.is_relative_to(cwd) else path.name
        return (shown or ".") + found[len(stripped) :]

    return ABSOLUTE_PATH.sub(shorten, text)


class AsciiJSONResponse(JSONResponse):
    """JSON with every non-ASCII character escaped: a lone surrogate echoed from the input
    (valid in a JSON string, not in UTF-8) cannot break the answer."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, allow_nan=False, separators=(",", ":")).encode("ascii")


async def validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    """FastAPI's 422 body, made safe to send: no echo of whole batches or records, no NaN in the
    JSON, the first MAX_LISTED_ERRORS errors only (and how many more there are)."""
    problems = error.errors()
    listed = [clean(problem) for problem in problems[:MAX_LISTED_ERRORS]]
    content: dict[str, Any] = {"detail": jsonable_encoder(listed)}
    if len(problems) > MAX_LISTED_ERRORS:
        content["omitted_errors"] = len(problems) - MAX_LISTED_ERRORS
    return AsciiJSONResponse(content, 422)


async def non_finite_output(request: Request, error: NonFiniteOutput) -> JSONResponse:
    """500 with the reason, and a line in the log: the model, not the request, is at fault."""
    request_id = getattr(request.state, "request_id", "-")
    logger.error("%s %s (request_id=%s): %s", request.method, request.url.path, request_id, error)
    return JSONResponse({"detail": str(error)}, 500)


def clean(problem: dict[str, Any]) -> dict[str, Any]:
    if problem["type"] in ("too_long", "too_short"):  # the input is the whole batch
        return {k: v for k, v in problem.items() if k not in ("input", "ctx")}
    if problem["type"] == "missing":  # the input is the whole record, once per missing field
        return {k: v for k, v in problem.items() if k != "input"}
    if "input" in problem:  # a wrong value may be a NaN
        return {**problem, "input": finite_json(problem["input"])}
    return problem


def finite_json(value: Any) -> Any:
    """`value` with every NaN or infinity, at any depth, as a string: strict JSON has neither."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, dict):
        return {key: finite_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [finite_json(item) for item in value]
    return value


def create_app(settings: Settings | None = None) -> FastAPI:
    """The app on the model the settings name (uvicorn calls this with none: read from the env)."""
    settings = settings or Settings()
    warn_if_exposed(settings)
    model, load_error = try_load(settings)
    app = FastAPI(
        title={{ cookiecutter.project_name | tojson }},  # noqa: E501, RUF100
        description={{ cookiecutter.description | tojson }},  # noqa: E501, RUF100
        version="0.1.0",
        # Given here rather than with add_exception_handler, whose type wants handlers of any
        # Exception; FastAPI keeps its own handlers for the other exceptions.
        exception_handlers={
            RequestValidationError: validation_error,
            NonFiniteOutput: non_finite_output,
        },
    )
    app_metrics = Metrics() if settings.metrics else None
    if app_metrics is not None and model is not None:
        app_metrics.serving(model)
    if settings.log_format == "json":
        logging.captureWarnings(True)  # a Python warning becomes a JSON line too, not raw text
    app.state.settings = settings
    app.state.model = model
    app.state.load_error = load_error
    app.state.metrics = app_metrics
    # Pure ASGI middleware only (no @app.middleware): the last added runs first.
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=["X-Request-ID"],
        )
    # Outermost: it sees every answer, those of the middleware above included (413, preflights).
    app.add_middleware(ObserveRequests, metrics=app_metrics, access_log=settings.access_log)
    # What serves the model needs a key when API_KEYS is set; health checks never do.
    protected = [Depends(require_api_key)] if settings.api_keys else []
    refused: dict[int | str, dict[str, Any]] | None = (
        {401: {"model": ErrorMessage, "description": "Missing or invalid API key."}}
        if settings.api_keys
        else None
    )
    request_type = (
        predict_request_type(model.meta.features, settings.max_batch_size) if model else None
    )
    predict_router, request_schemas = predict.build_router(request_type, app_metrics)
    # The busiest route first: FastAPI tries the routers in this order for every request. What
    # serves the model needs a key when API_KEYS is set; health checks never do.
    served = [predict_router, metadata.router] + ([metrics.router] if app_metrics else [])
    for router in served:
        app.include_router(router, dependencies=protected, responses=refused)
    app.include_router(health.router)
    add_schemas(app, request_schemas)
    if settings.api_keys:
        document_api_keys(app, served)
    return app
