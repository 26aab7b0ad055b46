"""The ONNX export serves the same answers as the scikit-learn model, or is not made at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from {{ cookiecutter.module_name }}.artifacts import (
    ONNX_FILE,
    SMALL_BATCH,
    Feature,
    ModelMeta,
    load_onnx,
    onnx_probabilities,
    onnx_session,
    save_artifacts,
)
from {{ cookiecutter.module_name }}.onnx_export import INPUT_NAME, PROBABILITY_TOLERANCE, export_onnx

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def iris() -> tuple[pd.DataFrame, np.ndarray]:
    data = load_iris(as_frame=True)
    return data.data.set_axis(FEATURES, axis=1), data.target_names[data.target]


def held_out(frame: pd.DataFrame, rows: int = 5000) -> pd.DataFrame:
    """Unseen records on the data's own 0.1 grid, where tree thresholds are easiest to cross."""
    rng = np.random.default_rng(7)
    values = rng.uniform(frame.min().to_numpy(), frame.max().to_numpy(), size=(rows, len(FEATURES)))
    return pd.DataFrame(values.round(1), columns=FEATURES)


def onnx_answers(exported_model: bytes, dtype: str, frame: pd.DataFrame) -> list[np.ndarray]:
    return onnx_session(exported_model).run(None, {INPUT_NAME: frame.to_numpy(dtype=dtype)})


MODELS = {
    "random_forest": lambda: make_pipeline(RandomForestClassifier(n_estimators=50, random_state=0)),
    "scaled_logistic_regression": lambda: make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=1000)
    ),
}


@pytest.mark.parametrize("name", MODELS)
def test_export_matches_the_model_on_training_and_unseen_rows(name: str) -> None:
    features, target = iris()
    model = MODELS[name]().fit(features, target)

    exported = export_onnx(model, features)

    assert exported is not None and exported.checked_rows == len(features)
    unseen = held_out(features)
    labels, raw = onnx_answers(exported.model, exported.input_dtype, unseen)
    probabilities = np.asarray(onnx_probabilities(raw))
    assert labels.tolist() == model.predict(unseen).tolist()
    assert np.max(np.abs(probabilities - model.predict_proba(unseen))) <= PROBABILITY_TOLERANCE
    assert np.allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_small_and_large_batches_renormalise_alike() -> None:
    # Few rows take a plain-Python path, many rows numpy: a record must not score differently
    # depending on the size of the batch it came in.
    raw = np.random.default_rng(0).dirichlet(np.ones(3), SMALL_BATCH * 4).astype(np.float32)
    raw[0] = 0.0  # a row of zeros is left as it is, not divided by zero
    together = onnx_probabilities(raw)
    one_by_one = [onnx_probabilities(raw[i : i + 1])[0] for i in range(len(raw))]
    assert together == one_by_one
    assert together[0] == [0.0, 0.0, 0.0]
    assert all(abs(sum(row) - 1.0) <= 1e-12 for row in together[1:])


class Unconvertible(ClassifierMixin, BaseEstimator):
    """A user's own estimator, which skl2onnx has no converter for."""

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> Unconvertible:
        self.classes_ = np.unique(y)
        return self

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        return np.full(len(x), self.classes_[0])


def test_an_unconvertible_model_gets_no_export_and_says_so(
    capsys: pytest.CaptureFixture[str],
) -> None:
    features, target = iris()
    model = make_pipeline(Unconvertible()).fit(features, target)

    assert export_onnx(model, features) is None
    warning = capsys.readouterr().err
    assert "ONNX export skipped" in warning and "serves the scikit-learn model" in warning


def test_non_numeric_features_get_no_export(capsys: pytest.CaptureFixture[str]) -> None:
    features, target = iris()
    model = make_pipeline(Unconvertible()).fit(features, target)

    assert export_onnx(model, features.assign(sepal_length="x")) is None
    assert "non-numeric features" in capsys.readouterr().err


def test_saving_without_an_export_removes_a_stale_one(tmp_path: Path) -> None:
    features, target = iris()
    model = make_pipeline(RandomForestClassifier(n_estimators=5, random_state=0))
    model.fit(features, target)
    exported = export_onnx(model, features)
    assert exported is not None
    meta = ModelMeta("m", [Feature(name, "float") for name in FEATURES], "species")
    checked = ModelMeta(**{**meta.__dict__, "onnx_parity": {"checked_rows": 150}})

    save_artifacts(model, checked, tmp_path, exported.model)
    assert (tmp_path / ONNX_FILE).is_file() and load_onnx(tmp_path, checked) is not None

    save_artifacts(model, meta, tmp_path)
    assert not (tmp_path / ONNX_FILE).exists() and load_onnx(tmp_path, meta) is None
