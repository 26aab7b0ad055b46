"""Prometheus metrics at /metrics: requests by route template and status, latency, predictions
served and the model being served; behind the API keys when they are set."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sklearn.linear_model import LogisticRegression
from support import IRIS_RECORD, SavedModel, iris_meta, iris_xy, settings_for

from {{ cookiecutter.module_name }}.artifact.write import save_artifacts, write_lineage

from api.main import create_app

KEY = "k1-" + "a" * 29

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    """Every sample of /metrics: (name, labels) -> value."""
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def requests(samples: Samples, method: str, route: str, status: int) -> float:
    labels = frozenset({"method": method, "route": route, "status": str(status)}.items())
    return samples.get(("http_requests_total", labels), 0.0)


@pytest.fixture
def client(iris_model: SavedModel) -> Iterator[TestClient]:
    """A fresh app per test: each app counts in its own registry."""
    with TestClient(create_app(settings_for(iris_model.model_dir))) as test_client:
        yield test_client


def test_requests_are_counted_by_route_template_and_status(client: TestClient) -> None:
    before = scrape(client)
    for _ in range(3):
        client.get("/health")
    client.post("/predict", json={"records": [IRIS_RECORD]})
    client.post("/predict", json={"records": [{**IRIS_RECORD, "petal_width": "wide"}]})
    after = scrape(client)
    assert requests(after, "GET", "/health", 200) - requests(before, "GET", "/health", 200) == 3
    assert requests(after, "POST", "/predict", 200) == 1
    assert requests(after, "POST", "/predict", 422) == 1
    latency = frozenset({"method": "POST", "route": "/predict"}.items())
    assert after[("http_request_duration_seconds_count", latency)] == 2
    assert after[("http_request_duration_seconds_sum", latency)] > 0


def test_unknown_paths_and_methods_share_one_label(client: TestClient) -> None:
    for path in ("/admin", "/wp-login.php", "/predict/../../etc/passwd", "/a/b/c?x=1"):
        assert client.get(path).status_code == 404
    client.request("PROPFIND", "/health")
    samples = scrape(client)
    assert requests(samples, "GET", "<unmatched>", 404) == 4
    assert requests(samples, "other", "/health", 405) == 1
    routes = {dict(labels).get("route") for _, labels in samples}
    assert routes <= {None, "<unmatched>", "/health", "/metrics"}


def test_answers_given_before_routing_get_the_route_label(client: TestClient) -> None:
    oversized = client.post(
        "/predict", content=b"x" * 10_000, headers={"content-type": "application/json"}
    )
    assert oversized.status_code == 413
    assert client.get("/docs").status_code == 200
    samples = scrape(client)
    assert requests(samples, "POST", "/predict", 413) == 1
    assert requests(samples, "GET", "/docs", 200) == 1


def test_predictions_count_the_records_scored(client: TestClient) -> None:
    client.post("/predict", json={"records": [IRIS_RECORD] * 3})
    client.post("/predict", json={"records": [IRIS_RECORD, IRIS_RECORD]})
    client.post("/predict", json={"records": [{**IRIS_RECORD, "petal_width": "wide"}] * 4})  # 422
    assert scrape(client)[("model_predictions_total", frozenset())] == 5


def test_the_model_info_names_the_served_model(tmp_path: Path) -> None:
    features, target = iris_xy()
    model = LogisticRegression(max_iter=500).fit(features, target)
    meta = save_artifacts(model, iris_meta(model_version="7"), tmp_path)
    write_lineage(meta, tmp_path / "lineage.json")
    with TestClient(create_app(settings_for(tmp_path))) as client:
        samples = scrape(client)
    info = {"name": "iris-test", "version": "7", "runtime": "scikit-learn"}
    assert samples[("model_info", frozenset(info.items()))] == 1


def test_without_a_model_there_is_no_model_info(no_model_client: TestClient) -> None:
    assert not [name for name, _ in scrape(no_model_client) if name == "model_info"]


def test_metrics_need_a_key_when_keys_are_set(iris_model: SavedModel) -> None:
    with TestClient(create_app(settings_for(iris_model.model_dir, api_keys=KEY))) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"x-api-key": "wrong"}).status_code == 401
        assert client.get("/health").status_code == 200  # probes stay open
        assert requests(scrape(client, **{"x-api-key": KEY}), "GET", "/metrics", 401) == 2
        operation = client.get("/openapi.json").json()["paths"]["/metrics"]["get"]
        assert "security" in operation


def test_metrics_can_be_turned_off(iris_model: SavedModel) -> None:
    with TestClient(create_app(settings_for(iris_model.model_dir, metrics=False))) as client:
        assert client.get("/metrics").status_code == 404
        response = client.post("/predict", json={"records": [IRIS_RECORD]})
        assert response.status_code == 200
        assert response.headers["x-request-id"]  # the request id does not depend on metrics
