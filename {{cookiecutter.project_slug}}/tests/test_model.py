"""Features, model building and scoring on tiny frames."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from omegaconf import OmegaConf

from {{ cookiecutter.module_name }}.errors import PipelineError
from {{ cookiecutter.module_name }}.evaluate import confusion_rows, metrics_json, score
from {{ cookiecutter.module_name }}.features import describe_features, split_xy
from {{ cookiecutter.module_name }}.model import build_model

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def model_cfg(scale: bool = True, **estimator: object) -> OmegaConf:
    defaults = {"_target_": "sklearn.linear_model.LogisticRegression", "max_iter": 200}
    return OmegaConf.create({"name": "m", "scale": scale, "estimator": {**defaults, **estimator}})


def test_split_xy_orders_features_as_configured(tiny_frame: pd.DataFrame) -> None:
    x, y = split_xy(tiny_frame, FEATURES[::-1], "species")
    assert list(x.columns) == FEATURES[::-1] and y.tolist() == tiny_frame.species.tolist()


def test_describe_features_reports_kinds(tiny_frame: pd.DataFrame) -> None:
    kinds = describe_features(tiny_frame.assign(sepal_length=1), FEATURES)
    assert [(f.name, f.dtype) for f in kinds][:2] == [
        ("sepal_length", "int"),
        ("sepal_width", "float"),
    ]


def test_build_model_adds_a_scaler_only_when_asked() -> None:
    assert [name for name, _ in build_model(model_cfg(scale=True)).steps] == ["scale", "estimator"]
    assert [name for name, _ in build_model(model_cfg(scale=False)).steps] == ["estimator"]


def test_build_model_names_a_misspelt_argument() -> None:
    with pytest.raises(PipelineError, match="unexpected keyword argument 'C_'"):
        build_model(model_cfg(C_=1.0))


def test_build_model_names_an_unknown_class() -> None:
    with pytest.raises(PipelineError, match=r"sklearn\.nope\.Model"):
        build_model(model_cfg(_target_="sklearn.nope.Model"))


def test_score_and_confusion_rows(tiny_frame: pd.DataFrame) -> None:
    x, y = split_xy(tiny_frame, FEATURES, "species")
    model = build_model(model_cfg()).fit(x, y)
    metrics = score(model, x, y)
    assert set(metrics) == {"accuracy", "f1_macro", "n_test"} and 0 <= metrics["accuracy"] <= 1
    assert json.loads(metrics_json(metrics)) == metrics
    rows = confusion_rows(model, x, y)
    assert list(rows.columns) == ["actual", "predicted"] and len(rows) == len(tiny_frame)
