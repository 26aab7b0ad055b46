"""A field the model imputes (nullable) may be left out of a record: it means null, and the OpenAPI
document marks it optional. A field the model cannot do without stays required: 422 naming it."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient
from support import IRIS_RECORD, SavedModel, settings_for

from api.main import create_app


def test_an_omitted_nullable_field_is_answered_as_null(mixed_model: SavedModel) -> None:
    record = json.loads(mixed_model.sample.to_json(orient="records"))[0]
    without_age = {name: value for name, value in record.items() if name != "age"}
    with TestClient(create_app(settings_for(mixed_model.model_dir))) as client:
        nulled = client.post("/predict", json={"records": [{**record, "age": None}]})
        omitted = client.post("/predict", json={"records": [without_age, record]})
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Record"]
    assert omitted.status_code == 200, omitted.text
    assert omitted.json()["probabilities"][0] == nulled.json()["probabilities"][0]
    assert "required" not in schema  # every feature of this model is nullable


def test_an_omitted_required_field_is_refused_naming_it(client: TestClient) -> None:
    record = {name: value for name, value in IRIS_RECORD.items() if name != "petal_width"}
    response = client.post("/predict", json={"records": [IRIS_RECORD, record]})
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["type"] == "missing"
    assert problem["loc"] == ["body", "records", 1, "petal_width"]
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Record"]
    assert sorted(schema["required"]) == sorted(IRIS_RECORD)
