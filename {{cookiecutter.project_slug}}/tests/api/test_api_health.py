"""Liveness, readiness, metadata and docs: with a model, and before any model exists."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_health_answers_with_a_model(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_names_the_loaded_model(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["model_name"] == "iris-test"


def test_metadata_reports_the_lineage_saved_at_training(client: TestClient, iris_model) -> None:
    response = client.get("/metadata")
    assert response.status_code == 200
    body = response.json()
    meta = iris_model.meta
    for key in ("model_name", "run_id", "git_commit", "git_dirty", "data_hash", "trained_at"):
        assert body[key] == getattr(meta, key), key
    assert body["metrics"] == {"accuracy": 0.97}
    assert body["classes"] == ["setosa", "versicolor", "virginica"]
    assert [feature["name"] for feature in body["features"]] == [f.name for f in meta.features]


def test_openapi_documents_the_record_schema_from_the_features(
    client: TestClient, iris_model
) -> None:
    schema = client.get("/openapi.json").json()
    record = schema["components"]["schemas"]["Record"]
    assert record["required"] == [feature.name for feature in iris_model.meta.features]
    assert record["additionalProperties"] is False
    assert {"/predict", "/health", "/ready", "/metadata"} <= set(schema["paths"])
    assert client.get("/docs").status_code == 200


def test_without_a_model_the_app_is_alive_but_not_ready(no_model_client: TestClient) -> None:
    assert no_model_client.get("/health").status_code == 200
    response = no_model_client.get("/ready")
    assert response.status_code == 503
    assert "no model loaded" in response.json()["detail"]
    assert "dvc repro" in response.json()["detail"]


def test_without_a_model_metadata_and_predict_answer_503(no_model_client: TestClient) -> None:
    assert no_model_client.get("/metadata").status_code == 503
    response = no_model_client.post("/predict", json={"records": [{"sepal_length": 1.0}]})
    assert response.status_code == 503
    assert "no model loaded" in response.json()["detail"]
