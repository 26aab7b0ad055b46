"""The lean /predict route: the model's own answer, and FastAPI's own error answers and docs.

The route validates the raw body itself (api/json_body.py) instead of declaring a `Body()`
parameter; these tests hold it to what FastAPI does with such a parameter, on both runtimes.
"""

# No `from __future__ import annotations`: FastAPI must see the reference route's body type,
# which lives in a function's closure, not in the module's globals.
import asyncio
import dataclasses
import json
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.testclient import TestClient
from support import IRIS_FEATURES, IRIS_RECORD, SavedModel, settings_for

from api.deps import served_model
from api.main import create_app, validation_error
from api.model import ServedModel
from api.routers.predict import INLINE_RECORDS
from api.schemas import ErrorMessage, InvalidRequest, predict_request_type

LARGE = INLINE_RECORDS + 1
MAX_BATCH = 500


@pytest.fixture(scope="module", params=["scikit-learn", "onnx"])
def app(request: pytest.FixtureRequest) -> FastAPI:
    """The app on each runtime: the iris pipeline (scikit-learn) and the forest with its export."""
    fixture = "iris_model" if request.param == "scikit-learn" else "forest_model"
    saved: SavedModel = request.getfixturevalue(fixture)
    settings = settings_for(saved.model_dir, max_batch_size=MAX_BATCH, max_body_bytes=100_000)
    app = create_app(settings)
    assert app.state.model.runtime == request.param
    app.state.saved = saved
    return app


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def reference(app: FastAPI) -> Iterator[TestClient]:
    """What FastAPI answers for the same body type declared as a `Body()` parameter."""
    request_type = predict_request_type(app.state.model.meta.features, MAX_BATCH)
    reference = FastAPI()
    reference.add_exception_handler(RequestValidationError, validation_error)

    @reference.post("/predict")
    def predict(body: Annotated[request_type, Body()]) -> dict:  # type: ignore[valid-type]  # built at run time
        return {}

    with TestClient(reference) as test_client:
        yield test_client


def batch(saved: SavedModel, size: int) -> list[dict[str, float]]:
    rows = saved.sample.to_dict("records")
    return [{name: rows[i % len(rows)][name] for name in IRIS_FEATURES} for i in range(size)]


@pytest.mark.parametrize("size", [1, 3, LARGE], ids=["one", "three", "large"])
def test_the_route_sends_the_models_answer(app: FastAPI, client: TestClient, size: int) -> None:
    saved: SavedModel = app.state.saved
    records = batch(saved, size)
    response = client.post("/predict", json={"records": records})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == app.state.model.answer(records).body
    rows = saved.sample.iloc[[i % len(saved.sample) for i in range(size)]]
    assert response.json()["predictions"] == saved.estimator.predict(rows).tolist()


JSON = {"content-type": "application/json"}
MISSING_FIELDS = {"records": [{"sepal_length": 5.1}]}
INVALID = {
    "wrong-type": ({"records": [{**IRIS_RECORD, "petal_width": "wide"}]}, JSON),
    "missing": (MISSING_FIELDS, JSON),
    "extra": ({"records": [{**IRIS_RECORD, "colour": "blue"}]}, JSON),
    "empty-batch": ({"records": []}, JSON),
    "over-the-limit": ({"records": [IRIS_RECORD] * (MAX_BATCH + 1)}, JSON),
    "not-an-object": ([IRIS_RECORD], JSON),
    "null": (b"null", JSON),
    "no-body": (b"", JSON),
    "nan": (b'{"records": [{"sepal_length": NaN}]}', JSON),
    "malformed": (b'{"records": [', JSON),
    "lone-surrogate": (b'{"records": [{"\\ud800": 1}]}', JSON),
    "not-utf8": (b'{"records": ["\xff"]}', JSON),
    "nested-too-deep": (b"[" * 50_000, JSON),
    "text-plain": ({"records": [IRIS_RECORD]}, {"content-type": "text/plain"}),
    "form": ({"records": [IRIS_RECORD]}, {"content-type": "application/x-www-form-urlencoded"}),
    "no-content-type": ({"records": [IRIS_RECORD]}, {}),
}


