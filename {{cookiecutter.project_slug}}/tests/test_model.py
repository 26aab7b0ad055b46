"""Building the model from config, scoring, on tiny frames."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
import scipy.sparse
import support

from {{ cookiecutter.module_name }}.artifact.onnx_export import export_onnx
from {{ cookiecutter.module_name }}.data import TableSchema, prepare
from {{ cookiecutter.module_name }}.evaluate import metrics_json, prediction_rows, score
from {{ cookiecutter.module_name }}.features import describe_features, split_xy
from {{ cookiecutter.module_name }}.model import build_model
from {{ cookiecutter.module_name }}.params import Params
from {{ cookiecutter.module_name }}.utils.errors import PipelineError
from {{ cookiecutter.module_name }}.utils.kinds import CATEGORICAL


def fitted(
    params: Params, frame: pd.DataFrame, target: str, task: str
) -> tuple[object, TableSchema, pd.DataFrame, pd.Series]:
    typed, schema, _ = prepare(frame, target, kinds={"grade": CATEGORICAL}, task=task)
    x, y = split_xy(typed, schema.features, schema.target)
    return build_model(params.model, params.preprocessing, schema).fit(x, y), schema, x, y


def test_the_pipeline_has_a_branch_per_kind_and_a_scaler_only_when_asked(tmp_path: Path) -> None:
    schema = TableSchema(
        "y",
        "classification",
        ["a", "b"],
        {"a": "numeric", "b": "categorical"},
        {"a": "float", "b": "str"},
    )
    for model, scaled in (("logistic_regression", True), ("random_forest", False)):
        p = support.params(tmp_path, f"model={model}")
        preprocess = build_model(p.model, p.preprocessing, schema).named_steps["preprocess"]
        branches = {name: steps for name, steps, _ in preprocess.transformers}
        assert set(branches) == {"numeric", "categorical"}
        assert ("scale" in branches["numeric"].named_steps) is scaled
        assert list(branches["categorical"].named_steps) == ["impute", "encode"]


def test_a_mixed_table_with_gaps_fits_and_unseen_categories_are_scored(
    params: Params, mixed_frame: pd.DataFrame
) -> None:
    model, schema, x, _ = fitted(params, mixed_frame, "label", "classification")
    unseen = x.head(3).assign(city="Marseille", member="")
    assert len(model.predict(unseen)) == 3
    features = {f.name: f for f in describe_features(model, x, schema)}
    assert features["city"].categories == ["Lyon", "Nice", "Paris"] and features["city"].nullable
    assert features["age"].kind == "numeric" and features["age"].nullable


def test_a_pipeline_without_imputer_has_non_nullable_features(
    tmp_path: Path, mixed_frame: pd.DataFrame
) -> None:
    p = support.params(tmp_path, "~preprocessing.numeric.impute", "model=logistic_regression")
    model, schema, x, _ = fitted(p, mixed_frame.dropna(subset=["age"]), "label", "classification")
    features = {f.name: f for f in describe_features(model, x, schema)}
    assert not features["age"].nullable and features["city"].nullable


def test_regression_metrics_and_prediction_rows(tmp_path: Path, mixed_frame: pd.DataFrame) -> None:
    p = support.params(tmp_path, "model=ridge", "data.task=regression")
    model, _, x, y = fitted(p, mixed_frame.drop(columns="label"), "price", "regression")
    metrics = score(model, x, y, "regression")
    assert set(metrics) == {"rmse", "mae", "r2", "n_test"} and metrics["r2"] > 0.5
    assert json.loads(metrics_json(metrics)) == metrics
    rows = prediction_rows(model, x, y)
    assert list(rows.columns) == ["actual", "predicted"] and len(rows) == len(x)


def test_a_classifier_for_a_regression_task_is_refused(
    tmp_path: Path, mixed_frame: pd.DataFrame
) -> None:
    p = support.params(tmp_path, "model=random_forest")
    with pytest.raises(PipelineError, match="is not a regressor but the task is regression"):
        fitted(p, mixed_frame.drop(columns="label"), "price", "regression")


def test_a_misspelt_argument_and_an_unknown_class_are_named(
    tmp_path: Path, mixed_frame: pd.DataFrame
) -> None:
    p = support.params(tmp_path, "model=logistic_regression", "+model.estimator.C_=1.0")
    with pytest.raises(PipelineError, match="unexpected keyword argument 'C_'"):
        fitted(p, mixed_frame, "label", "classification")
    p = support.params(tmp_path, "preprocessing.numeric.impute._target_=sklearn.nope.Imputer")
    with pytest.raises(
        PipelineError, match=r"preprocessing.numeric.impute \(sklearn\.nope\.Imputer\)"
    ):
        fitted(p, mixed_frame, "label", "classification")


@pytest.mark.parametrize(
    ("estimator", "sparse"),
    [
        ("sklearn.ensemble.RandomForestClassifier", True),
        ("sklearn.linear_model.LogisticRegression", True),
        # Takes dense input only: it gets a dense matrix and fits.
        ("sklearn.ensemble.HistGradientBoostingClassifier", False),
    ],
)
def test_one_hot_columns_stay_sparse_unless_the_estimator_needs_them_dense(
    tmp_path: Path, estimator: str, sparse: bool
) -> None:
    frame = pd.concat([support.mixed_frame()] * 4, ignore_index=True)
    # Sixty categories: one-hot columns that are mostly zeros.
    frame["shop"] = [f"shop {i % 60}" for i in range(len(frame))]
    only_target = "+model.estimator={_target_:" + estimator + "}"
    p = support.params(tmp_path, "~model.estimator", only_target)
    typed, schema, _ = prepare(frame, "label", kinds={"grade": CATEGORICAL})
    x, y = split_xy(typed, schema.features, schema.target)
    model = build_model(p.model, p.preprocessing, schema).fit(x, y)
    assert scipy.sparse.issparse(model.named_steps["preprocess"].transform(x)) is sparse
    assert len(model.predict(x.head(3))) == 3
    if sparse:  # the sparse path converts to the fast runtime, which agrees with the model
        assert export_onnx(model, x, describe_features(model, x, schema)) is not None
