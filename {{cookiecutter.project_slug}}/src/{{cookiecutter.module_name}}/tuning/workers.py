"""Workers on one study: this process, local processes (`python -m ...tuning.tune --worker`) or
submitit jobs (SLURM, or local); each asks for its next trial under one lock, so together they
run exactly the trials asked for."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from ..config import CONFIG_DIR
from ..utils.errors import PipelineError
from .study import Study, load_study, quiet_optuna, sampler_for
from .trial import run_trial


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
    from mlflow import MlflowClient

    from ..artifact.meta import file_sha256
    from ..data import load_schema, read_split
    from ..features import split_xy
    from ..tracking.dead_runs import process_tags
    from ..tracking.training_run import use_tracking_store

    quiet_optuna()
    use_tracking_store()
    client = MlflowClient()
    study = load_study(spec)
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


def run_workers(spec: Study, workers: int, launcher: str) -> None:
    """`workers` workers on the study: this process, local processes, or submitit jobs."""
    if launcher == "parallel" and workers == 1:
        work(spec)
        return
    settings = Path(spec.directory) / "worker.json"
    spec.save(settings)
    if launcher == "parallel":
        # The command's --worker option: work(Study.load(settings)) in a new process.
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
    # submitit pickles work by reference: each job imports this module and runs it on the spec.
    jobs = executor.map_array(work, [spec] * workers)
    ids = ", ".join(job.job_id for job in jobs)
    print(f"tune: {workers} {launcher} jobs submitted ({ids}); their output: {executor.folder}/")
    for job in jobs:
        job.result()
