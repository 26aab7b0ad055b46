"""Extending the app the FastAPI way reaches every request, /predict included.

Middleware, dependencies and dependency overrides are how users add authentication, logging or
test doubles; none of them may be bypassed by a request that happens to be valid.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from support import IRIS_RECORD, SavedModel, settings_for

from api.deps import served_model
from api.main import create_app
from api.model import ServedModel

CallNext = Callable[[Request], Awaitable[Response]]
BODIES = {
    "valid": {"records": [IRIS_RECORD]},
    "invalid": {"records": [{**IRIS_RECORD, "petal_width": "wide"}]},
}


@pytest.fixture
def app(iris_model: SavedModel) -> FastAPI:
    return create_app(settings_for(iris_model.model_dir))


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_http_middleware_sees_every_predict_request(app: FastAPI, body: dict) -> None:
    @app.middleware("http")
    async def require_token(request: Request, call_next: CallNext) -> Response:
        if request.headers.get("x-token") != "let-me-in":
            return JSONResponse({"detail": "no token"}, status_code=401)
        return await call_next(request)

    with TestClient(app) as client:
        refused = client.post("/predict", json=body)
        assert (refused.status_code, refused.json()) == (401, {"detail": "no token"})
        allowed = client.post("/predict", json=body, headers={"x-token": "let-me-in"})
        assert allowed.status_code == (200 if body is BODIES["valid"] else 422)


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_dependency_override_applies_to_every_predict_request(app: FastAPI, body: dict) -> None:
    async def refuse() -> ServedModel:
        raise HTTPException(status_code=403, detail="maintenance")

    app.dependency_overrides[served_model] = refuse
    with TestClient(app) as client:
        response = client.post("/predict", json=body)
    assert (response.status_code, response.json()) == (403, {"detail": "maintenance"})


def test_an_overriding_model_is_the_one_that_answers(app: FastAPI) -> None:
    loaded: ServedModel = app.state.model
    stand_in = dataclasses.replace(
        loaded,
        meta=dataclasses.replace(loaded.meta, model_name="stand-in"),
        score=lambda inputs: (["stand-in"] * len(inputs), None),
        classes=None,
    )
    app.dependency_overrides[served_model] = lambda: stand_in
    with TestClient(app) as client:
        body = client.post("/predict", json=BODIES["valid"]).json()
        metadata = client.get("/metadata").json()
    assert body["predictions"] == ["stand-in"]
    assert body["model_name"] == metadata["model_name"] == "stand-in"
