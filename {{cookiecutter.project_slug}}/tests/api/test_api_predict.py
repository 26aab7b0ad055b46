"""POST /predict: answers match the model; every bad request gets a 4xx that says why."""

from __future__ import annotations

import gzip
import json
import math

import numpy as np
import pytest
from fastapi.testclient import TestClient
from support import IRIS_RECORD, settings_for

from api.main import create_app
from api.schemas import MAX_LISTED_ERRORS, InvalidRequest


def test_predictions_match_the_model(client: TestClient, iris_model) -> None:
    model, sample = iris_model.estimator, iris_model.sample
    response = client.post("/predict", json={"records": sample.to_dict(orient="records")})
    assert response.status_code == 200
    body = response.json()
    assert body["predictions"] == model.predict(sample).tolist()
    assert body["classes"] == ["setosa", "versicolor", "virginica"]
    np.testing.assert_allclose(body["probabilities"], model.predict_proba(sample), rtol=1e-12)
    assert all(math.isclose(sum(row), 1.0) for row in body["probabilities"])
    assert body["model_name"] == "iris-test"


def test_integers_are_accepted_for_float_features(client: TestClient) -> None:
    response = client.post("/predict", json={"records": [{**IRIS_RECORD, "sepal_length": 5}]})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == 1


def limits(client: TestClient) -> tuple[int, int]:
    settings = client.app.state.settings
    return settings.max_batch_size, settings.max_body_bytes


def errors_of(response) -> list[tuple[tuple, str]]:
    assert response.status_code == 422, response.text
    return [(tuple(error["loc"]), error["type"]) for error in response.json()["detail"]]


def test_missing_field_is_named(client: TestClient) -> None:
    record = {key: value for key, value in IRIS_RECORD.items() if key != "petal_width"}
    response = client.post("/predict", json={"records": [IRIS_RECORD, record]})
    assert errors_of(response) == [(("body", "records", 1, "petal_width"), "missing")]


def test_extra_field_is_named(client: TestClient) -> None:
    response = client.post("/predict", json={"records": [{**IRIS_RECORD, "colour": "blue"}]})
    assert errors_of(response) == [(("body", "records", 0, "colour"), "extra_forbidden")]


@pytest.mark.parametrize(
    ("value", "error_type"),
    [("5.1", "float_type"), (True, "float_type"), (None, "float_type"), ([1.0], "float_type")],
    ids=["string", "bool", "null", "list"],
)
def test_wrongly_typed_field_is_named(client: TestClient, value: object, error_type: str) -> None:
    response = client.post("/predict", json={"records": [{**IRIS_RECORD, "sepal_width": value}]})
    assert errors_of(response) == [(("body", "records", 0, "sepal_width"), error_type)]


def test_non_finite_number_is_refused(client: TestClient) -> None:
    record = '{"sepal_length": NaN, "sepal_width": 1, "petal_length": 1, "petal_width": 1}'
    body = '{"records": [' + record + "]}"
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert errors_of(response) == [(("body", "records", 0, "sepal_length"), "finite_number")]


def test_non_finite_numbers_echoed_in_errors_are_refused_not_a_server_error(
    client: TestClient,
) -> None:
    # The refused values are echoed, and strict JSON has no NaN: they come back as text.
    body = '{"records": [{"sepal_length": NaN, "sepal_width": Infinity}]}'
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert errors_of(response) == [
        (("body", "records", 0, "sepal_length"), "finite_number"),
        (("body", "records", 0, "sepal_width"), "finite_number"),
        (("body", "records", 0, "petal_length"), "missing"),
        (("body", "records", 0, "petal_width"), "missing"),
    ]
    # A "missing" error does not echo its record (the client has it; the loc names it).
    inputs = [error.get("input", "absent") for error in response.json()["detail"]]
    assert inputs == ["nan", "inf", "absent", "absent"]


def test_empty_batch_is_refused(client: TestClient) -> None:
    assert errors_of(client.post("/predict", json={"records": []})) == [
        (("body", "records"), "too_short")
    ]


