"""Score a model on held-out data: metrics for DVC and MLflow, rows for the predictions plot."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

# The metric sweeps optimise and reports sort by, per task, and whether higher is better.
PRIMARY_METRIC = {"classification": ("accuracy", True), "regression": ("rmse", False)}


def score(model: Any, features: pd.DataFrame, target: pd.Series, task: str) -> dict[str, float]:
    """Metrics of the task, rounded so the metrics file is byte-stable across runs.

    classification: accuracy, macro F1; regression: RMSE, MAE, R^2. Both: n_test.
    """
    from sklearn import metrics

    predicted = model.predict(features)
    if task == "classification":
        values = {
            "accuracy": metrics.accuracy_score(target, predicted),
            "f1_macro": metrics.f1_score(target, predicted, average="macro"),
        }
    else:
        values = {
            "rmse": float(np.sqrt(metrics.mean_squared_error(target, predicted))),
            "mae": metrics.mean_absolute_error(target, predicted),
            "r2": metrics.r2_score(target, predicted),
        }
    return {**{k: round(float(v), 6) for k, v in values.items()}, "n_test": len(target)}


def prediction_rows(model: Any, features: pd.DataFrame, target: pd.Series) -> pd.DataFrame:
    """One row per test sample (actual, predicted): `dvc plots` draws the confusion matrix of a
    classifier or the predicted-versus-actual scatter of a regressor from it."""
    predicted = model.predict(features)
    if predicted.dtype.kind == "f":
        predicted = predicted.round(6)
    return pd.DataFrame({"actual": target.to_numpy(), "predicted": predicted})


def metrics_json(metrics: dict[str, float]) -> str:
    return json.dumps(metrics, indent=2, sort_keys=True) + "\n"
