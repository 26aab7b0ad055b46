"""Score a model on held-out data: metrics for DVC and MLflow, rows for the confusion plot."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd


def score(model: Any, features: pd.DataFrame, target: pd.Series) -> dict[str, float]:
    """Accuracy and macro F1, rounded so the metrics file is byte-stable across runs."""
    from sklearn.metrics import accuracy_score, f1_score

    predicted = model.predict(features)
    return {
        "accuracy": round(float(accuracy_score(target, predicted)), 6),
        "f1_macro": round(float(f1_score(target, predicted, average="macro")), 6),
        "n_test": len(target),
    }


def confusion_rows(model: Any, features: pd.DataFrame, target: pd.Series) -> pd.DataFrame:
    """One row per test sample (actual, predicted), as the `dvc plots` confusion template reads."""
    return pd.DataFrame({"actual": target.to_numpy(), "predicted": model.predict(features)})


def metrics_json(metrics: dict[str, float]) -> str:
    return json.dumps(metrics, indent=2, sort_keys=True) + "\n"
