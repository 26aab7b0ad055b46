"""Limits on request bodies, applied before the app parses them: size (413) and time (408).

A plain ASGI middleware (BaseHTTPMiddleware would add a task and a copy per request). It trusts
Content-Length when given and counts the bytes of chunked bodies as they arrive.

uvicorn has no deadline for a request body: a client that declares one and sends a byte every few
seconds holds a connection, a task and its buffers for as long as it likes, and thousands of them
exhaust the server's file descriptors. So the whole body (not each chunk) must arrive within
`timeout` seconds of the request's headers, else 408. A response sent before the body is complete
(the 408, a 413, a 401, a 503, a route that never reads it) closes the connection: uvicorn would
otherwise keep it open for the rest of the body, however slowly it comes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("uvicorn.error")  # uvicorn's logger: lines land in the server log

CLOSE = (b"connection", b"close")


class BodyLimits:
    def __init__(self, app: ASGIApp, max_bytes: int, timeout: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        self.too_large = f"request body larger than {max_bytes} bytes (MAX_BODY_BYTES)"
        self.too_slow = f"request body not received within {timeout:g} s (BODY_TIMEOUT)"
        self.slow_log = SlowBodyLog(timeout)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared, chunked = body_headers(scope)
        if declared is not None and declared > self.max_bytes:
            await self.refuse(send)
            return
        if not declared and not chunked:  # no body (GET /health...): nothing to guard
            await self.app(scope, receive, send)
            return
        guard = BodyGuard(self, scope, receive, send)
        try:
            await self.app(scope, guard.receive, guard.send)
        finally:
            guard.timer.cancel()

    async def refuse(self, send: Send) -> None:
        body = json.dumps({"detail": self.too_large}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            CLOSE,  # the client may still be sending the body
        ]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class BodyGuard:
    """One request's body: counted against the size limit, and refused once the deadline passes.

    The deadline is one timer per request rather than a timeout around each read: a cancel scope
    per read cost more than the rest of the middleware. When the timer fires while the app waits
    for the body, that wait is cancelled and becomes a 408.
    """

    def __init__(self, limits: BodyLimits, scope: Scope, receive: Receive, send: Send) -> None:
        self.limits = limits
        self.scope = scope
        self._receive = receive
        self._send = send
        self.received = 0
        self.complete = False
        self.expired = False
        self.waiting: asyncio.Task[Any] | None = None  # the task waiting for the body, if any
        loop = asyncio.get_running_loop()
        self.timer = loop.call_at(loop.time() + limits.timeout, self.expire)

    def expire(self) -> None:
        self.expired = True
        if self.waiting is not None:
            self.waiting.cancel()

    async def receive(self) -> Message:
        if self.complete:  # the body is in: later calls wait for a disconnect, without deadline
            return await self._receive()
        if self.expired:
            raise self.too_slow()
        self.waiting = asyncio.current_task()
        try:
            message = await self._receive()
        except asyncio.CancelledError:
            # Ours (the deadline), unless the task is also being cancelled for another reason.
            if not self.expired or uncancel(self.waiting) > 0:
                raise
            raise self.too_slow() from None
        finally:
            self.waiting = None
        self.received += len(message.get("body", b""))
        self.complete = not message.get("more_body", False)
        if self.complete:
            self.timer.cancel()
        if self.received > self.limits.max_bytes:
            # Raised while the app reads the body; its exception handler answers 413.
            raise HTTPException(status_code=413, detail=self.limits.too_large)
        return message

    def too_slow(self) -> HTTPException:
        self.limits.slow_log.timed_out(self.scope)
        return HTTPException(status_code=408, detail=self.limits.too_slow)

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and not self.complete:
            message = {**message, "headers": [*message.get("headers", []), CLOSE]}
        await self._send(message)


def uncancel(task: asyncio.Task[Any] | None) -> int:
    """Undo one cancel() of task; the cancellations still pending (Python 3.10 counts none)."""
    if task is None or not hasattr(task, "uncancel"):
        return 0
    return int(task.uncancel())


class SlowBodyLog:
    """A warning for the first slow body, then at most one line a minute summing up the others: a
    flood of slow clients must not flood the log too."""

    INTERVAL = 60.0

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.next_line = 0.0
        self.count = 0

    def timed_out(self, scope: Scope) -> None:
        self.count += 1
        now = time.monotonic()
        if now < self.next_line:
            return
        client = "{}:{}".format(*scope["client"]) if scope.get("client") else "unknown client"
        logger.warning(
            "%d request body(ies) did not arrive within BODY_TIMEOUT=%g s (latest: %s %s from %s):"
            " answered 408 and closed the connection. Further ones are summed up here at most once"
            " a minute; many mean slow clients or an attack (see docs/serving.md, Slow clients).",
            self.count,
            self.timeout,
            scope["method"],
            scope["path"],
            client,
        )
        self.count = 0
        self.next_line = now + self.INTERVAL


def body_headers(scope: Scope) -> tuple[int | None, bool]:
    """The declared body size (None when absent or not a number) and whether it is chunked."""
    declared, chunked = None, False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                declared = int(value)
            except ValueError:
                declared = None
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value.lower()
    return declared, chunked