@pytest.mark.parametrize(("body", "headers"), INVALID.values(), ids=INVALID.keys())
def test_invalid_bodies_get_fastapis_own_answer(
    app: FastAPI, client: TestClient, reference: TestClient, body: Any, headers: dict[str, str]
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    ours = client.post("/predict", content=content, headers=headers)
    theirs = reference.post("/predict", content=content, headers=headers)
    assert ours.status_code == theirs.status_code
    if body is MISSING_FIELDS and all(f.nullable for f in app.state.model.meta.features):
        assert ours.status_code == 200  # fields the model imputes may be left out
        return
    assert ours.status_code in (400, 422)
    assert ours.content == theirs.content


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
def test_json_content_types_are_served(app: FastAPI, client: TestClient, content_type: str) -> None:
    body = json.dumps({"records": batch(app.state.saved, 1)})
    response = client.post("/predict", content=body, headers={"content-type": content_type})
    assert response.status_code == 200


def test_the_body_schema_is_documented_as_fastapi_documents_it(
    client: TestClient, reference: TestClient
) -> None:
    ours, theirs = client.get("/openapi.json").json(), reference.get("/openapi.json").json()
    operation = ours["paths"]["/predict"]["post"]
    assert operation["requestBody"] == theirs["paths"]["/predict"]["post"]["requestBody"]
    for name in ("PredictRequest", "Record"):
        assert ours["components"]["schemas"][name] == theirs["components"]["schemas"][name]
    assert {"200", "413", "422", "503"} <= set(operation["responses"])


def test_every_error_answer_is_documented_with_its_body(client: TestClient) -> None:
    """A status missing from the document (400 was) is one a generated client cannot handle."""
    schema = client.get("/openapi.json").json()
    documented = {
        (path, status): answer["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
        for path, method in (("/predict", "post"), ("/ready", "get"), ("/metadata", "get"))
        for status, answer in schema["paths"][path][method]["responses"].items()
        if status != "200"
    }
    errors = {status: "ErrorMessage" for status in ("400", "408", "413", "415", "500", "503")}
    expected = {("/predict", status): model for status, model in errors.items()}
    expected |= {("/predict", "422"): "InvalidRequest"}
    expected |= {("/ready", "503"): "ErrorMessage", ("/metadata", "503"): "ErrorMessage"}
    assert documented == expected
    assert schema["components"]["schemas"]["ErrorMessage"]["required"] == ["detail"]


@pytest.mark.parametrize(
    ("body", "status"),
    [(b'{"records": ["\xff"]}', 400), (b"[" * 50_000, 400), (b'{"records": []}', 422)],
    ids=["not-utf8", "nested-too-deep", "empty-batch"],
)
def test_error_answers_have_the_documented_shape(
    client: TestClient, body: bytes, status: int
) -> None:
    response = client.post("/predict", content=body, headers=JSON)
    assert response.status_code == status
    model = InvalidRequest if status == 422 else ErrorMessage
    model.model_validate(response.json())


def test_large_batches_are_scored_off_the_event_loop(app: FastAPI, client: TestClient) -> None:
    """A large batch must not stall the other requests; a small one is not worth a thread hop."""
    served: ServedModel = app.state.model
    on_loop: list[bool] = []

    def watched_score(inputs: Any) -> Any:
        on_loop.append(running_on_event_loop())
        return served.score(inputs)

    watched = dataclasses.replace(served, score=watched_score)

    async def watched_model() -> ServedModel:
        return watched

    app.dependency_overrides[served_model] = watched_model
    try:
        for size in (1, LARGE):
            records = batch(app.state.saved, size)
            assert client.post("/predict", json={"records": records}).status_code == 200
    finally:
        app.dependency_overrides.clear()
    assert on_loop == [True, False]


def running_on_event_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def test_other_methods_are_refused(client: TestClient) -> None:
    assert client.get("/predict").status_code == 405
