"""A date feature is sent as the date's text, written as in training, on both runtimes; the API
turns it into the model's number exactly as the data stage did (kinds.date_number)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import support
from fastapi.testclient import TestClient
from support import SavedModel, settings_for

from {{ cookiecutter.module_name }}.predict import model_inputs

from api.main import create_app

DATE_FORMAT = "%d/%m/%Y %H:%M"


@pytest.fixture(scope="module")
def dated_model(tmp_path_factory: pytest.TempPathFactory) -> SavedModel:
    """A classifier whose label depends on a date column written day first, with a time."""
    frame = support.mixed_frame(300).drop(columns="price")
    days = pd.Timestamp("2021-03-01") + pd.to_timedelta(np.arange(300) * 29, unit="h")
    frame["opened"] = np.asarray(days.strftime(DATE_FORMAT), dtype=object)
    frame.loc[frame.index % 17 == 0, "opened"] = None  # gaps: the model imputes them
    frame["label"] = np.where(days > pd.Timestamp("2021-08-01"), "late", "early")
    return support.save_pipeline(tmp_path_factory.mktemp("dated"), frame, "label")


@pytest.fixture(scope="module", params=["onnx", "scikit-learn"])
def dated(
    request: pytest.FixtureRequest, dated_model: SavedModel, tmp_path_factory
) -> Iterator[tuple[TestClient, SavedModel]]:
    model_dir = dated_model.model_dir
    if request.param == "scikit-learn":  # the same model without its export: the fallback
        model_dir = tmp_path_factory.mktemp("no-onnx") / "models"
        shutil.copytree(dated_model.model_dir, model_dir)
        (model_dir / "model.onnx").unlink()
    with TestClient(create_app(settings_for(model_dir, max_batch_size=50))) as client:
        assert client.get("/metadata").json()["runtime"] == request.param
        yield client, dated_model


def records(saved: SavedModel) -> list[dict]:
    return json.loads(saved.sample.to_json(orient="records"))


def test_the_date_is_described_as_text_with_its_format(
    dated: tuple[TestClient, SavedModel],
) -> None:
    client, _ = dated
    features = {f["name"]: f for f in client.get("/metadata").json()["features"]}
    assert features["opened"]["date_format"] == DATE_FORMAT
    assert (features["opened"]["dtype"], features["opened"]["kind"]) == ("str", "numeric")
    schema = client.get("/openapi.json").json()["components"]["schemas"]["Record"]
    opened = schema["properties"]["opened"]["anyOf"][0]
    assert opened["type"] == "string" and DATE_FORMAT in opened["description"]


def test_dates_sent_as_text_are_answered_as_the_model_predicts(
    dated: tuple[TestClient, SavedModel],
) -> None:
    client, saved = dated
    sent = records(saved)
    assert all(isinstance(record["opened"], str) for record in sent[1:])
    body = client.post("/predict", json={"records": sent}).json()
    expected = saved.estimator.predict(model_inputs(saved.meta, saved.sample))
    assert body["predictions"] == expected.tolist()
    assert sent[0]["opened"] is None  # the first row is a gap: null is answered too


@pytest.mark.parametrize("value", ["2021-03-01", "31/02/2021 10:00", "soon", 20210301])
def test_a_date_written_otherwise_is_a_422_naming_the_field(
    dated: tuple[TestClient, SavedModel], value: object
) -> None:
    client, saved = dated
    record = {**records(saved)[1], "opened": value}
    response = client.post("/predict", json={"records": [record]})
    assert response.status_code == 422
    error = response.json()["detail"][0]
    assert error["loc"] == ["body", "records", 0, "opened"]
    if isinstance(value, str):
        assert f"expected a date written {DATE_FORMAT}" in error["msg"]
