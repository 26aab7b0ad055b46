"""A fast lane for valid POST /predict requests, in front of FastAPI.

Routing, middleware, dependency injection and request parsing in FastAPI cost ten times more than
scoring one record with ONNX Runtime. So the app (api.main.App) asks this lane first. It answers a
valid /predict itself: it reads the body, validates it in one pass with pydantic's JSON parser
(the request model FastAPI documents), scores it and writes the bytes FastAPI would. Everything
else, every invalid request included, goes to FastAPI untouched (the body is replayed), so error
answers, limits and the OpenAPI docs stay FastAPI's own.
"""

from __future__ import annotations

import json
from typing import Any

from anyio import to_thread
from pydantic import BaseModel, ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.limits import content_length
from api.model import ServedModel

# Larger batches are scored in a worker thread, so one big request never stalls the event loop.
INLINE_RECORDS = 64


class FastPredict:
    """Answers valid POST /predict requests; hands everything else to `app` (the FastAPI stack)."""

    def __init__(
        self,
        app: ASGIApp,
        model: ServedModel | None,
        request_model: type[BaseModel] | None,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.model = model
        self.request_model = request_model
        self.max_body_bytes = max_body_bytes
        self._middle: bytes | None = None
        self._tail = b""

    def handles(self, scope: Scope) -> bool:
        """A /predict POST with a declared, acceptable size, while a model is loaded.

        Chunked or oversized bodies go the normal way, where the size limit answers them.
        """
        if self.model is None or scope["type"] != "http" or scope["path"] != "/predict":
            return False
        if scope["method"] != "POST":
            return False
        declared = content_length(scope)
        return declared is not None and declared <= self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.handles(scope):
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        try:
            request = self.request_model.model_validate_json(body)  # type: ignore[union-attr]
        except ValidationError:
            await self.app(scope, replay(body), send)  # FastAPI answers 422 its own way
            return
        records = request.records  # type: ignore[attr-defined]
        model: ServedModel = self.model  # type: ignore[assignment]
        if len(records) <= INLINE_RECORDS:
            predictions, probabilities = model.predict(records)
        else:
            predictions, probabilities = await to_thread.run_sync(model.predict, records)
        await send_body(send, 200, self.render(predictions, probabilities))

    def render(self, predictions: list[Any], probabilities: list[list[float]] | None) -> bytes:
        """The route's JSON answer; the parts that never change are rendered once."""
        if self._middle is None:
            model: ServedModel = self.model  # type: ignore[assignment]
            self._middle = b',"classes":' + dumps(model.classes) + b',"probabilities":'
            tail = {"model_name": model.meta.model_name, "model_version": model.meta.model_version}
            self._tail = b"," + dumps(tail)[1:]
        head = b'{"predictions":' + dumps(predictions)
        return head + self._middle + dumps(probabilities) + self._tail


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


# Exactly the rendering of FastAPI's JSONResponse; one encoder, not one per call (json.dumps with
# options builds a new encoder each time, which costs more than scoring a record).
ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


def dumps(content: Any) -> bytes:
    return ENCODER.encode(content).encode("utf-8")


async def send_body(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
