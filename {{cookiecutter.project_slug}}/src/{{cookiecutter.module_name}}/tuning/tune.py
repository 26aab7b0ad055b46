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
import hashlib
import json
import subprocess
import sys
import time
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ..config import CONFIG_DIR, compose, from_config
from ..evaluate import PRIMARY_METRIC
from ..params import Params
from ..utils import files
from ..utils.cli import command_parser
from ..utils.errors import PipelineError, exit_on_error

STUDY_ROOT = Path("tune")
SEARCH_GROUP = "search"
PRESET_DIR = CONFIG_DIR / "experiment"
STUDY_TAG = "tune_study"
TRIAL_TAG = "tune_trial"
STATE_TAG = "tune_state"
PARENT_TAG = "mlflow.parentRunId"
# What a trial's values are drawn from: exactly one of these keys per entry of the search space.
KINDS = ("int", "float", "choice")


# --- the search space ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Dimension:
    key: str  # where in the configuration, for example model.estimator.max_depth
    kind: str  # int, float or choice
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()


def dimensions(space: Any, prefix: str = "") -> list[Dimension]:
    """The entries of a search space config: nested like the configuration, each leaf a mapping
    with one of `int: [low, high]`, `float: [low, high]` (and `log: true`) or `choice: [...]`."""
    if not isinstance(space, Mapping):
        raise PipelineError(f"search space: {prefix or 'the file'} must be a mapping of settings.")
    found: list[Dimension] = []
    for name, entry in space.items():
        key = f"{prefix}{name}"
        kinds = [kind for kind in KINDS if isinstance(entry, Mapping) and kind in entry]
        if not kinds:
            found += dimensions(entry, f"{key}.")
            continue
        unknown = set(entry) - {*KINDS, "log"}
        if len(kinds) > 1 or unknown:
            raise PipelineError(
                f"search space: {key} needs exactly one of int, float or choice (and log: true);"
                f" it has {sorted(entry)}."
            )
        kind = kinds[0]
        if kind == "choice":
            choices = entry["choice"]
            if not isinstance(choices, Sequence) or isinstance(choices, str) or not choices:
                raise PipelineError(f"search space: {key}: choice needs a list of values.")
            found.append(Dimension(key, kind, choices=tuple(choices)))
            continue
        bounds = entry[kind]
        if not isinstance(bounds, Sequence) or len(bounds) != 2 or not bounds[0] < bounds[1]:
            raise PipelineError(f"search space: {key}: {kind} needs [low, high] with low < high.")
        log = bool(entry.get("log", False))
        if log and bounds[0] <= 0:
            raise PipelineError(f"search space: {key}: a log scale needs a low above 0.")
        found.append(Dimension(key, kind, bounds[0], bounds[1], log))
    return found


