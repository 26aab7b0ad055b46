"""One trial: its values composed into a configuration (as `python -m ...train` would compose
them), scored by cross-validation on the training split with the pruner told fold by fold,
recorded as an MLflow child run, its result told to the study."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..config import compose, from_config
from ..params import Params
from .runs import end_trial_run, start_trial_run
from .space import suggest
from .study import Study


def compose_trial(overrides: Sequence[str]) -> Params:
    cfg = compose(list(overrides))
    return from_config(cfg)


def run_trial(
    spec: Study, study: Any, trial: Any, client: Any, x: Any, y: Any, schema: Any, data_hash: str
) -> None:
    """Compose, cross-validate with pruning, record in MLflow (a child run), tell the study."""
    import optuna

    from ..model import build_model
    from ..stats.resampling import cross_validate, log_cv

    started = time.perf_counter()
    overrides = suggest(trial, spec.space)
    trial.set_user_attr("overrides", overrides)
    params = compose_trial([*spec.overrides, *overrides])
    model = build_model(params.model, params.preprocessing, schema)
    run_id = start_trial_run(client, spec, trial, params)

    def report(fold: int, scores: Mapping[str, list[float]]) -> None:
        values = scores[spec.metric]
        trial.report(sum(values) / len(values), fold)
        if trial.should_prune():
            raise optuna.TrialPruned(f"pruned after fold {fold + 1}")

    values = " ".join(overrides)
    try:
        cv = cross_validate(
            model, x, y, schema.task, params.evaluation, params.seed, data_hash, on_fold=report
        )
    except optuna.TrialPruned as pruned:
        end_trial_run(client, run_id, "PRUNED")
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        print(f"tune: trial {trial.number} {pruned} ({values})", flush=True)
        return
    except BaseException:
        end_trial_run(client, run_id, "FAIL")
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    value = cv.summary()[spec.metric]["mean"]
    log_cv(run_id, cv)
    end_trial_run(client, run_id, "COMPLETE")
    study.tell(trial, value)
    seconds = time.perf_counter() - started
    print(
        f"tune: trial {trial.number}: {spec.metric} {value:.6g} in {seconds:.1f} s ({values})",
        flush=True,
    )
