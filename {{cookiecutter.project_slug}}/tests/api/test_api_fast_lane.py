"""The fast lane for /predict answers exactly as the FastAPI route it stands in front of."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from conftest import FEATURES, SavedModel, settings_for
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.fast_predict import INLINE_RECORDS
from api.main import App, create_app

LARGE = INLINE_RECORDS + 1


@pytest.fixture(scope="module", params=["scikit-learn", "onnx"])
def app(request: pytest.FixtureRequest) -> App:
    """The app on each runtime: the iris pipeline (scikit-learn) and the forest with its export."""
    fixture = "iris_model" if request.param == "scikit-learn" else "forest_model"
    saved: SavedModel = request.getfixturevalue(fixture)
    app = create_app(settings_for(saved.model_dir, max_batch_size=500, max_body_bytes=100_000))
    assert app.state.model.runtime == request.param
    app.state.saved = saved
    return app


@pytest.fixture(scope="module")
def fast(app: App) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def route_only(app: App) -> Iterator[TestClient]:
    """The same app without the fast lane: FastAPI's middleware, routing and validation."""
    with TestClient(partial(FastAPI.__call__, app)) as client:
        yield client


def batch(saved: SavedModel, size: int) -> dict[str, list[dict[str, float]]]:
    rows = saved.sample.to_dict("records")
    return {
        "records": [{name: rows[i % len(rows)][name] for name in FEATURES} for i in range(size)]
    }


@pytest.mark.parametrize("size", [1, LARGE], ids=["one", "large"])
def test_fast_lane_answers_byte_for_byte_like_the_route(
    app: App, fast: TestClient, route_only: TestClient, size: int
) -> None:
    body = batch(app.state.saved, size)
    quick, routed = fast.post("/predict", json=body), route_only.post("/predict", json=body)
    assert quick.status_code == routed.status_code == 200
    assert quick.content == routed.content
    assert quick.headers["content-type"] == routed.headers["content-type"]


def test_invalid_requests_get_the_routes_own_answer(
    app: App, fast: TestClient, route_only: TestClient
) -> None:
    bad = {"records": [{**batch(app.state.saved, 1)["records"][0], "petal_width": "wide"}]}
    quick, routed = fast.post("/predict", json=bad), route_only.post("/predict", json=bad)
    assert quick.status_code == routed.status_code == 422
    assert quick.json() == routed.json()
    assert quick.json()["detail"][0]["loc"] == ["body", "records", 0, "petal_width"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
def test_bodies_that_are_not_declared_json_get_the_routes_answer(
    app: App, fast: TestClient, route_only: TestClient, content_type: str
) -> None:
    content = json.dumps(batch(app.state.saved, 1))
    headers = {"content-type": content_type}
    quick = fast.post("/predict", content=content, headers=headers)
    routed = route_only.post("/predict", content=content, headers=headers)
    assert quick.status_code == routed.status_code == 422
    assert quick.json() == routed.json()


def test_other_paths_and_methods_are_untouched(fast: TestClient) -> None:
    assert fast.get("/predict").status_code == 405
    assert fast.get("/health").json() == {"status": "ok"}


def test_large_batches_are_scored_off_the_event_loop(app: App, fast: TestClient) -> None:
    """A large batch must not stall the other requests; a small one is not worth a thread hop."""
    lane = app.fast_lane
    served = lane.model
    on_loop: list[bool] = []

    def watched_score(inputs: Any) -> Any:
        on_loop.append(running_on_event_loop())
        return served.score(inputs)

    lane.model = dataclasses.replace(served, score=watched_score)
    try:
        for size in (1, LARGE):
            assert fast.post("/predict", json=batch(app.state.saved, size)).status_code == 200
    finally:
        lane.model = served
    assert on_loop == [True, False]


def running_on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True