def test_batch_over_the_limit_is_refused_without_echoing_it(client: TestClient) -> None:
    max_batch, _ = limits(client)
    response = client.post("/predict", json={"records": [IRIS_RECORD] * (max_batch + 1)})
    assert errors_of(response) == [(("body", "records"), "too_long")]
    assert f"at most {max_batch}" in response.json()["detail"][0]["msg"]
    assert "input" not in response.json()["detail"][0]


def test_batch_at_the_limit_is_served(client: TestClient) -> None:
    max_batch, _ = limits(client)
    response = client.post("/predict", json={"records": [IRIS_RECORD] * max_batch})
    assert response.status_code == 200
    assert len(response.json()["predictions"]) == max_batch


def test_body_without_records_key_is_refused(client: TestClient) -> None:
    assert errors_of(client.post("/predict", json=[IRIS_RECORD])) == [(("body",), "dict_type")]


def test_malformed_json_is_refused(client: TestClient) -> None:
    response = client.post(
        "/predict", content=b'{"records": [', headers={"content-type": "application/json"}
    )
    assert errors_of(response)[0][1] == "json_invalid"


def test_a_lone_surrogate_in_a_key_is_refused_not_a_server_error(client: TestClient) -> None:
    # Valid JSON, yet not encodable as UTF-8: the 422, which echoes the key, must still be sent.
    body = '{"records": [{"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4,'
    body += ' "petal_width": 0.2, "\\ud800": 1}]}'
    response = client.post("/predict", content=body, headers={"content-type": "application/json"})
    assert errors_of(response) == [(("body", "records", 0), "string_unicode")]


def test_oversized_body_is_refused_with_413(client: TestClient) -> None:
    _, max_body = limits(client)
    response = client.post(
        "/predict", content=b" " * (max_body + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert "MAX_BODY_BYTES" in response.json()["detail"]


def test_oversized_chunked_body_is_refused_with_413(client: TestClient) -> None:
    _, max_body = limits(client)

    def chunks():  # no Content-Length: the limit must be enforced while reading
        for _ in range(4):
            yield b" " * (max_body // 2)

    response = client.post(
        "/predict", content=chunks(), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert client.get("/health").status_code == 200


def test_wrong_method_is_405(client: TestClient) -> None:
    assert client.get("/predict").status_code == 405


def test_record_field_order_does_not_matter(client: TestClient) -> None:
    shuffled = dict(reversed(list(IRIS_RECORD.items())))
    first = client.post("/predict", json={"records": [IRIS_RECORD]}).json()
    second = client.post("/predict", json={"records": [shuffled]}).json()
    assert first == second
    assert list(shuffled) != list(IRIS_RECORD)


def test_a_422_lists_the_first_errors_and_counts_the_others(iris_model) -> None:
    """1000 empty records have 4000 errors: listing them all made the answer 128 times the size of
    the request."""
    settings = settings_for(iris_model.model_dir, max_batch_size=1000, max_body_bytes=100_000)
    with TestClient(create_app(settings)) as client:
        request = json.dumps({"records": [{}] * 1000}).encode()
        response = client.post(
            "/predict", content=request, headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    body = InvalidRequest.model_validate(response.json())  # the documented shape
    assert len(body.detail) == MAX_LISTED_ERRORS
    assert body.omitted_errors == 4000 - MAX_LISTED_ERRORS
    assert body.detail[0].loc == ["body", "records", 0, "sepal_length"]
    assert len(response.content) < len(request)


def test_a_422_with_few_errors_has_no_count(client: TestClient) -> None:
    response = client.post("/predict", json={"records": [{**IRIS_RECORD, "colour": "blue"}]})
    assert response.status_code == 422
    assert set(response.json()) == {"detail"}


def test_a_compressed_body_is_refused_with_415_naming_the_encoding(client: TestClient) -> None:
    body = gzip.compress(json.dumps({"records": [IRIS_RECORD]}).encode())
    headers = {"content-type": "application/json", "content-encoding": "gzip"}
    response = client.post("/predict", content=body, headers=headers)
    assert response.status_code == 415
    assert "Content-Encoding gzip" in response.json()["detail"]
    identity = {**headers, "content-encoding": "identity"}
    response = client.post("/predict", json={"records": [IRIS_RECORD]}, headers=identity)
    assert response.status_code == 200
