"""Request body limits (api/limits.py): a deadline for the whole body, and connections closed when
the answer comes before the body. Driven as uvicorn drives the app: ASGI messages, one at a time."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
import pytest
from fastapi import FastAPI
from support import IRIS_RECORD, SavedModel, settings_for

from api.limits import SlowBodyLog
from api.main import create_app

BODY = json.dumps({"records": [IRIS_RECORD]}).encode()
TIMEOUT = 0.2


@pytest.fixture(scope="module")
def app(iris_model: SavedModel) -> FastAPI:
    return create_app(settings_for(iris_model.model_dir, body_timeout=TIMEOUT))


def request(
    app: FastAPI,
    chunks: list[bytes],
    gap: float = 0.0,
    *,
    method: str = "POST",
    path: str = "/predict",
    declared: int | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], Any, float]:
    """(status, headers, JSON body, seconds taken) of one request whose body comes in `chunks`,
    `gap` seconds apart; after the last one the client sends nothing more (nor disconnects)."""
    size = sum(map(len, chunks)) if declared is None else declared
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(size).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": raw_headers,
        "client": ("203.0.113.7", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    pending = list(chunks)
    unsent = size
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal unsent
        if not pending:
            await anyio.sleep_forever()
        if gap:
            await anyio.sleep(gap)
        chunk = pending.pop(0)
        unsent -= len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": unsent > 0}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def run() -> float:
        start = anyio.current_time()
        with anyio.fail_after(10):  # a hung request fails the test instead of stalling it
            await app(scope, receive, send)
        return anyio.current_time() - start

    took = anyio.run(run)
    start = sent[0]
    body = b"".join(message.get("body", b"") for message in sent[1:])
    answer_headers = {k.decode(): v.decode() for k, v in start["headers"]}
    return start["status"], answer_headers, json.loads(body), took


def test_a_body_arriving_in_time_is_served_on_a_kept_alive_connection(app: FastAPI) -> None:
    status, headers, _, _ = request(app, [BODY[:20], BODY[20:]], gap=TIMEOUT / 10)
    assert status == 200
    assert headers.get("connection") != "close"


def test_a_body_that_stops_arriving_gets_408_and_closes_the_connection(app: FastAPI) -> None:
    status, headers, body, took = request(app, [BODY[:20]], declared=len(BODY))
    assert status == 408
    assert "BODY_TIMEOUT" in body["detail"]
    assert headers["connection"] == "close"
    assert TIMEOUT <= took < TIMEOUT + 2


def test_the_deadline_is_for_the_whole_body_not_each_chunk(app: FastAPI) -> None:
    # Each byte comes well within the deadline; all of them together do not.
    chunks = [BODY[i : i + 1] for i in range(len(BODY))]
    status, _, body, took = request(app, chunks, gap=TIMEOUT / 8)
    assert status == 408, body
    assert took < TIMEOUT + 2


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("GET", "/health", 200), ("GET", "/predict", 405), ("POST", "/nowhere", 404)],
)
def test_an_answer_sent_before_the_body_is_in_closes_the_connection(
    app: FastAPI, method: str, path: str, status: int
) -> None:
    # uvicorn would otherwise keep the connection for the rest of the body, however slow.
    answer = request(app, [b"x"], method=method, path=path, declared=1000)
    assert answer[0] == status
    assert answer[1]["connection"] == "close"


def test_a_body_declared_too_large_is_refused_at_once_and_the_connection_closed(
    app: FastAPI,
) -> None:
    status, headers, body, _ = request(app, [b""], declared=10**9)
    assert status == 413
    assert "MAX_BODY_BYTES" in body["detail"]
    assert headers["connection"] == "close"


def test_slow_bodies_are_logged_once_then_summed_up(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    log = SlowBodyLog(TIMEOUT)
    scope = {"method": "POST", "path": "/predict", "client": ("203.0.113.7", 50000)}
    with caplog.at_level(logging.WARNING, logger="uvicorn.error"):
        for _ in range(500):  # a flood: one line
            log.timed_out(scope)
        assert len(caplog.records) == 1
        assert "1 request body(ies)" in caplog.text
        assert "203.0.113.7" in caplog.text
        log.next_line = 0.0  # a minute later
        log.timed_out(scope)
    assert len(caplog.records) == 2
    assert "500 request body(ies)" in caplog.records[1].getMessage()


def test_the_apps_408_is_in_the_log(
    iris_model: SavedModel, caplog: pytest.LogCaptureFixture
) -> None:
    fresh = create_app(settings_for(iris_model.model_dir, body_timeout=TIMEOUT))  # its log is new
    with caplog.at_level(logging.WARNING, logger="uvicorn.error"):
        assert request(fresh, [BODY[:5]], declared=len(BODY))[0] == 408
    assert f"BODY_TIMEOUT={TIMEOUT} s (latest: POST /predict from 203.0.113.7:50000)" in caplog.text