def override_value(value: Any) -> str:
    """A value as Hydra's override grammar reads it back exactly."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if text.replace("_", "").isalnum() and not text[0].isdigit():
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def suggest(trial: Any, space: Sequence[Dimension]) -> list[str]:
    """The trial's values, drawn by the study's sampler, as Hydra overrides."""
    overrides = []
    for dim in space:
        if dim.kind == "int":
            value: Any = trial.suggest_int(
                dim.key, int(dim.low or 0), int(dim.high or 0), log=dim.log
            )
        elif dim.kind == "float":
            value = trial.suggest_float(
                dim.key, float(dim.low or 0), float(dim.high or 0), log=dim.log
            )
        else:
            value = trial.suggest_categorical(dim.key, list(dim.choices))
        # ++: set the key whether the configuration has it or not (an estimator's own default).
        overrides.append(f"++{dim.key}={override_value(value)}")
    return overrides


# --- the study ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Study:
    """What every worker needs to run trials (a plain value: it is pickled for SLURM jobs)."""

    name: str
    storage: str  # an RDB URL, or the path of the journal file
    directory: str  # tune/<study>: the training split, the ask lock, the worker settings
    overrides: tuple[str, ...]  # the base configuration's overrides (ARGS)
    space: tuple[Dimension, ...]
    trials: int  # the number of finished trials asked for
    seed: int
    metric: str
    maximize: bool
    parent_run_id: str
    experiment_id: str

    @property
    def data_dir(self) -> Path:
        return Path(self.directory) / "data"


def open_storage(storage: str) -> Any:
    """Optuna's storage: an RDB URL as it is, else a journal file (with a lock file beside it that
    works on NFS, where SQLite and fcntl locks do not)."""
    if "://" in storage:
        return storage
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    Path(storage).parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(storage, lock_obj=JournalFileOpenLock(storage)))


def quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def sampler_for(seed: int) -> Any:
    """TPE, seeded per trial number (set before each ask), so a resumed or parallel study never
    draws a finished trial's values again and one worker's study is the same run after run."""
    from optuna.samplers import TPESampler

    return TPESampler(seed=seed, constant_liar=True)


def settings_key(cfg: DictConfig, space: Sequence[Dimension], metric: str) -> str:
    """What the study optimises: the configuration without its name and paths, the space, the
    metric. A study resumed with other settings would mix trials of two searches."""
    task = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items()}  # type: ignore[union-attr]
    for key in ("name", "paths", SEARCH_GROUP, "mlflow", "plots"):
        task.pop(key, None)
    settings = {"config": task, "space": [asdict(d) for d in space], "metric": metric}
    canonical = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def prepare_split(params: Params, data_dir: Path) -> None:
    """The study's training split, made by the data stage's own code from the same settings (so it
    is byte-identical to the pipeline's), kept for every trial and resume; the test split is
    deleted at once: the search never sees it."""
    from ..data import prepare_data

    paths = {
        "raw": data_dir / "raw.csv",
        "train": data_dir / "train.csv",
        "test": data_dir / "test.csv",
        "schema_": data_dir / "schema.json",
    }
    if paths["train"].is_file() and paths["schema_"].is_file():
        return
    moved = params.paths.model_copy(update={k: str(v) for k, v in paths.items()})
    prepare_data(params.model_copy(update={"paths": moved}))
    paths["test"].unlink()
    paths["raw"].unlink()


def compose_trial(overrides: Sequence[str]) -> Params:
    cfg = compose(list(overrides))
    return from_config(cfg)


# --- trials ------------------------------------------------------------------------------------


class AskLock:
    """A lock file in the study directory, held while a worker counts the trials and asks for one:
    with it, n workers run exactly the trials asked for. Optuna's own open-file lock (safe on NFS;
    a lock left by a killed process is broken after 30 s)."""

    def __init__(self, directory: str) -> None:
        from optuna.storages.journal import JournalFileOpenLock

        self.lock = JournalFileOpenLock(str(Path(directory) / "ask"))

    def __enter__(self) -> None:
        self.lock.acquire()

    def __exit__(self, *exc: object) -> None:
        self.lock.release()


def counted(study: Any) -> int:
    """Trials that count towards the number asked for: finished, pruned, or running now."""
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
    return len(study.get_trials(deepcopy=False, states=states))


def work(spec: Study) -> int:
    """One worker: run trials of the study until the number asked for are done; how many it ran."""
    import optuna
    from mlflow import MlflowClient

    from ..artifact.model_dir import file_sha256
    from ..data import load_schema, read_split
    from ..features import split_xy
    from ..tracking.dead_runs import process_tags
    from ..tracking.training_run import use_tracking_store

    quiet_optuna()
    use_tracking_store()
    client = MlflowClient()
    study = optuna.load_study(study_name=spec.name, storage=open_storage(spec.storage))
    schema = load_schema(spec.data_dir / "schema.json")
    x, y = split_xy(read_split(spec.data_dir / "train.csv", schema), schema.features, schema.target)
    data_hash = file_sha256(spec.data_dir / "train.csv")
    lock = AskLock(spec.directory)
    ran = 0
    while True:
        with lock:
            if counted(study) >= spec.trials:
                return ran
            study.sampler = sampler_for(spec.seed + len(study.get_trials(deepcopy=False)))
            trial = study.ask()
            trial.set_user_attr("process", process_tags())
        run_trial(spec, study, trial, client, x, y, schema, data_hash)
        ran += 1


def run_trial(
    spec: Study, study: Any, trial: Any, client: Any, x: Any, y: Any, schema: Any, data_hash: str
) -> None:
    """Compose, cross-validate with pruning, record in MLflow (a child run), tell the study."""
    import optuna
    from mlflow.entities import Param

    from ..model import build_model
    from ..stats.resampling import cross_validate, log_cv
    from ..tracking.dead_runs import process_tags
    from ..tracking.training_run import CONFIG_HASH_TAG, config_hash, flatten

    started = time.perf_counter()
    overrides = suggest(trial, spec.space)
    trial.set_user_attr("overrides", overrides)
    params = compose_trial([*spec.overrides, *overrides])
    model = build_model(params.model, params.preprocessing, schema)
    tags = {
        PARENT_TAG: spec.parent_run_id,
        STUDY_TAG: spec.name,
        TRIAL_TAG: str(trial.number),
        "config_name": params.name,
        "model": params.model.name,
        "data": params.data.name,
        CONFIG_HASH_TAG: config_hash(params),
        **process_tags(),
    }
    run_id = client.create_run(
        spec.experiment_id, run_name=f"trial-{trial.number}", tags=tags
    ).info.run_id
    trial.set_user_attr("mlflow_run_id", run_id)
    logged = flatten(params.model_dump(mode="json", by_alias=True, exclude={"paths"}))
    items = [Param(k, v[:6000]) for k, v in logged.items()]
    for start in range(0, len(items), 100):  # MLflow takes at most 100 params a request
        client.log_batch(run_id, params=items[start : start + 100])

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
        client.set_tag(run_id, STATE_TAG, "PRUNED")
        client.set_terminated(run_id, "KILLED")
        study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        print(f"tune: trial {trial.number} {pruned} ({values})", flush=True)
        return
    except BaseException:
        client.set_tag(run_id, STATE_TAG, "FAIL")
        client.set_terminated(run_id, "FAILED")
        study.tell(trial, state=optuna.trial.TrialState.FAIL)
        raise
    value = cv.summary()[spec.metric]["mean"]
    log_cv(run_id, cv)
    client.set_tag(run_id, STATE_TAG, "COMPLETE")
    client.set_terminated(run_id, "FINISHED")
    study.tell(trial, value)
    seconds = time.perf_counter() - started
    print(
        f"tune: trial {trial.number}: {spec.metric} {value:.6g} in {seconds:.1f} s ({values})",
        flush=True,
    )


def recover(study: Any, client: Any, metric: str) -> None:
    """Trials left RUNNING by a process that is gone: recorded ones (the MLflow run finished) are
    told to the study; the others are marked failed and queued again with the same values."""
    from mlflow.exceptions import MlflowException
    from optuna.trial import TrialState

    from ..tracking.dead_runs import owner_alive

    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if owner_alive(trial.user_attrs.get("process", {})):
            continue
        run_id = trial.user_attrs.get("mlflow_run_id")
        run = None
        if run_id:
            try:
                run = client.get_run(run_id)
            except MlflowException:
                run = None
        value = run.data.metrics.get(f"cv_{metric}_mean") if run is not None else None
        if run is not None and run.info.status == "FINISHED" and value is not None:
            study.tell(trial.number, value, skip_if_finished=True)
            print(f"tune: trial {trial.number} had finished: its value is kept")
            continue
        if run is not None and run.info.status == "RUNNING":
            client.set_tag(run_id, STATE_TAG, "FAIL")
            client.set_terminated(run_id, "FAILED")
        study.tell(trial.number, state=TrialState.FAIL, skip_if_finished=True)
        study.enqueue_trial(trial.params, user_attrs={"retry_of": trial.number})
        print(f"tune: trial {trial.number} was killed: queued again with the same values")


# --- parent run, workers, preset ------------------------------------------------------------------


def parent_run(client: Any, experiment_id: str, name: str) -> str:
    """The study's MLflow parent run: found by its tag when the study is resumed, else created."""
    from ..tracking.dead_runs import process_tags
    from ..tracking.sweep import SweepParentRun

    found = client.search_runs(
        [experiment_id],
        filter_string=f"tags.{STUDY_TAG} = '{name}' and tags.{TRIAL_TAG} = 'parent'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    if found:
        SweepParentRun.take_over(client, found[0])
        return str(found[0].info.run_id)
    tags = {STUDY_TAG: name, TRIAL_TAG: "parent", **process_tags()}
    return str(client.create_run(experiment_id, run_name=f"tune-{name}", tags=tags).info.run_id)


def run_workers(spec: Study, workers: int, launcher: str) -> None:
    """`workers` workers on the study: this process, local processes, or submitit jobs."""
    if launcher == "parallel" and workers == 1:
        work(spec)
        return
    settings = Path(spec.directory) / "worker.json"
    files.write_text(settings, json.dumps(asdict(spec), indent=2) + "\n")
    if launcher == "parallel":
        command = [sys.executable, "-m", f"{__package__}.tune", "--worker", str(settings)]
        processes = [subprocess.Popen(command) for _ in range(workers - 1)]
        try:
            work(spec)  # this process is one of the workers: one process start-up fewer
            failed = [p for p in processes if p.wait() != 0]
        except BaseException:
            for process in processes:
                process.terminate()
            raise
        if failed:
            raise PipelineError(f"{len(failed)} of {workers} workers failed: see their messages.")
        return
    submit_jobs(spec, workers, launcher)


def submit_jobs(spec: Study, workers: int, launcher: str) -> None:
    """The workers as jobs of submitit: SLURM (settings of configs/hydra/launcher/slurm.yaml) or
    local processes (submitit_local: the same machinery without a cluster)."""
    import submitit
    import yaml

    executor = submitit.AutoExecutor(
        folder=str(Path(spec.directory) / "jobs"),
        cluster="local" if launcher == "submitit_local" else "slurm",
    )
    if launcher == "slurm":
        path = CONFIG_DIR / "hydra" / "launcher" / "slurm.yaml"
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        executor.update_parameters(
            timeout_min=config.get("timeout_min", 60),
            cpus_per_task=config.get("cpus_per_task", 1),
            mem_gb=config.get("mem_gb", 4),
            slurm_partition=config.get("partition"),
            slurm_account=config.get("account"),
            slurm_array_parallelism=config.get("array_parallelism", workers),
        )
    else:
        executor.update_parameters(timeout_min=60)
    jobs = executor.map_array(work, [spec] * workers)
    ids = ", ".join(job.job_id for job in jobs)
    print(f"tune: {workers} {launcher} jobs submitted ({ids}); their output: {executor.folder}/")
    for job in jobs:
        job.result()


def preset_yaml(name: str, overrides: Sequence[str], study: str, value: float, metric: str) -> str:
    """An experiment preset (# @package _global_) that composes to the trial's configuration."""
    import yaml
    from hydra.core.override_parser.overrides_parser import OverridesParser

    defaults: list[dict[str, Any]] = []
    values: dict[str, Any] = {"name": name}
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if override.is_delete() or override.is_sweep_override():
            raise PipelineError(f"cannot write a preset for the override {override.input_line}.")
        if key == "experiment":
            raise PipelineError(
                "tune from the settings, not from a preset: name the experiment's settings in ARGS."
            )
        if (CONFIG_DIR / key).is_dir():
            defaults.append({f"override /{key}": override.value()})
            continue
        node = values
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = override.value()
    header = (
        "# @package _global_\n"
        f"# The best trial of the search `{study}` (make tune): cross-validated {metric}"
        f" {value:.6g}.\n"
        f"# Written by `make tune`; select it with `experiment: {name}` in configs/config.yaml.\n"
    )
    body = {"defaults": defaults, **values} if defaults else values
    return header + str(yaml.safe_dump(body, sort_keys=False))


def write_preset(spec: Study, study: Any) -> Path | None:
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    best = study.best_trial
    name = f"tuned-{spec.name}"
    overrides = [*spec.overrides, *best.user_attrs.get("overrides", [])]
    path = PRESET_DIR / f"{name}.yaml"
    files.write_text(path, preset_yaml(name, overrides, spec.name, best.value, spec.metric))
    # Checked: the preset composes to the best trial's configuration.
    chosen = from_config(compose([f"experiment={name}"]))
    trial = compose_trial(overrides)
    if chosen.model_dump(exclude={"name"}) != trial.model_dump(exclude={"name"}):
        raise PipelineError(f"{path} does not compose to the best trial's settings.")
    return path


# --- the command -------------------------------------------------------------------------------


def start(args: argparse.Namespace) -> Study:
    """Compose, read the search space, make the training split, open (or resume) the study."""
    import mlflow
    import optuna
    from mlflow import MlflowClient

    from ..tracking.training_run import use_tracking_store

    quiet_optuna()
    overrides = list(args.overrides)
    base = from_config(compose(overrides))
    search = args.search or base.model.name
    if not (CONFIG_DIR / SEARCH_GROUP / f"{search}.yaml").is_file():
        shipped = sorted(p.stem for p in (CONFIG_DIR / SEARCH_GROUP).glob("*.yaml"))
        raise PipelineError(
            f"no search space {CONFIG_DIR}/{SEARCH_GROUP}/{search}.yaml for model"
            f" {base.model.name!r}: write one, or name one with SEARCH= ({', '.join(shipped)})."
        )
    cfg = compose([*overrides, f"+{SEARCH_GROUP}={search}"])
    space = tuple(dimensions(OmegaConf.to_container(cfg[SEARCH_GROUP], resolve=True)))
    if not space:
        raise PipelineError(f"the search space {search} has no entries.")
    metric, maximize = PRIMARY_METRIC[base.data.task]
    name = args.study or f"{base.name}-{base.model.name}"
    directory = STUDY_ROOT / name
    storage = args.storage or str(directory / "journal.log")
    key = settings_key(cfg, space, metric)
    study = optuna.create_study(
        study_name=name,
        storage=open_storage(storage),
        direction="maximize" if maximize else "minimize",
        sampler=sampler_for(base.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
        load_if_exists=True,
    )
    if study.user_attrs.get("settings") not in (None, key):
        raise PipelineError(
            f"the study {name!r} was started with other settings (configuration, search space or"
            " metric): resume it with the same ones, or start another with STUDY=<new name>."
        )
    study.set_user_attr("settings", key)
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
    import optuna
    from mlflow import MlflowClient
    from optuna.trial import TrialState

    study = optuna.load_study(study_name=spec.name, storage=open_storage(spec.storage))
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
        settings = json.loads(args.worker.read_text(encoding="utf-8"))
        settings["space"] = tuple(Dimension(**d) for d in settings["space"])
        settings["overrides"] = tuple(settings["overrides"])
        work(Study(**settings))
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
