"""Hyperparameter search: an Optuna study on the cross-validated score of the training split.

    make tune                                   # 20 trials of the selected model (TRIALS=20)
    make tune TRIALS=50                         # the same study, resumed: 30 more trials
    make tune WORKERS=4                         # 4 processes on one study
    make tune LAUNCHER=slurm WORKERS=16         # 16 SLURM jobs on one study (submitit)
    python -m {{ cookiecutter.module_name }}.tuning.tune --trials 20 model=logistic_regression

The search space is the config group configs/search/ (the model's name picks its file; --search
another). Each trial composes the configuration with its values (the Hydra way, so the trial is
exactly what `python -m {{ cookiecutter.module_name }}.train <the same overrides>` would train) and
scores it by cross-validation on the training split (stats/), folds reported to the pruner as
they finish. The test split is never read: the study's data directory does not even keep it.

The study lives in a journal file (tune/<study>/journal.log; Optuna's JournalStorage, safe on the
network file systems of clusters) or an RDB URL (--storage). Its name is fixed, so running the same
command again resumes it: finished trials are kept, and only the missing ones run until TRIALS
have finished. Trials left running by a killed process are run again with the same values. Workers,
local processes or SLURM jobs, share the study: each asks for its next trial under a file lock, so
together they run exactly TRIALS. Every trial is an MLflow child run of one parent run per study.

At the end the best trial is written as an experiment preset, configs/experiment/tuned-<study>.yaml:
select it (`experiment: tuned-<study>` in configs/config.yaml) and `make repro` trains that
configuration, whose cross-validated score is the best trial's.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from ..config import compose, from_config
from ..evaluate import PRIMARY_METRIC
from ..utils.cli import command_parser
from ..utils.errors import exit_on_error
from .preset import write_preset
from .recovery import recover
from .runs import parent_run
from .space import search_space
from .study import (
    STUDY_ROOT,
    Study,
    load_study,
    open_study,
    prepare_split,
    quiet_optuna,
    settings_key,
)
from .workers import run_workers, work


def start(args: argparse.Namespace) -> Study:
    """Compose, read the search space, make the training split, open (or resume) the study."""
    import mlflow
    from mlflow import MlflowClient

    from ..tracking.training_run import use_tracking_store

    quiet_optuna()
    overrides = list(args.overrides)
    base = from_config(compose(overrides))
    cfg, space = search_space(overrides, args.search or base.model.name, base.model.name)
    metric, maximize = PRIMARY_METRIC[base.data.task]
    name = args.study or f"{base.name}-{base.model.name}"
    directory = STUDY_ROOT / name
    storage = args.storage or str(directory / "journal.log")
    study = open_study(name, storage, maximize, base.seed, settings_key(cfg, space, metric))
    prepare_split(base, directory / "data")
    use_tracking_store()
    client = MlflowClient()
    experiment_id = mlflow.set_experiment(base.mlflow.experiment).experiment_id
    recover(study, client, metric)
    parent = parent_run(client, experiment_id, name)
    return Study(
        name=name,
        storage=storage,
        directory=str(directory),
        overrides=tuple(overrides),
        space=space,
        trials=args.trials,
        seed=base.seed,
        metric=metric,
        maximize=maximize,
        parent_run_id=parent,
        experiment_id=experiment_id,
    )


def finish(spec: Study) -> None:
    """End the parent run with the best value; write the preset; say what was done."""
    from mlflow import MlflowClient
    from optuna.trial import TrialState

    study = load_study(spec)
    trials = study.get_trials(deepcopy=False)
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    client = MlflowClient()
    preset = write_preset(spec, study)
    if complete:
        best = study.best_trial
        client.log_metric(spec.parent_run_id, f"best_cv_{spec.metric}_mean", float(best.value or 0))
        client.set_tag(spec.parent_run_id, "tune_best_trial", str(best.number))
        values = " ".join(best.user_attrs.get("overrides", []))
        print(
            f"tune: study {spec.name}: {len(complete)} finished, {len(pruned)} pruned; best trial"
            f" {best.number}: {spec.metric} {best.value:.6g} ({values})"
        )
        print(
            f"tune: wrote {preset}: select it with `experiment: tuned-{spec.name}` in"
            " configs/config.yaml, then make repro"
        )
    client.set_terminated(spec.parent_run_id, "FINISHED")


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("tuning.tune", __doc__)
    parser.add_argument("--trials", type=int, default=20, help="finished trials to reach")
    parser.add_argument("--workers", type=int, default=1, help="processes or jobs on the study")
    parser.add_argument(
        "--launcher", choices=("parallel", "slurm", "submitit_local"), default="parallel"
    )
    parser.add_argument("--study", help="the study's name (default: <config name>-<model name>)")
    parser.add_argument("--storage", help="an RDB URL instead of tune/<study>/journal.log")
    parser.add_argument(
        "--search", help="the search space in configs/search/ (default: the model's)"
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("overrides", nargs="*", help="Hydra overrides of the configuration")
    args = parser.parse_args(argv)
    if args.worker is not None:  # a process started by run_workers
        work(Study.load(args.worker))
        return
    if args.trials < 1 or args.workers < 1:
        parser.error("--trials and --workers must be 1 or more")
    if args.study and not args.study.replace("-", "").replace("_", "").isalnum():
        parser.error("--study: letters, digits, - and _ only (it names a directory and a file)")
    spec = start(args)
    print(
        f"tune: study {spec.name} ({spec.storage}), {len(spec.space)} settings searched,"
        f" {spec.trials} trials, {args.workers} worker(s) ({args.launcher});"
        f" MLflow parent run {spec.parent_run_id}",
        flush=True,
    )
    run_workers(spec, args.workers, args.launcher)
    finish(spec)


if __name__ == "__main__":
    main()
