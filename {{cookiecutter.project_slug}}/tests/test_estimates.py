"""The evaluation's numbers: metrics, cross-validation folds, intervals and the paired test, each
checked on a case whose answer is known (scikit-learn's metrics, a t table, the normal law)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import support
from sklearn import metrics as sk

from {{ cookiecutter.module_name }}.evaluate import metric_values
from {{ cookiecutter.module_name }}.model import build_model
from {{ cookiecutter.module_name }}.params import EvaluationParams
from {{ cookiecutter.module_name }}.stats.intervals import (
    bootstrap_intervals,
    fold_summary,
    paired_test,
    verdict,
)
from {{ cookiecutter.module_name }}.stats.resampling import cross_validate, fold_splits
from {{ cookiecutter.module_name }}.utils.errors import PipelineError

# Student's t, two-sided 95 %, 4 degrees of freedom (any printed t table).
T_4_95 = 2.776445


@pytest.mark.parametrize("rows", [7, 30, 500])
def test_metrics_equal_scikit_learns(rows: int) -> None:
    rng = np.random.default_rng(rows)
    actual, predicted = rng.choice(list("abcd"), rows), rng.choice(list("abc"), rows)
    assert metric_values(actual, predicted, "classification") == {
        "accuracy": round(sk.accuracy_score(actual, predicted), 6),
        "f1_macro": round(sk.f1_score(actual, predicted, average="macro"), 6),
    }
    truth = rng.normal(size=rows)
    guess = truth + rng.normal(size=rows)
    assert metric_values(truth, guess, "regression") == {
        "rmse": round(float(np.sqrt(sk.mean_squared_error(truth, guess))), 6),
        "mae": round(sk.mean_absolute_error(truth, guess), 6),
        "r2": round(sk.r2_score(truth, guess), 6),
    }


def test_fold_summary_is_the_corrected_t_interval() -> None:
    scores = [0.8, 0.9, 1.0, 0.9, 0.9]  # mean 0.9, standard deviation sqrt(0.005)
    half = T_4_95 * math.sqrt(0.005) * math.sqrt(1 / 5 + 1 / 4)  # 5 folds: n_test/n_train = 1/4
    summary = fold_summary(scores, 0.25, 0.95)
    assert summary.mean == 0.9 and summary.std == round(math.sqrt(0.005), 6)
    assert summary.low == pytest.approx(0.9 - half, abs=2e-6)
    assert summary.high == pytest.approx(0.9 + half, abs=2e-6)
    # An accuracy's interval stays inside [0, 1].
    assert fold_summary([1.0, 0.9, 1.0, 1.0, 1.0], 0.25, 0.95, (0, 1)).high == 1.0


def test_bootstrap_interval_of_a_known_accuracy() -> None:
    # 2000 rows, half right: the accuracy's 95 % interval is 0.5 +- 1.96 * sqrt(0.25 / 2000).
    actual = np.array(["a", "b"] * 1000)
    predicted = np.array(["a"] * 2000)
    interval = bootstrap_intervals(actual, predicted, "classification", 2000, 0.95, seed=0)
    half = 1.96 * math.sqrt(0.25 / 2000)
    assert interval["accuracy"]["low"] == pytest.approx(0.5 - half, abs=0.004)
    assert interval["accuracy"]["high"] == pytest.approx(0.5 + half, abs=0.004)
    # Always right: no uncertainty left. The same seed: the same interval.
    perfect = bootstrap_intervals(actual, actual, "classification", 200, 0.95, seed=0)
    assert perfect["accuracy"] == {"low": 1.0, "high": 1.0}
    again = bootstrap_intervals(actual, predicted, "classification", 2000, 0.95, seed=0)
    assert again == interval


def test_paired_test_on_a_known_case() -> None:
    # Differences 0.1, 0.2, 0.0, 0.1, 0.1 over 5 folds: mean 0.1, variance 0.005.
    a = [0.9, 1.0, 0.8, 0.9, 0.9]
    b = [0.8, 0.8, 0.8, 0.8, 0.8]
    test = paired_test(a, b, 0.25, 0.95)
    assert test.t == pytest.approx(0.1 / math.sqrt(0.005 * (1 / 5 + 1 / 4))) and test.folds == 5
    assert test.difference == 0.1
    # t = 2.108: above 2.132 (10 %, 4 degrees of freedom)? No: 0.10 < p < 0.20 (1.533).
    assert 0.10 < test.p_value < 0.20
    assert verdict(test, "accuracy", higher_is_better=True).startswith("no significant difference")
    # The differences shifted to t = 2.776 (the 5 % critical value): p is 0.05; further: below.
    error = math.sqrt(0.005 * (1 / 5 + 1 / 4))
    shift = T_4_95 * error - 0.1
    edge = paired_test([x + shift for x in a], b, 0.25, 0.95)
    assert edge.p_value == pytest.approx(0.05, abs=1e-5)
    clear = paired_test([x + 2 * shift for x in a], b, 0.25, 0.95)
    assert clear.p_value < 0.05 and clear.low > 0
    assert verdict(clear, "accuracy", higher_is_better=True).startswith("significantly better")
    assert verdict(clear, "rmse", higher_is_better=False).startswith("significantly worse")
    same = paired_test(a, a, 0.25, 0.95)
    assert same.p_value == 1.0 and verdict(same, "accuracy", True).startswith("no significant")
    with pytest.raises(ValueError, match="same folds"):
        paired_test(a, b[:4], 0.25, 0.95)


def test_folds_come_from_the_seed_and_cover_every_row_once() -> None:
    target = pd.Series(["a", "b", "c"] * 10)
    first = fold_splits(target, "classification", 5, 2, seed=3)
    again = fold_splits(target, "classification", 5, 2, seed=3)
    other = fold_splits(target, "classification", 5, 2, seed=4)
    assert len(first) == 10
    assert all((a[1] == b[1]).all() for a, b in zip(first, again, strict=True))
    assert any((a[1] != b[1]).any() for a, b in zip(first, other, strict=True))
    for repeat in (first[:5], first[5:]):  # each repeat holds out every row exactly once
        assert sorted(np.concatenate([test for _, test in repeat])) == list(range(30))
    with pytest.raises(
        PipelineError, match=r"evaluation\.folds is 40 but the training split has 30"
    ):
        fold_splits(target, "classification", 40, 1, seed=3)


def test_cross_validation_is_reproducible_and_identifies_its_folds(tmp_path) -> None:
    from {{ cookiecutter.module_name }}.data import prepare

    params = support.params(tmp_path)
    frame, schema, _ = prepare(support.iris_frame(), "species", task="classification")
    x, y = frame[schema.features], frame[schema.target]
    model = build_model(params.model, params.preprocessing, schema)
    settings = EvaluationParams(folds=3, repeats=2)
    seen: list[int] = []
    first = cross_validate(
        model, x, y, "classification", settings, 7, "data", lambda n, _: seen.append(n)
    )
    again = cross_validate(model, x, y, "classification", settings, 7, "data")
    assert seen == list(range(6)) and len(first.scores["accuracy"]) == 6
    assert first == again
    assert first.test_share == pytest.approx(0.5)  # 3 folds: a third held out, two thirds fitted
    assert (
        first.split_id
        != cross_validate(model, x, y, "classification", settings, 8, "data").split_id
    )
    assert (
        first.split_id
        != cross_validate(model, x, y, "classification", settings, 7, "other").split_id
    )
    entry = first.as_json()
    assert entry["accuracy"]["folds"] == first.scores["accuracy"] and entry["k"] == 3
    assert entry["accuracy"]["low"] <= entry["accuracy"]["mean"] <= entry["accuracy"]["high"]
