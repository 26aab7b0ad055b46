"""Score a model on held-out data: metrics for DVC and MLflow, rows for the predictions plot.

Each metric is one function of (actual, predicted) arrays whose last axis is the rows, so the same
code scores the test split (one row of values), every cross-validation fold and a
thousand bootstrap resamples at once (stats/). Add a metric by adding a function to METRICS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

# The metric sweeps optimise and reports sort by, per task, and whether higher is better.
PRIMARY_METRIC = {"classification": ("accuracy", True), "regression": ("rmse", False)}


def accuracy(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.asarray(np.mean(actual == predicted, axis=-1))


def f1_macro(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """The unweighted mean of each class's F1, over the classes present in actual or predicted
    (scikit-learn's f1_score(average="macro")). Labels are integer codes (see metric_values)."""
    labels = np.union1d(np.unique(actual), np.unique(predicted))
    total = np.zeros(actual.shape[:-1])
    present = np.zeros(actual.shape[:-1])
    for label in labels:
        is_actual, is_predicted = actual == label, predicted == label
        true_positive = np.sum(is_actual & is_predicted, axis=-1)
        errors = np.sum(is_actual ^ is_predicted, axis=-1)
        seen = (2 * true_positive + errors) > 0
        total += np.where(seen, 2 * true_positive / np.maximum(2 * true_positive + errors, 1), 0)
        present += seen
    return np.asarray(total / np.maximum(present, 1))


def rmse(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.asarray(np.sqrt(np.mean((actual - predicted) ** 2, axis=-1)))


def mae(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    return np.asarray(np.mean(np.abs(actual - predicted), axis=-1))


def r2(actual: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """1 - residual / total sum of squares; 1 for a perfect fit of a constant, else 0 for one."""
    residual = np.sum((actual - predicted) ** 2, axis=-1)
    total = np.sum((actual - np.mean(actual, axis=-1, keepdims=True)) ** 2, axis=-1)
    safe = np.where(total > 0, total, 1.0)
    return np.asarray(np.where(total > 0, 1 - residual / safe, np.where(residual == 0, 1.0, 0.0)))


Metric = Callable[[np.ndarray, np.ndarray], np.ndarray]
INF = float("inf")
# Per task: name -> (function, higher is better, the range of its values: intervals stay inside).
METRICS: dict[str, dict[str, tuple[Metric, bool, tuple[float, float]]]] = {
    "classification": {"accuracy": (accuracy, True, (0, 1)), "f1_macro": (f1_macro, True, (0, 1))},
    "regression": {
        "rmse": (rmse, False, (0, INF)),
        "mae": (mae, False, (0, INF)),
        "r2": (r2, True, (-INF, 1)),
    },
}


def higher_is_better(metric: str) -> bool:
    for metrics in METRICS.values():
        if metric in metrics:
            return metrics[metric][1]
    return True


def value_range(metric: str) -> tuple[float, float]:
    for metrics in METRICS.values():
        if metric in metrics:
            return metrics[metric][2]
    return (-INF, INF)


def encoded(actual: Any, predicted: Any, task: str) -> tuple[np.ndarray, np.ndarray]:
    """Both as the arrays the metric functions take: labels as integer codes, numbers as floats."""
    actual_values, predicted_values = np.asarray(actual), np.asarray(predicted)
    if task == "regression":
        return actual_values.astype(float), predicted_values.astype(float)
    both = np.concatenate([actual_values.astype(str), predicted_values.astype(str)])
    _, codes = np.unique(both, return_inverse=True)
    return codes[: len(actual_values)], codes[len(actual_values) :]


def metric_values(actual: Any, predicted: Any, task: str) -> dict[str, float]:
    """Every metric of the task on one set of predictions, rounded so files are byte-stable."""
    actual_codes, predicted_codes = encoded(actual, predicted, task)
    return {
        name: round(float(function(actual_codes, predicted_codes)), 6)
        for name, (function, _, _) in METRICS[task].items()
    }


def score(model: Any, features: pd.DataFrame, target: pd.Series, task: str) -> dict[str, float]:
    """Metrics of the task, rounded so the metrics file is byte-stable across runs.

    classification: accuracy, macro F1; regression: RMSE, MAE, R^2. Both: n_test.
    """
    predicted = model.predict(features)
    return {**metric_values(target, predicted, task), "n_test": len(target)}


def prediction_rows(model: Any, features: pd.DataFrame, target: pd.Series) -> pd.DataFrame:
    """One row per test sample (actual, predicted): `dvc plots` draws the confusion matrix of a
    classifier or the predicted-versus-actual scatter of a regressor from it."""
    predicted = model.predict(features)
    if predicted.dtype.kind == "f":
        predicted = predicted.round(6)
    return pd.DataFrame({"actual": target.to_numpy(), "predicted": predicted})


def metrics_json(metrics: dict[str, Any]) -> str:
    return json.dumps(metrics, indent=2, sort_keys=True) + "\n"
