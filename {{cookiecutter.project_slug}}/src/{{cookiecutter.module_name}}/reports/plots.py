"""The report's figures as PNG bytes, drawn with matplotlib's object API on the Agg canvas.

No pyplot: nothing global is touched, no display is needed, and the same inputs give the same
bytes (the PNG metadata that names the matplotlib version is left out).
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

# Scatter plots of very large test splits draw a seeded sample: the picture is the same.
MAX_POINTS = 20_000
TOP_FEATURES = 20
DPI = 100


def literal(text: object) -> str:
    """A column name or class label as matplotlib must draw it: as written (a pair of `$` would
    start mathematical notation, and a malformed one stop the drawing)."""
    return str(text).replace("$", r"\$")


def png(figure: Figure) -> bytes:
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def confusion_matrix(actual: pd.Series, predicted: pd.Series, classes: Sequence[str]) -> bytes:
    """Counts of (actual, predicted) classes, darker for more rows."""
    from sklearn.metrics import confusion_matrix as counts_of

    labels = list(classes) or sorted(set(actual) | set(predicted))
    counts = counts_of(actual, predicted, labels=labels)
    size = max(4.0, 0.6 * len(labels) + 2.5)
    figure = Figure(figsize=(size, size * 0.85), layout="constrained")
    axes = figure.subplots()
    image = axes.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=axes, shrink=0.8)
    ticks = range(len(labels))
    shown = [literal(label) for label in labels]
    axes.set_xticks(ticks, shown, rotation=45 if len(labels) > 4 else 0, ha="right")
    axes.set_yticks(ticks, shown)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    axes.set_title("Confusion matrix (test split)")
    threshold = counts.max() / 2 if counts.size else 0
    for (row, column), count in np.ndenumerate(counts):
        colour = "white" if count > threshold else "black"
        axes.text(column, row, str(count), ha="center", va="center", color=colour)
    return png(figure)


def sample(actual: pd.Series, predicted: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    actual_values, predicted_values = actual.to_numpy(float), predicted.to_numpy(float)
    if len(actual_values) > MAX_POINTS:
        keep = np.random.default_rng(0).choice(len(actual_values), MAX_POINTS, replace=False)
        return actual_values[keep], predicted_values[keep]
    return actual_values, predicted_values


def predicted_vs_actual(actual: pd.Series, predicted: pd.Series) -> bytes:
    """One point per test row; on the diagonal, the prediction is exact."""
    actual_values, predicted_values = sample(actual, predicted)
    figure = Figure(figsize=(5.5, 5), layout="constrained")
    axes = figure.subplots()
    axes.scatter(actual_values, predicted_values, s=12, alpha=0.6)
    low = min(actual_values.min(), predicted_values.min())
    high = max(actual_values.max(), predicted_values.max())
    axes.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1, label="exact")
    axes.set_xlabel("actual")
    axes.set_ylabel("predicted")
    axes.set_title("Predicted against actual (test split)")
    axes.legend(loc="upper left")
    return png(figure)


def residuals(actual: pd.Series, predicted: pd.Series) -> bytes:
    """actual - predicted against the prediction: a pattern means a systematic error."""
    actual_values, predicted_values = sample(actual, predicted)
    figure = Figure(figsize=(5.5, 4), layout="constrained")
    axes = figure.subplots()
    axes.scatter(predicted_values, actual_values - predicted_values, s=12, alpha=0.6)
    axes.axhline(0, color="grey", linestyle="--", linewidth=1)
    axes.set_xlabel("predicted")
    axes.set_ylabel("residual (actual - predicted)")
    axes.set_title("Residuals (test split)")
    return png(figure)


def feature_importance(values: pd.Series, title: str = "Feature importance") -> bytes:
    """The TOP_FEATURES largest importances as horizontal bars, largest on top."""
    shown = values.head(TOP_FEATURES)[::-1]
    figure = Figure(figsize=(6.5, 1.2 + 0.32 * len(shown)), layout="constrained")
    axes = figure.subplots()
    axes.barh([literal(name) for name in shown.index], shown.to_numpy(float))
    axes.set_xlabel("importance")
    more = f" (top {TOP_FEATURES} of {len(values)})" if len(values) > TOP_FEATURES else ""
    axes.set_title(f"{title}{more}")
    return png(figure)


def fold_scores(scores: dict[str, list[float]], means: dict[str, float]) -> bytes:
    """Each metric's fold scores as points (jittered, seeded), its mean as a bar."""
    names = list(scores)
    figure = Figure(figsize=(1.8 + 1.6 * len(names), 4), layout="constrained")
    axes = figure.subplots()
    rng = np.random.default_rng(0)
    for index, name in enumerate(names):
        values = np.asarray(scores[name], dtype=float)
        axes.scatter(index + rng.uniform(-0.12, 0.12, len(values)), values, s=18, alpha=0.7)
        axes.hlines(means[name], index - 0.3, index + 0.3, color="black", linewidth=2)
    axes.set_xticks(range(len(names)), names)
    axes.set_xlim(-0.6, len(names) - 0.4)
    axes.set_ylabel("score on the held-out fold")
    axes.set_title("Cross-validation fold scores (training split)")
    return png(figure)


def optimisation_history(numbers: list[int], values: list[float], maximize: bool) -> bytes:
    """Each finished trial's value, and the best value so far as a step line."""
    best = np.maximum.accumulate(values) if maximize else np.minimum.accumulate(values)
    figure = Figure(figsize=(6.5, 4), layout="constrained")
    axes = figure.subplots()
    axes.scatter(numbers, values, s=18, alpha=0.7, label="trial")
    axes.step(numbers, best, where="post", color="black", linewidth=1.5, label="best so far")
    axes.set_xlabel("trial")
    axes.set_ylabel("cross-validated score")
    axes.set_title("Optimisation history")
    axes.legend(loc="lower right" if maximize else "upper right")
    return png(figure)
