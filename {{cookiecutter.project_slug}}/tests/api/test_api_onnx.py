"""The API serves the checked ONNX export when there is one, else falls back to scikit-learn."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import FEATURES, SavedModel, iris_frame, iris_meta, settings_for
from fastapi.testclient import TestClient

from {{ cookiecutter.module_name }}.artifacts import ONNX_FILE, save_artifacts
from {{ cookiecutter.module_name }}.onnx_export import PROBABILITY_TOLERANCE

from api.main import create_app


@pytest.fixture(scope="module")
def forest_dir(forest_model: SavedModel) -> tuple[Path, object]:
    return forest_model.model_dir, forest_model.estimator


def records(rows: np.ndarray) -> list[dict[str, float]]:
    return [dict(zip(FEATURES, map(float, row), strict=True)) for row in rows]


def test_onnx_answers_like_the_model(forest_dir: tuple[Path, object]) -> None:
    model_dir, model = forest_dir
    rng = np.random.default_rng(3)
    unseen = rng.uniform([4.3, 2.0, 1.0, 0.1], [7.9, 4.4, 6.9, 2.5], size=(200, 4)).round(1)
    settings = settings_for(model_dir, max_batch_size=500, max_body_bytes=100_000)
    with TestClient(create_app(settings)) as client:
        assert client.get("/metadata").json()["runtime"] == "onnx"
        body = client.post("/predict", json={"records": records(unseen)}).json()
    frame = iris_frame()[0].iloc[:0].reindex(range(len(unseen)))
    frame.loc[:, FEATURES] = unseen
    assert body["predictions"] == model.predict(frame).tolist()
    difference = np.abs(np.array(body["probabilities"]) - model.predict_proba(frame))
    assert difference.max() <= PROBABILITY_TOLERANCE


def test_a_damaged_export_falls_back_to_scikit_learn(
    forest_dir: tuple[Path, object], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source, model = forest_dir
    for path in source.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / ONNX_FILE).write_bytes(b"not an onnx model")
    with TestClient(create_app(settings_for(tmp_path))) as client:
        assert client.get("/metadata").json()["runtime"] == "scikit-learn"
        sample = iris_frame()[0].iloc[[0, 75]]
        body = client.post("/predict", json={"records": records(sample.to_numpy())}).json()
    assert body["predictions"] == model.predict(sample).tolist()
    assert "serving scikit-learn" in caplog.text


def test_an_unchecked_export_is_not_served(forest_dir: tuple[Path, object], tmp_path: Path) -> None:
    """model.onnx without a parity record in the metadata (say, copied by hand) is ignored."""
    source, model = forest_dir
    for path in source.iterdir():
        (tmp_path / path.name).write_bytes(path.read_bytes())
    save_artifacts(model, replace(iris_meta(), onnx_parity=None), tmp_path)
    (tmp_path / ONNX_FILE).write_bytes((source / ONNX_FILE).read_bytes())
    with TestClient(create_app(settings_for(tmp_path))) as client:
        assert client.get("/metadata").json()["runtime"] == "scikit-learn"
