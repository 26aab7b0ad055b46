"""Fixtures for the API tests: small models saved the way training saves them, and test clients.

The models are trained here on scikit-learn's bundled iris data, so these tests need neither the
pipeline's outputs nor the network.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from {{ cookiecutter.module_name }}.artifacts import Feature, ModelMeta, save_artifacts
from {{ cookiecutter.module_name }}.onnx_export import export_onnx

from api.main import create_app
from api.settings import Settings

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
MAX_BATCH = 5
MAX_BODY = 4096


def iris_frame() -> tuple[pd.DataFrame, Any]:
    iris = load_iris(as_frame=True)
    features = iris.data.set_axis(FEATURES, axis=1)
    return features, iris.target_names[iris.target]


def iris_meta(**overrides: object) -> ModelMeta:
    values: dict = {
        "model_name": "iris-test",
        "features": [Feature(name, "float") for name in FEATURES],
        "target": "species",
        "classes": ["setosa", "versicolor", "virginica"],
        "run_id": "0123abcd",
        "model_version": None,
        "git_commit": "f" * 40,
        "git_dirty": False,
        "data_hash": "a" * 64,
        "config_name": "config",
        "trained_at": "2025-01-01T00:00:00+00:00",
        "metrics": {"accuracy": 0.97},
    }
    return ModelMeta(**{**values, **overrides})


def settings_for(model_dir: Path, **overrides: object) -> Settings:
    # _env_file=None: the project's own .env must not leak into the tests.
    values: dict = {"model_dir": model_dir, "max_batch_size": MAX_BATCH, "max_body_bytes": MAX_BODY}
    return Settings(_env_file=None, **{**values, **overrides})


@dataclass(frozen=True)
class SavedModel:
    estimator: Any
    meta: ModelMeta
    model_dir: Path
    sample: pd.DataFrame  # a few training rows, to compare the API with the estimator


@pytest.fixture(scope="module")
def iris_model(tmp_path_factory: pytest.TempPathFactory) -> SavedModel:
    """A fitted classifier saved the way training saves it."""
    features, target = iris_frame()
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=500)).fit(features, target)
    model_dir = tmp_path_factory.mktemp("models")
    save_artifacts(model, iris_meta(), model_dir)
    return SavedModel(model, iris_meta(), model_dir, features.iloc[[0, 60, 120, 149]])


@pytest.fixture(scope="module")
def forest_model(tmp_path_factory: pytest.TempPathFactory) -> SavedModel:
    """A random forest saved with its checked ONNX export, as training saves it."""
    features, target = iris_frame()
    model = make_pipeline(RandomForestClassifier(n_estimators=30, random_state=0))
    model.fit(features, target)
    exported = export_onnx(model, features)
    assert exported is not None
    meta = iris_meta(onnx_parity={"checked_rows": exported.checked_rows})
    model_dir = tmp_path_factory.mktemp("forest")
    save_artifacts(model, meta, model_dir, exported.model)
    return SavedModel(model, meta, model_dir, features.iloc[[0, 60, 120, 149]])


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
