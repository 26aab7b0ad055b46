"""Models other than the example: regression, mixed-type features, and a broken artifact."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from {{ cookiecutter.module_name }}.artifact.meta import MODEL_FILE, ModelMeta
from {{ cookiecutter.module_name }}.artifact.write import save_artifacts
from {{ cookiecutter.module_name }}.utils.kinds import Feature

from api.main import create_app
from api.settings import Settings


def client_for(model: object, meta: ModelMeta, model_dir: Path) -> TestClient:
    save_artifacts(model, meta, model_dir)
    return TestClient(create_app(Settings(_env_file=None, model_dir=model_dir)))


def test_regression_model_has_no_probabilities(tmp_path: Path) -> None:
    features = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    model = LinearRegression().fit(features, features @ [2.0, -1.0] + 0.5)
    features = [Feature("a", "float"), Feature("b", "int")]
    meta = ModelMeta("line", features, target="y", task="regression")
    with client_for(model, meta, tmp_path) as client:
        response = client.post("/predict", json={"records": [{"a": 1.0, "b": 2}]})
        assert response.status_code == 200
        body = response.json()
        assert body["predictions"] == pytest.approx([0.5])
        assert "probabilities" not in body and "classes" not in body
        # "int" features are strict too: 2.5 is not an int.
        bad = client.post("/predict", json={"records": [{"a": 1.0, "b": 2.5}]})
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"] == ["body", "records", 0, "b"]


def test_a_model_answering_nan_or_infinity_gets_a_500_not_a_guess(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    model.coef_ = np.array([np.inf])  # a broken model: inf for a > 0, NaN for a == 0
    save_artifacts(model, ModelMeta("broken", [Feature("a", "float")], target="y"), tmp_path)
    app = create_app(Settings(_env_file=None, model_dir=tmp_path))
    with TestClient(app, raise_server_exceptions=False) as client:
        for value in (0.0, 1.0):
            response = client.post("/predict", json={"records": [{"a": value}]})
            assert response.status_code == 500
            assert "NaN or infinity" in response.json()["detail"]
    assert "NaN or infinity" in caplog.text


def test_mixed_type_features_reach_the_model_as_named_columns(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "colour": ["red", "blue", "red", "blue"],
            "size": [1.0, 2.0, 3.0, 4.0],
            "big": [0, 0, 1, 1],
        }
    )
    encode = make_column_transformer((OneHotEncoder(), ["colour"]), remainder="passthrough")
    model = make_pipeline(encode, LogisticRegression()).fit(frame[["colour", "size"]], frame["big"])
    features = [Feature("colour", "str"), Feature("size", "float")]
    with client_for(model, ModelMeta("mixed", features, target="big"), tmp_path) as client:
        records = [{"colour": "red", "size": 1.0}, {"colour": "blue", "size": 4.0}]
        response = client.post("/predict", json={"records": records})
        assert response.status_code == 200
        expected = model.predict(pd.DataFrame(records)).tolist()
        assert response.json()["predictions"] == expected
        assert response.json()["classes"] == ["0", "1"]
        wrong = client.post("/predict", json={"records": [{"colour": 3, "size": 1.0}]})
        assert wrong.json()["detail"][0]["type"] == "string_type"


@pytest.mark.parametrize(
    ("hashed", "reason"),
    [(True, "is not the file model_meta.json describes"), (False, "cannot be loaded (")],
    ids=["replaced", "damaged"],
)
def test_unreadable_model_file_leaves_the_app_not_ready(
    tmp_path: Path, hashed: bool, reason: str
) -> None:
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    meta = save_artifacts(model, ModelMeta("line", [Feature("a", "float")], target="y"), tmp_path)
    if not hashed:  # metadata without hashes (an older training): the load itself must fail clearly
        unhashed = replace(meta, artifacts={}).to_json()
        (tmp_path / "model_meta.json").write_text(unhashed, encoding="utf-8")
    (tmp_path / MODEL_FILE).write_bytes(b"not a joblib file")
    with TestClient(create_app(Settings(_env_file=None, model_dir=tmp_path))) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
        assert response.status_code == 503
        assert reason in response.json()["detail"]


@pytest.mark.parametrize("content", ["[]", "null", "{", '{"model_name": "line"}'])
def test_damaged_metadata_leaves_the_app_not_ready_with_the_reason(
    tmp_path: Path, content: str
) -> None:
    """The server starts and says why (503), never a traceback at start-up."""
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    save_artifacts(model, ModelMeta("line", [Feature("a", "float")], target="y"), tmp_path)
    (tmp_path / "model_meta.json").write_text(content, encoding="utf-8")
    with TestClient(create_app(Settings(_env_file=None, model_dir=tmp_path))) as client:
        assert client.get("/health").status_code == 200
        response = client.get("/ready")
        assert response.status_code == 503
        assert "model_meta.json" in response.json()["detail"]
        assert client.post("/predict", json={"records": [{"a": 1.0}]}).status_code == 503


def test_unknown_feature_dtype_leaves_the_app_not_ready(tmp_path: Path) -> None:
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    meta = ModelMeta("line", [Feature("when", "datetime")], target="y")
    with client_for(model, meta, tmp_path) as client:
        response = client.get("/ready")
        assert response.status_code == 503
        assert "when (datetime)" in response.json()["detail"]


def test_metadata_naming_other_features_than_the_model_leaves_the_app_not_ready(
    tmp_path: Path,
) -> None:
    """Checked at load time: /ready must not say 200 for a model that /predict cannot call."""
    frame = pd.DataFrame({"a": [0.0, 1.0, 2.0, 3.0], "b": [1.0, 0.0, 1.0, 0.0]})
    model = LinearRegression().fit(frame, [0.0, 1.0, 2.0, 3.0])
    meta = ModelMeta("line", [Feature("a", "float"), Feature("c", "float")], target="y")
    with client_for(model, meta, tmp_path) as client:
        assert client.get("/ready").status_code == 503
        assert "trained on features a, b" in client.get("/ready").json()["detail"]
        response = client.post("/predict", json={"records": [{"a": 1.0, "c": 2.0}]})
        assert response.status_code == 503


def test_a_503_names_no_absolute_path_of_the_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The reason is for clients, who have no business knowing the server's directories; the log
    keeps the whole path for whoever runs it."""
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    meta = ModelMeta("line", [Feature("when", "datetime")], target="y")
    model_dir = tmp_path / "srv" / "models"
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")  # the model is not under the working directory
    with (
        caplog.at_level("WARNING", logger="uvicorn.error"),
        client_for(model, meta, model_dir) as client,
    ):
        answers = [client.get(path) for path in ("/ready", "/metadata")]
        answers.append(client.post("/predict", json={"records": [{"when": 1.0}]}))
    for answer in answers:
        assert answer.status_code == 503
        detail = answer.json()["detail"]
        assert "when (datetime)" in detail
        assert str(tmp_path) not in detail
        assert detail.startswith("no model loaded: models: ")
    assert str(model_dir) in caplog.text


def test_the_served_model_dir_is_shown_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = LinearRegression().fit([[0.0], [1.0]], [0.0, 1.0])
    meta = ModelMeta("line", [Feature("x", "float")], target="y", task="regression")
    model_dir = tmp_path / "serving" / "models"
    monkeypatch.chdir(tmp_path)
    with client_for(model, meta, model_dir) as client:  # an absolute MODEL_DIR
        assert client.get("/ready").json()["source"] == "serving/models"
        assert client.get("/metadata").json()["source"] == "serving/models"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("in {cwd}/models/: retrain", "in models/: retrain"),
        ("could not load {cwd}.other/model.joblib.", "could not load model.joblib."),
        ("file://{cwd}/mlruns/1/model is gone", "mlruns/1/model is gone"),
        ("could not load models:/iris@champion from MLflow", None),
        ("http://mlflow:5000/api/2.0/x answered 404", None),
        ("3 / 4 records", None),
    ],
)
def test_server_paths_are_shortened_in_reasons_for_clients(
    text: str, shown: str | None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.main import without_server_paths

    monkeypatch.chdir(tmp_path)
    text = text.format(cwd=tmp_path)
    assert without_server_paths(text) == (text if shown is None else shown)
