"""Fixtures for the API tests: small models saved the way training saves them, and test clients.

The models are fitted here (helpers in tests/support.py) on the shipped iris file and on synthetic
mixed tables, so these tests need neither the pipeline's outputs nor the network.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import support
from fastapi.testclient import TestClient
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from support import SavedModel, iris_meta, iris_xy, settings_for

from {{ cookiecutter.module_name }}.artifact.write import save_artifacts, write_lineage

from api.main import create_app


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> SavedModel:
    """A plain scikit-learn classifier without an ONNX export (served by scikit-learn)."""
    features, target = iris_xy()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, target)
    model_dir = tmp_path_factory.mktemp("models")
    meta = save_artifacts(model, iris_meta(), model_dir)
    write_lineage(meta, model_dir / "lineage.json")  # run id, version, time (as training does)
    return SavedModel(model, meta, model_dir, features.iloc[[0, 60, 120, 149]])


@pytest.fixture(scope="module")
def forest_model(tmp_path_factory: pytest.TempPathFactory) -> SavedModel:
    """The project's random forest pipeline on iris, saved with its checked ONNX export."""
    saved = support.save_pipeline(
        tmp_path_factory.mktemp("forest"), support.iris_frame(), "species"
    )
    assert saved.meta.onnx_parity is not None
    features, _ = iris_xy()
    return SavedModel(
        saved.estimator, saved.meta, saved.model_dir, features.iloc[[0, 60, 120, 149]]
    )


@pytest.fixture(scope="module")
def mixed_model(tmp_path_factory: pytest.TempPathFactory) -> SavedModel:
    """A classifier on text, boolean and numeric features with gaps, with its ONNX export."""
    frame = support.mixed_frame(300).drop(columns="price")
    return support.save_pipeline(tmp_path_factory.mktemp("mixed"), frame, "label")


@pytest.fixture(scope="module")
def regression_model(tmp_path_factory: pytest.TempPathFactory) -> SavedModel:
    """A regressor on the mixed table (served by whichever runtime passed its parity check)."""
    frame = support.mixed_frame(300).drop(columns="label")
    return support.save_pipeline(
        tmp_path_factory.mktemp("regression"), frame, "price", "regression", "model=ridge"
    )


@pytest.fixture(scope="module")
def client(iris_model: SavedModel) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(iris_model.model_dir))) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def no_model_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The app started on an empty model directory, as before the first `dvc repro`."""
    empty = tmp_path_factory.mktemp("no-model")
    with TestClient(create_app(settings_for(empty))) as test_client:
        yield test_client
