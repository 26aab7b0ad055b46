"""What every request leaves behind: a request id, one access log line and the Prometheus counts.

A plain ASGI middleware, the outermost one, so that it also sees the answers other middleware give
(413 for an oversized body, CORS preflights). The request id is the caller's X-Request-ID when it
is a sane token, else a new one; it goes back in the answer's X-Request-ID header, into the access
log line and into `request.state.request_id`, so a client's report can be found in the log.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from time import perf_counter
from typing import Any
from urllib.parse import quote

from starlette.routing import Route, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.metrics import UNMATCHED, Metrics

access_logger = logging.getLogger("api.access")

HEADER = b"x-request-id"
# Anything else (too long, spaces, quotes, control characters) could break or forge a log line.
SANE_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
ACCESS_LINE = '%s - "%s %s HTTP/%s" %d %.2f ms request_id=%s'


class ObserveRequests:
    def __init__(self, app: ASGIApp, metrics: Metrics | None, access_log: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log
        self.routes = RouteTemplates()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = perf_counter()
        # 128 random bits in hex, as uuid4().hex but a quarter of its cost.
        request_id = incoming_id(scope["headers"]) or os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (HEADER, request_id.encode())
        status = 500  # what uvicorn answers when the app ends without answering
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                message = {**message, "headers": [*message.get("headers", ()), id_header]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            # Answered here rather than by Starlette's outer error middleware, which would send
            # its 500 without the id. The error goes on to be logged with its traceback.
            if not started:
                with contextlib.suppress(Exception):  # the client may be gone: keep the real error
                    await internal_error(send_with_id)
            raise
        finally:
            seconds = perf_counter() - start
            if self.metrics is not None:
                self.metrics.observe(scope["method"], self.routes.of(scope), status, seconds)
            if self.access_log:
                log_access(scope, status, seconds, request_id, scope["state"].get("unseen"))


def incoming_id(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The caller's X-Request-ID, when it is a sane token."""
    for name, value in headers:
        if name == HEADER:
            text = value.decode("latin-1")
            return text if SANE_ID.fullmatch(text) else None
    return None


class RouteTemplates:
    """The route label of a request: the path template of the route that answered ("/predict"),
    never the raw path, so that the labels stay few."""

    def __init__(self) -> None:
        self.known: list[tuple[re.Pattern[str], str]] | None = None

    def of(self, scope: Scope) -> str:
        route: Any = scope.get("route")  # set by FastAPI when one of its routes answered
        if route is not None:
            path: str = route.path
            return path
        # Answered by a middleware before routing (413, a CORS preflight), by a plain Starlette
        # route (/docs), or by no route at all (404: one label for every unknown path).
        if self.known is None:
            self.known = templates(scope["app"])
        for pattern, template in self.known:
            if pattern.match(scope["path"]):
                return template
        return UNMATCHED


def templates(app: Any) -> list[tuple[re.Pattern[str], str]]:
    """The app's path templates and their patterns: those of its documented operations and of
    its plain routes (/docs, /openapi.json)."""
    paths = [route.path for route in app.routes if isinstance(route, Route)]
    # A schema that cannot be built (/docs says why) leaves the plain routes only.
    with contextlib.suppress(Exception):
        paths += list(app.openapi()["paths"])
    return [(compile_path(path)[0], path) for path in paths]


def log_access(
    scope: Scope,
    status: int,
    seconds: float,
    request_id: str,
    unseen: dict[str, int] | None = None,
) -> None:
    """One line per request; no headers (keys), no query string, no body. `unseen`: per feature,
    the records of a /predict request that held a category never seen in training."""
    if not access_logger.isEnabledFor(logging.INFO):
        return
    client = scope.get("client")
    client_address = f"{client[0]}:{client[1]}" if client else "-"
    path = quote(scope["path"])  # as uvicorn does: no newline or quote can reach the log
    duration_ms = round(seconds * 1000, 3)
    fields = {
        "client": client_address,
        "method": scope["method"],
        "path": path,
        "status": status,
        "duration_ms": duration_ms,
        "request_id": request_id,
    }
    line = (client_address, scope["method"], path, scope.get("http_version", "1.1"), status)
    if not unseen:
        access_logger.info(ACCESS_LINE, *line, duration_ms, request_id, extra=fields)
        return
    # As JSON text: a feature name may hold spaces, quotes or a newline, never a second line.
    access_logger.info(
        ACCESS_LINE + " unseen=%s",
        *line,
        duration_ms,
        request_id,
        json.dumps(unseen),
        extra={**fields, "unseen": unseen},
    )


async def internal_error(send: Send) -> None:
    """Starlette's own answer to an unhandled error."""
    body = b"Internal Server Error"
    headers = [
        (b"content-type", b"text/plain; charset=utf-8"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 500, "headers": headers})
    await send({"type": "http.response.body", "body": body})
