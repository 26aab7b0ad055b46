"""The fast lane for /predict answers exactly as the FastAPI route it stands in front of."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest
from conftest import FEATURES, SavedModel, settings_for
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.fast_predict import INLINE_RECORDS
from api.main import App, create_app


@pytest.fixture(scope="module")
def app(iris_model: SavedModel) -> App:
    return create_app(
        settings_for(iris_model.model_dir, max_batch_size=500, max_body_bytes=100_000)
    )


@pytest.fixture(scope="module")
def fast(app: App) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def route_only(app: App) -> Iterator[TestClient]:
    """The same app without the fast lane: FastAPI's middleware, routing and validation."""
    with TestClient(partial(FastAPI.__call__, app)) as client:
        yield client


def batch(iris_model: SavedModel, size: int) -> dict[str, list[dict[str, float]]]:
    rows = iris_model.sample.to_dict("records")
    return {
        "records": [{name: rows[i % len(rows)][name] for name in FEATURES} for i in range(size)]
    }


@pytest.mark.parametrize("size", [1, INLINE_RECORDS + 1], ids=["inline", "worker-thread"])
def test_fast_lane_answers_byte_for_byte_like_the_route(
    fast: TestClient, route_only: TestClient, iris_model: SavedModel, size: int
) -> None:
    body = batch(iris_model, size)
    quick, routed = fast.post("/predict", json=body), route_only.post("/predict", json=body)
    assert quick.status_code == routed.status_code == 200
    assert quick.content == routed.content
    assert quick.headers["content-type"] == routed.headers["content-type"]


def test_invalid_requests_get_the_routes_own_answer(
    fast: TestClient, route_only: TestClient, iris_model: SavedModel
) -> None:
    bad = {"records": [{**batch(iris_model, 1)["records"][0], "petal_width": "wide"}]}
    quick, routed = fast.post("/predict", json=bad), route_only.post("/predict", json=bad)
    assert quick.status_code == routed.status_code == 422
    assert quick.json() == routed.json()
    assert quick.json()["detail"][0]["loc"] == ["body", "records", 0, "petal_width"]


def test_other_paths_and_methods_are_untouched(fast: TestClient) -> None:
    assert fast.get("/predict").status_code == 405
    assert fast.get("/health").json() == {"status": "ok"}
