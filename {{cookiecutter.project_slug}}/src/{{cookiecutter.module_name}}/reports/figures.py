"""The report's figures, as PNG bytes with a title and a caption: the task's plots, the fold scores
of the cross-validation, feature importance, and the plots of each search of `make tune`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..features import split_xy
from . import plots
from .importance import feature_importance
from .inputs import Inputs


@dataclass(frozen=True)
class Figure:
    name: str  # file name, without .png
    title: str
    png: bytes
    caption: str = ""


def figures(inputs: Inputs) -> tuple[list[Figure], str]:
    """The task's plots, then feature importance when there is one; plus the importance note."""
    actual, predicted = inputs.predictions["actual"], inputs.predictions["predicted"]
    if inputs.schema.task == "classification":
        shown = [
            Figure(
                "confusion_matrix",
                "Confusion matrix",
                plots.confusion_matrix(actual, predicted, inputs.meta.classes or []),
                "Rows: the true class; columns: the predicted class. The diagonal is correct.",
            )
        ]
    else:
        shown = [
            Figure(
                "predicted_vs_actual",
                "Predicted against actual",
                plots.predicted_vs_actual(actual, predicted),
                "On the dashed line, the prediction is exact.",
            ),
            Figure(
                "residuals",
                "Residuals",
                plots.residuals(actual, predicted),
                "A trend or a funnel here means an error the model makes systematically.",
            ),
        ]
    if "cv" in inputs.estimates:
        shown.append(fold_scores_figure(inputs))
    x, y = split_xy(inputs.test, inputs.schema.features, inputs.schema.target)
    importance, note = feature_importance(inputs.model, x, y, inputs.params.seed)
    if importance is not None:
        shown.append(
            Figure(
                "feature_importance",
                "Feature importance",
                plots.feature_importance(importance.values),
                note,
            )
        )
    return shown, note


def fold_scores_figure(inputs: Inputs) -> Figure:
    cv = inputs.estimates["cv"]
    scores = {name: value["folds"] for name, value in cv.items() if isinstance(value, dict)}
    return Figure(
        "cv_folds",
        "Cross-validation fold scores",
        plots.fold_scores(scores, {name: cv[name]["mean"] for name in scores}),
        f"One point per fold ({cv.get('k')} folds x {cv.get('repeats')} repeats, seed"
        f" {cv.get('seed')}) of the training split; the bar is the mean. Spread here is noise"
        " that a single split hides.",
    )


def read_studies(root: Path = Path("tune")) -> list[tuple[str, Any, list[Figure]]]:
    """Each study of `make tune` (its journal in tune/<study>/) with its figures."""
    journals = sorted(root.glob("*/journal.log"))
    if not journals:
        return []
    import optuna

    from ..tuning.study import open_storage, quiet_optuna

    quiet_optuna()
    found = []
    for journal in journals:
        name = journal.parent.name
        try:
            study = optuna.load_study(study_name=name, storage=open_storage(str(journal)))
        except (KeyError, ValueError):  # a journal of another name, or an empty one
            continue
        found.append((name, study, study_figures(name, study)))
    return found


def study_figures(name: str, study: Any) -> list[Figure]:
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return []
    maximize = study.direction.name == "MAXIMIZE"
    shown = [
        Figure(
            f"search_{name}_history",
            f"Search {name}: optimisation history",
            plots.optimisation_history(
                [t.number for t in complete], [float(t.value) for t in complete], maximize
            ),
            "Each finished trial's cross-validated score, and the best so far.",
        )
    ]
    try:
        importances = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError):  # too few trials, or nothing varies
        importances = {}
    if importances:
        values = pd.Series(importances, dtype=float).sort_values(ascending=False)
        shown.append(
            Figure(
                f"search_{name}_importances",
                f"Search {name}: parameter importances",
                plots.feature_importance(values, "Parameter importance (fANOVA)"),
                "How much of the score's variation across trials each setting explains.",
            )
        )
    return shown
