"""Column names as a table may hold them (spaces, dots, slashes, unicode, a leading digit, a Python
keyword, JSON Schema keywords, a very long name): the model keeps its ONNX export, and both runtimes
answer requests keyed by those names exactly, as the OpenAPI document shows them."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import support
from fastapi.testclient import TestClient
from support import SavedModel, settings_for

from {{ cookiecutter.module_name }}.predict import model_inputs

from api.main import create_app

NAMES = {
    "age": "age (years)",
    "income": "income.usd/yr",
    "city": "home city",
    "member": "class",
    "grade": "1st grade",
}
REF, TYPE, LONG = "$ref", "type", "très " * 60


def awkward_frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    frame = support.mixed_frame(rows).drop(columns="price").rename(columns=NAMES)
    frame[REF] = rng.choice(["x", "y"], rows).astype(object)
    frame[TYPE] = rng.normal(size=rows).round(3)
    frame[LONG] = rng.normal(size=rows).round(3)
    return frame


@pytest.fixture(scope="module")
def awkward_model(tmp_path_factory: pytest.TempPathFactory) -> SavedModel:
    return support.save_pipeline(tmp_path_factory.mktemp("awkward"), awkward_frame(), "label")


@pytest.fixture(scope="module", params=["onnx", "scikit-learn"])
def served(
    request: pytest.FixtureRequest,
    awkward_model: SavedModel,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[TestClient]:
    model_dir = awkward_model.model_dir
    if request.param == "scikit-learn":  # the same model without its export
        model_dir = shutil.copytree(model_dir, tmp_path_factory.mktemp("no-onnx") / "models")
        (model_dir / "model.onnx").unlink()
    settings = settings_for(model_dir, max_batch_size=50, max_body_bytes=100_000)
    with TestClient(create_app(settings)) as client:
        assert client.get("/metadata").json()["runtime"] == request.param
        yield client


def test_the_export_is_kept_with_each_name_mapped_to_its_input(awkward_model: SavedModel) -> None:
    meta = awkward_model.meta
    assert meta.onnx_parity is not None and meta.onnx_skipped is None
    assert meta.onnx_inputs is not None
    assert sorted(meta.onnx_inputs) == sorted(f.name for f in meta.features)
    assert meta.onnx_inputs["home city"] != "home city"  # renamed by the export, and recorded
    assert (awkward_model.model_dir / "model.onnx").is_file()


def test_both_runtimes_answer_records_keyed_by_the_original_names(
    served: TestClient, awkward_model: SavedModel
) -> None:
    records = json.loads(awkward_model.sample.to_json(orient="records"))
    assert set(records[0]) == set(NAMES.values()) | {REF, TYPE, LONG}
    response = served.post("/predict", json={"records": records})
    assert response.status_code == 200, response.text
    inputs = model_inputs(awkward_model.meta, awkward_model.sample)
    assert response.json()["predictions"] == awkward_model.estimator.predict(inputs).tolist()
    probabilities = np.array(response.json()["probabilities"])
    assert np.abs(probabilities - awkward_model.estimator.predict_proba(inputs)).max() <= 1e-5


def test_the_openapi_document_shows_the_original_names(served: TestClient) -> None:
    schema = served.get("/openapi.json").json()["components"]["schemas"]["Record"]
    assert set(schema["properties"]) == set(NAMES.values()) | {REF, TYPE, LONG}
    assert all(field["title"] == name for name, field in schema["properties"].items())
    features = {f["name"] for f in served.get("/metadata").json()["features"]}
    assert features == set(schema["properties"])


def test_a_wrong_value_is_refused_naming_the_original_field(
    served: TestClient, awkward_model: SavedModel
) -> None:
    record = {**json.loads(awkward_model.sample.to_json(orient="records"))[0], REF: 3}
    response = served.post("/predict", json={"records": [record]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "records", 0, REF]


def test_the_batch_command_reads_and_writes_the_original_names(
    awkward_model: SavedModel, tmp_path: Path
) -> None:
    from {{ cookiecutter.module_name }}.predict import main

    rows = tmp_path / "rows.csv"
    awkward_frame(20).drop(columns="label").to_csv(rows, index=False)
    main([str(rows), str(tmp_path / "out.csv"), "--model-dir", str(awkward_model.model_dir)])
    written = pd.read_csv(tmp_path / "out.csv")
    assert list(written.columns[:-3]) == list(pd.read_csv(rows).columns)
    expected = awkward_model.estimator.predict(model_inputs(awkward_model.meta, pd.read_csv(rows)))
    assert written["prediction"].tolist() == expected.tolist()
