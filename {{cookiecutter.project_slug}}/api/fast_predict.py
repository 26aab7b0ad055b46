"""A fast lane for valid POST /predict requests, in front of FastAPI.

Routing, middleware, dependency injection and request parsing in FastAPI cost ten times more than
scoring one record with ONNX Runtime. So the app (api.main.App) asks this lane first. It answers a
valid /predict itself: it reads the body, validates it in one pass with pydantic's JSON parser
(against the request type FastAPI documents), scores it and sends the bytes the route would.
Everything else, every invalid request included, goes to FastAPI untouched (the body is
replayed), so error answers, limits and the OpenAPI docs stay FastAPI's own.
"""

from __future__ import annotations

from typing import Any

from anyio import to_thread
from pydantic import TypeAdapter, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import content_length
from api.model import NonFiniteOutput, ServedModel

# Larger batches are scored in a worker thread, so one big request never stalls the event loop.
INLINE_RECORDS = 64


class FastPredict:
    """Answers valid POST /predict requests; hands everything else to `app` (the FastAPI stack)."""

    def __init__(
        self,
        app: ASGIApp,
        model: ServedModel | None,
        request_type: Any,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.model = model
        self.request = TypeAdapter(request_type) if model is not None else None
        self.max_body_bytes = max_body_bytes

    def handles(self, scope: Scope) -> bool:
        """A /predict POST of JSON with a declared, acceptable size, while a model is loaded.

        Chunked or oversized bodies go the normal way, where the size limit answers them, and so
        do bodies of another content type, which FastAPI refuses.
        """
        if self.model is None or scope["type"] != "http" or scope["path"] != "/predict":
            return False
        if scope["method"] != "POST" or not declares_json(scope):
            return False
        declared = content_length(scope)
        return declared is not None and declared <= self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer a request `handles` accepted."""
        body = await read_body(receive)
        model: ServedModel = self.model  # type: ignore[assignment]
        try:
            records = self.request.validate_json(body)["records"]  # type: ignore[union-attr]
            if len(records) <= INLINE_RECORDS:
                answer = model.answer(records)
            else:
                answer = await to_thread.run_sync(model.answer, records)
        except (ValidationError, NonFiniteOutput):
            # FastAPI gives the error answer its own way: 422, or 500 with a log line.
            await self.app(scope, replay(body), send)
            return
        headers = [(b"content-length", b"%d" % len(answer)), (b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


def declares_json(scope: Scope) -> bool:
    """What FastAPI parses as JSON: no Content-Type, application/json or application/*+json."""
    for name, value in scope["headers"]:
        if name == b"content-type":
            media_type = value.split(b";", 1)[0].strip().lower()
            return media_type == b"application/json" or (
                media_type.startswith(b"application/") and media_type.endswith(b"+json")
            )
    return True


async def read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes) -> Receive:
    """A receive channel that hands the already-read body to the next app."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return {"type": "http.disconnect"}

    return receive
