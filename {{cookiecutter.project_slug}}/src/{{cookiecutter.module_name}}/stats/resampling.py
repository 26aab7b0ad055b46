"""The uncertainty of every score: cross-validation on the training split, bootstrap on the test
split.

Cross-validation (cross_validate) refits a fresh copy of the configured model on k folds of the
training split, repeated `evaluation.repeats` times with seeds seed, seed + 1, ...; the folds come
from the seed alone, so two runs of the same data and settings score on identical folds (their
`split_id` says so) and compare fold by fold (`make compare`). Training logs it (metrics.json
via paths.cv, and the MLflow run); the search (tuning/) optimises its mean. The test split is never
part of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..evaluate import metric_values, value_range
from ..params import EvaluationParams
from ..utils.errors import PipelineError
from .intervals import bootstrap_intervals, fold_summary

# Called after each fold with (fold number from 0, every metric's scores so far); may raise to stop.
FoldCallback = Callable[[int, Mapping[str, list[float]]], None]


@dataclass(frozen=True)
class CvResult:
    folds: int  # k
    repeats: int
    seed: int
    scores: dict[str, list[float]]  # metric -> one score per fold, repeat by repeat
    test_share: float  # n_test / n_train of a fold
    confidence: float
    split_id: str  # the data and the folds: equal ids, identical folds

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            name: fold_summary(
                values, self.test_share, self.confidence, value_range(name)
            ).as_dict()
            for name, values in self.scores.items()
        }

    def as_json(self) -> dict[str, Any]:
        """The `cv` entry of metrics.json: settings, then per metric its summary and fold scores."""
        entry: dict[str, Any] = {
            "k": self.folds,
            "repeats": self.repeats,
            "seed": self.seed,
            "split_id": self.split_id,
        }
        for name, summary in self.summary().items():
            entry[name] = {**summary, "folds": self.scores[name]}
        return entry

    def mlflow_metrics(self) -> dict[str, float]:
        """cv_<metric>_mean, _std, _low and _high (the fold scores are a history: log_cv)."""
        return {
            f"cv_{name}_{key}": value
            for name, summary in self.summary().items()
            for key, value in summary.items()
        }


def fold_splits(
    target: pd.Series, task: str, folds: int, repeats: int, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train rows, test rows) of each fold: stratified by class for classification, shuffled with
    the seed; repeat r shuffles with seed + r."""
    from sklearn.model_selection import KFold, StratifiedKFold

    rows = len(target)
    if rows < folds:
        raise PipelineError(
            f"evaluation.folds is {folds} but the training split has {rows} rows: lower it."
        )
    splits = []
    for repeat in range(repeats):
        if task == "classification" and target.value_counts().max() >= folds:
            splitter: Any = StratifiedKFold(folds, shuffle=True, random_state=seed + repeat)
        else:
            splitter = KFold(folds, shuffle=True, random_state=seed + repeat)
        splits += list(splitter.split(np.zeros(rows), target))
    return splits


def split_id(data_hash: str, splits: list[tuple[np.ndarray, np.ndarray]]) -> str:
    digest = hashlib.sha256(data_hash.encode("utf-8"))
    for _, test_rows in splits:
        digest.update(np.asarray(test_rows, dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]


def cross_validate(
    model: Any,
    x: pd.DataFrame,
    y: pd.Series,
    task: str,
    evaluation: EvaluationParams,
    seed: int,
    data_hash: str,
    on_fold: FoldCallback | None = None,
) -> CvResult:
    """Fit a clone of the (unfitted) model on each fold's training rows, score its held-out rows."""
    from sklearn.base import clone

    splits = fold_splits(y, task, evaluation.folds, evaluation.repeats, seed)
    scores: dict[str, list[float]] = {}
    for number, (train_rows, test_rows) in enumerate(splits):
        fitted = clone(model).fit(x.iloc[train_rows], y.iloc[train_rows])
        predicted = fitted.predict(x.iloc[test_rows])
        for name, value in metric_values(y.iloc[test_rows], predicted, task).items():
            scores.setdefault(name, []).append(value)
        if on_fold is not None:
            on_fold(number, scores)
    shares = [len(test) / len(train) for train, test in splits]
    return CvResult(
        folds=evaluation.folds,
        repeats=evaluation.repeats,
        seed=seed,
        scores=scores,
        test_share=float(np.mean(shares)),
        confidence=evaluation.confidence,
        split_id=split_id(data_hash, splits),
    )


def test_intervals(
    model: Any, x: pd.DataFrame, y: pd.Series, task: str, evaluation: EvaluationParams, seed: int
) -> dict[str, Any]:
    """The `test_interval` entry of metrics.json: a bootstrap interval for each test metric."""
    intervals: dict[str, Any] = bootstrap_intervals(
        y.to_numpy(), model.predict(x), task, evaluation.bootstrap, evaluation.confidence, seed
    )
    return {"confidence": evaluation.confidence, "resamples": evaluation.bootstrap, **intervals}


def interval_metrics(intervals: Mapping[str, Any]) -> dict[str, float]:
    """<metric>_low and <metric>_high, for the MLflow run."""
    return {
        f"{name}_{end}": value[end]
        for name, value in intervals.items()
        if isinstance(value, Mapping)
        for end in ("low", "high")
    }


def cv_json(result: CvResult) -> str:
    return json.dumps(result.as_json(), indent=2, sort_keys=True) + "\n"


def log_cv(run_id: str, result: CvResult, extra: Mapping[str, float] | None = None) -> None:
    """The summary metrics, each fold's score as a history (cv_<metric>_fold, step = fold) and the
    split id (tag cv_split_id) on an MLflow run, in one request."""
    import time

    from mlflow import MlflowClient
    from mlflow.entities import Metric, RunTag

    now = int(time.time() * 1000)
    metrics = [
        Metric(key, value, now, 0)
        for key, value in {**result.mlflow_metrics(), **(extra or {})}.items()
    ]
    for name, values in result.scores.items():
        metrics += [
            Metric(f"cv_{name}_fold", value, now, step) for step, value in enumerate(values)
        ]
    tags = [RunTag("cv_split_id", result.split_id), RunTag("cv_folds", str(result.folds))]
    client = MlflowClient()
    for start in range(0, len(metrics), 1000):  # MLflow takes at most 1000 metrics a request
        client.log_batch(
            run_id, metrics=metrics[start : start + 1000], tags=tags if start == 0 else []
        )
