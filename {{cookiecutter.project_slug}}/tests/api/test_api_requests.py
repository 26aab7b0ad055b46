"""Every answer carries a request id (X-Request-ID), and every request leaves one access log line
with that id: the caller's id when it is a sane token, a new one otherwise."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from support import IRIS_RECORD, SavedModel, settings_for

from api.main import create_app

KEY = "k1-" + "a" * 29
NEW_ID = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def keyed(iris_model: SavedModel) -> Iterator[TestClient]:
    settings = settings_for(iris_model.model_dir, api_keys=KEY)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.mark.parametrize(
    "request_id", ["abc-123", "A.b_c-9", "7" * 128], ids=["dash", "dot", "128"]
)
def test_a_sane_request_id_is_echoed(client: TestClient, request_id: str) -> None:
    response = client.get("/health", headers={"x-request-id": request_id})
    assert response.headers["x-request-id"] == request_id


@pytest.mark.parametrize(
    "request_id",
    ["", "has space", "x" * 129, 'quote"d', "semi;colon", "caf\u00e9"],
    ids=["empty", "space", "too-long", "quote", "semicolon", "non-ascii"],
)
def test_an_insane_request_id_is_replaced(client: TestClient, request_id: str) -> None:
    response = client.get("/health", headers={"x-request-id": request_id.encode()})
    assert NEW_ID.fullmatch(response.headers["x-request-id"])


def test_each_request_without_an_id_gets_a_new_one(client: TestClient) -> None:
    ids = {client.get("/health").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3
    assert all(NEW_ID.fullmatch(request_id) for request_id in ids)


def test_error_answers_carry_the_request_id_too(
    keyed: TestClient, no_model_client: TestClient
) -> None:
    sent = {"x-request-id": "trace-me"}
    answers = {
        401: keyed.post("/predict", json={"records": [IRIS_RECORD]}, headers=sent),
        404: keyed.get("/no-such-page", headers=sent),
        413: keyed.post("/predict", content=b"x" * 10_000, headers=sent),
        422: keyed.post("/predict", json={"records": [{}]}, headers={**sent, "x-api-key": KEY}),
        503: no_model_client.get("/ready", headers=sent),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers["x-request-id"] == "trace-me", status


def test_routes_read_the_request_id_from_the_request_state(iris_model: SavedModel) -> None:
    app = create_app(settings_for(iris_model.model_dir))

    @app.get("/whoami")
    async def whoami(request: Request) -> str:
        return request.state.request_id

    with TestClient(app) as client:
        response = client.get("/whoami", headers={"x-request-id": "me-1"})
    assert response.json() == "me-1"


def test_an_unexpected_error_is_a_500_with_the_request_id(
    iris_model: SavedModel, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings_for(iris_model.model_dir))

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    caplog.set_level(logging.INFO, logger="api.access")
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/broken", headers={"x-request-id": "bug-1"})
    assert (response.status_code, response.text) == (500, "Internal Server Error")
    assert response.headers["x-request-id"] == "bug-1"
    [line] = [r for r in caplog.records if r.name == "api.access"]
    assert (line.status, line.request_id) == (500, "bug-1")  # type: ignore[attr-defined]  # log extras


def test_the_access_log_has_one_line_per_request_with_its_id(
    keyed: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    headers = {"x-request-id": "req-42", "x-api-key": KEY}
    keyed.post("/predict?secret=no", json={"records": [IRIS_RECORD]}, headers=headers)
    [line] = [r for r in caplog.records if r.name == "api.access"]
    message = line.getMessage()
    assert '"POST /predict HTTP/1.1" 200' in message
    assert "request_id=req-42" in message
    fields = {name: getattr(line, name) for name in ("method", "path", "status", "request_id")}
    assert fields == {"method": "POST", "path": "/predict", "status": 200, "request_id": "req-42"}
    assert line.duration_ms > 0  # type: ignore[attr-defined]  # a log record extra
    assert line.client.startswith("testclient:")  # type: ignore[attr-defined]  # a log record extra
    # Never a key, a body or a query string.
    assert KEY not in caplog.text
    assert "sepal" not in caplog.text
    assert "secret" not in caplog.text


def test_a_path_cannot_forge_a_log_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    client.get("/x%0A%22fake line")
    [line] = [r for r in caplog.records if r.name == "api.access"]
    assert "\n" not in line.getMessage()
    assert '"fake' not in line.getMessage()


def test_the_access_log_can_be_turned_off(
    iris_model: SavedModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="api.access")
    with TestClient(create_app(settings_for(iris_model.model_dir, access_log=False))) as client:
        assert client.get("/health").headers["x-request-id"]
    assert not [r for r in caplog.records if r.name == "api.access"]
