"""Serving your own data: text, booleans and numbers with gaps, and regressors.

The request schema follows the kinds recorded at training time; every answer equals what the
scikit-learn model itself predicts for the same rows (both runtimes).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from support import SavedModel, settings_for

from {{ cookiecutter.module_name }}.predict import model_inputs
from {{ cookiecutter.module_name }}.utils.kinds import JSON_TYPES

from api.main import create_app
from api.schemas import FIELD_TYPES


def as_records(saved: SavedModel) -> list[dict]:
    return json.loads(saved.sample.to_json(orient="records"))  # NaN -> null, as a client sends


@pytest.fixture(scope="module", params=["onnx", "scikit-learn"])
def mixed(
    request: pytest.FixtureRequest, mixed_model: SavedModel, tmp_path_factory
) -> Iterator[tuple[TestClient, SavedModel]]:
    model_dir = mixed_model.model_dir
    if request.param == "scikit-learn":  # the same model without its export: the fallback
        import shutil

        model_dir = tmp_path_factory.mktemp("no-onnx") / "models"
        shutil.copytree(mixed_model.model_dir, model_dir)
        (model_dir / "model.onnx").unlink()
    with TestClient(
        create_app(settings_for(model_dir, max_batch_size=50, max_body_bytes=100_000))
    ) as client:
        assert client.get("/metadata").json()["runtime"] == request.param
        yield client, mixed_model


def test_every_json_type_a_feature_may_have_has_a_request_field() -> None:
    # kinds.JSON_TYPES is what training records and the model check accepts; a type without a
    # field would pass that check, then fail to build the request schema.
    assert set(FIELD_TYPES) == set(JSON_TYPES)


def test_predictions_equal_the_models_own_with_gaps(mixed: tuple[TestClient, SavedModel]) -> None:
    client, saved = mixed
    records = as_records(saved)
    assert any(value is None for record in records for value in record.values())
    body = client.post("/predict", json={"records": records}).json()
    expected = saved.estimator.predict(model_inputs(saved.meta, saved.sample))
    assert body["predictions"] == expected.tolist() and body["classes"] == ["high", "low"]


def test_unseen_categories_are_answered(mixed: tuple[TestClient, SavedModel]) -> None:
    client, saved = mixed
    record = {**as_records(saved)[0], "city": "Marseille"}
    assert client.post("/predict", json={"records": [record]}).status_code == 200


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("income", "lots", "float_type"),
        ("income", 1e39, "less_than_equal"),
        ("city", 3, "string_type"),
        ("member", "yes", "bool_type"),
    ],
)
def test_wrong_types_are_refused_naming_the_field(
    mixed: tuple[TestClient, SavedModel], field: str, value, error: str
) -> None:
    client, saved = mixed
    record = {**as_records(saved)[0], field: value}
    response = client.post("/predict", json={"records": [record]})
    assert response.status_code == 422
    problem = response.json()["detail"][0]
    assert problem["loc"] == ["body", "records", 0, field] and problem["type"] == error


def test_metadata_lists_kinds_and_categories(mixed: tuple[TestClient, SavedModel]) -> None:
    client, _ = mixed
    body = client.get("/metadata").json()
    features = {f["name"]: f for f in body["features"]}
    assert body["task"] == "classification"
    assert features["city"] == {
        "name": "city",
        "dtype": "str",
        "kind": "categorical",
        "categories": ["Lyon", "Nice", "Paris"],
        "nullable": True,
        "date_format": None,
    }
    assert features["member"]["dtype"] == "bool" and features["income"]["kind"] == "numeric"
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Record"]["properties"]
    assert {"type": "null"} in schema["city"]["anyOf"]


def test_a_regressor_answers_numbers_only(regression_model: SavedModel) -> None:
    settings = settings_for(regression_model.model_dir, max_batch_size=50, max_body_bytes=100_000)
    with TestClient(create_app(settings)) as client:
        body = client.post("/predict", json={"records": as_records(regression_model)}).json()
        assert client.get("/metadata").json()["task"] == "regression"
    assert set(body) == {"predictions", "unseen", "model_name", "model_version"}
    expected = regression_model.estimator.predict(
        model_inputs(regression_model.meta, regression_model.sample)
    )
    assert np.max(np.abs(np.array(body["predictions"]) - expected)) <= 1e-5
    assert all(isinstance(value, float) and math.isfinite(value) for value in body["predictions"])
