"""Which inputs the model leans on: the estimator's own importances, else permutation importance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# Permutation importance predicts the test split n_repeats times per feature: above this many
# predicted cells in all, the report skips it rather than keep you waiting.
PERMUTATION_BUDGET = 2_000_000
PERMUTATION_REPEATS = 5


@dataclass(frozen=True)
class Importance:
    values: pd.Series  # feature name -> importance, largest first
    method: str  # how it was measured, shown under the plot


def native(model: Any) -> Importance | None:
    """feature_importances_ or |coef_| of the last step, named by the preprocessing's outputs."""
    steps = getattr(model, "steps", None)
    if not steps:
        return None
    estimator = steps[-1][1]
    if hasattr(estimator, "feature_importances_"):
        values = np.asarray(estimator.feature_importances_, dtype=float)
        method = "the estimator's feature_importances_ (impurity-based)"
    elif hasattr(estimator, "coef_"):
        # One row of coefficients per class (or one row): the mean magnitude per input.
        values = np.abs(np.atleast_2d(np.asarray(estimator.coef_, dtype=float))).mean(axis=0)
        method = (
            "the magnitude of the estimator's coefficients (mean over classes); comparable"
            " between features only when they are on one scale (model.scale: true)"
        )
    else:
        return None
    try:
        names = model[:-1].get_feature_names_out()
    except Exception:  # a step without get_feature_names_out: no names, no plot
        return None
    if len(names) != len(values):
        return None
    return Importance(pd.Series(values, index=[str(n) for n in names]), method)


def permutation(model: Any, x: pd.DataFrame, y: pd.Series, seed: int) -> Importance | None:
    """Drop in the test score when one input column is shuffled; None when too costly."""
    from sklearn.inspection import permutation_importance

    if x.empty or x.size * PERMUTATION_REPEATS > PERMUTATION_BUDGET:
        return None
    result = permutation_importance(
        model, x, y, n_repeats=PERMUTATION_REPEATS, random_state=seed, n_jobs=1
    )
    method = (
        f"permutation importance on the test split ({PERMUTATION_REPEATS} shuffles per feature):"
        " the mean drop in the model's score"
    )
    return Importance(pd.Series(result.importances_mean, index=list(x.columns)), method)


def feature_importance(
    model: Any, x: pd.DataFrame, y: pd.Series, seed: int
) -> tuple[Importance | None, str]:
    """The importances (largest first) and a note; (None, why) when there are none."""
    found = native(model) or permutation(model, x, y, seed)
    if found is None:
        return None, (
            "No feature importance: the estimator has neither feature_importances_ nor coef_,"
            f" and permutation importance on {len(x):,} test rows would take too long."
        )
    ordered = found.values.sort_values(ascending=False, kind="stable")
    return Importance(ordered, found.method), f"Measured with {found.method}."
