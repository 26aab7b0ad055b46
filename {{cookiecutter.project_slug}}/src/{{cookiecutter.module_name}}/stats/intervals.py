"""How much of a number is noise: intervals of cross-validated and test scores, and paired tests.

* Cross-validation (fold_summary): the folds' mean, their standard deviation, and a t interval whose
  variance is corrected for the overlap of the training sets (Nadeau and Bengio, 2003: the folds
  are not independent, so the naive interval is too narrow): var * (1/J + n_test/n_train), J folds.
* Test split (bootstrap_intervals): percentile intervals over resamples of the test rows (seeded),
  each metric recomputed on each resample.
* Two models on the same folds (paired_test): the corrected resampled t-test on the per-fold
  differences, with the same correction; a p-value and a verdict in plain words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..evaluate import INF, METRICS, encoded

# Bootstrap resamples drawn at once: bounds the memory a large test split takes.
MAX_CELLS_PER_CHUNK = 4_000_000
DIGITS = 6


def t_quantile(confidence: float, dof: int) -> float:
    """The two-sided quantile of Student's t with `dof` degrees of freedom."""
    from scipy.stats import t

    return float(t.ppf(0.5 + confidence / 2, dof))


def rounded(value: float) -> float:
    return round(float(value), DIGITS)


@dataclass(frozen=True)
class FoldSummary:
    mean: float
    std: float
    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"mean": self.mean, "std": self.std, "low": self.low, "high": self.high}


def fold_summary(
    scores: Sequence[float],
    test_share: float,
    confidence: float,
    bounds: tuple[float, float] = (-INF, INF),
) -> FoldSummary:
    """Mean, standard deviation (n - 1) and corrected t interval of one metric's fold scores.

    test_share: n_test / n_train of one fold (1 / (k - 1) for k folds). The interval is cut to the
    metric's range (`bounds`: an accuracy is never above 1).
    """
    values = np.asarray(scores, dtype=float)
    mean = float(values.mean())
    if len(values) < 2:
        return FoldSummary(rounded(mean), 0.0, rounded(mean), rounded(mean))
    std = float(values.std(ddof=1))
    half = t_quantile(confidence, len(values) - 1) * std * math.sqrt(1 / len(values) + test_share)
    low, high = max(mean - half, bounds[0]), min(mean + half, bounds[1])
    return FoldSummary(rounded(mean), rounded(std), rounded(low), rounded(high))


def bootstrap_intervals(
    actual: Sequence[object],
    predicted: Sequence[object],
    task: str,
    resamples: int,
    confidence: float,
    seed: int,
) -> dict[str, dict[str, float]]:
    """{metric: {"low", "high"}}: percentile intervals over `resamples` resamples of the rows."""
    actual_codes, predicted_codes = encoded(actual, predicted, task)
    rows = len(actual_codes)
    if resamples < 1 or rows == 0:
        return {}
    rng = np.random.default_rng(seed)
    chunk = max(1, MAX_CELLS_PER_CHUNK // rows)
    values: dict[str, list[np.ndarray]] = {name: [] for name in METRICS[task]}
    for start in range(0, resamples, chunk):
        picked = rng.integers(0, rows, size=(min(chunk, resamples - start), rows))
        for name, (function, _, _) in METRICS[task].items():
            values[name].append(function(actual_codes[picked], predicted_codes[picked]))
    tail = 100 * (1 - confidence) / 2
    intervals = {}
    for name, parts in values.items():
        low, high = np.percentile(np.concatenate(parts), [tail, 100 - tail])
        intervals[name] = {"low": rounded(low), "high": rounded(high)}
    return intervals


@dataclass(frozen=True)
class PairedTest:
    """Model A against model B on the same folds: the mean difference A - B and its test."""

    difference: float
    low: float
    high: float
    t: float
    p_value: float
    folds: int


def paired_test(
    scores_a: Sequence[float], scores_b: Sequence[float], test_share: float, confidence: float
) -> PairedTest:
    """The corrected resampled t-test (Nadeau and Bengio) of A - B over paired fold scores."""
    a, b = np.asarray(scores_a, dtype=float), np.asarray(scores_b, dtype=float)
    if a.shape != b.shape or len(a) < 2:
        raise ValueError("a paired test needs the scores of the same folds (two or more) for both")
    from scipy.stats import t as student

    differences = a - b
    folds = len(differences)
    mean = float(differences.mean())
    variance = float(differences.var(ddof=1)) * (1 / folds + test_share)
    if variance == 0:
        # Every fold differs by the same amount: no noise to weigh it against.
        statistic = 0.0 if mean == 0 else math.copysign(math.inf, mean)
        p_value = 1.0 if mean == 0 else 0.0
        return PairedTest(rounded(mean), rounded(mean), rounded(mean), statistic, p_value, folds)
    statistic = mean / math.sqrt(variance)
    p_value = float(2 * student.sf(abs(statistic), folds - 1))
    half = t_quantile(confidence, folds - 1) * math.sqrt(variance)
    return PairedTest(
        rounded(mean), rounded(mean - half), rounded(mean + half), statistic, p_value, folds
    )


def verdict(test: PairedTest, metric: str, higher_is_better: bool, alpha: float = 0.05) -> str:
    """The test in plain words, for example "better (p = 0.012)"."""
    p = f"p = {test.p_value:.3g}"
    if test.p_value >= alpha:
        return f"no significant difference in {metric} ({p})"
    better = (test.difference > 0) == higher_is_better
    return f"significantly {'better' if better else 'worse'} in {metric} ({p} < {alpha:g})"
