"""Which process owns an MLflow run, and ending the runs whose process died.

MLflow marks a run FINISHED or FAILED when the code that started it says so. A process that is
killed outright (kill -9, the out-of-memory killer, a lost node, a SLURM time limit) never says so,
and its run stays RUNNING forever. So every run the pipeline starts carries tags naming its process,
and before it starts one, training (and every sweep) ends the runs of dead processes as FAILED:

* a run of this machine whose process is gone (or is another process that got the same pid);
* a run of another machine, or another container, only once it is older than STALE_AFTER: its
  process cannot be checked from here, and a live run of another machine must never be touched.

Runs without these tags (a notebook's, an older project's) are never touched. What a run that
died uploaded is deleted with it (discard_uploads): its model version (no pipeline output names
it, and the retrained model is registered again), its logged model and its files, so a killed or
failed training leaves no partial upload in the artifact store.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

HOST_TAG = "pipeline.host"
PID_TAG = "pipeline.pid"
# When the process started (epoch seconds): a pid reused by a later process does not match it.
STARTED_TAG = "pipeline.process_started"
# Linux: this boot, and this pid namespace (a container on the same host has its own pids).
BOOT_TAG = "pipeline.boot_id"
PIDNS_TAG = "pipeline.pid_namespace"
ENDED_TAG = "pipeline.ended_because"
# Generous: a run of another machine may really train this long; a wrong verdict is repaired when
# that run ends (MLflow then records its real status), but it would mislead until then.
STALE_AFTER = timedelta(days=3)
# psutil derives start times from the boot time, which may read a second apart in two processes.
START_TIME_SLACK_S = 2.0


def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _pid_namespace() -> str:
    try:
        return os.readlink("/proc/self/ns/pid")
    except OSError:
        return ""


def process_tags() -> dict[str, str]:
    """Tags naming this process, for a run it starts (or takes over)."""
    import psutil

    return {
        HOST_TAG: socket.gethostname(),
        PID_TAG: str(os.getpid()),
        STARTED_TAG: f"{psutil.Process().create_time():.2f}",
        BOOT_TAG: _read("/proc/sys/kernel/random/boot_id"),
        PIDNS_TAG: _pid_namespace(),
    }


def is_this_process(tags: Mapping[str, str]) -> bool:
    """Whether the tags name the running process itself."""
    here = process_tags()
    return all(tags.get(key) == here[key] for key in (HOST_TAG, PID_TAG, PIDNS_TAG, BOOT_TAG))


def owner_alive(tags: Mapping[str, str]) -> bool | None:
    """Whether the process the tags name still runs; None when this machine cannot tell."""
    import psutil

    here = process_tags()
    if tags.get(HOST_TAG) != here[HOST_TAG] or tags.get(PIDNS_TAG, "") != here[PIDNS_TAG]:
        return None
    if tags.get(BOOT_TAG) and here[BOOT_TAG] and tags[BOOT_TAG] != here[BOOT_TAG]:
        return False  # the machine rebooted since
    try:
        process = psutil.Process(int(tags[PID_TAG]))
        if process.status() == psutil.STATUS_ZOMBIE:
            return False
        started = process.create_time()
    except (KeyError, ValueError):
        return None
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True  # another user's live process
    recorded = tags.get(STARTED_TAG)
    if recorded is None:
        return True
    try:
        return abs(float(started) - float(recorded)) <= START_TIME_SLACK_S
    except ValueError:
        return None


def stale_reason(run: Any, now_ms: int | None = None) -> str | None:
    """Why this RUNNING run will never end by itself, or None when it may still be running."""
    tags = run.data.tags
    if run.info.status != "RUNNING" or PID_TAG not in tags:
        return None
    where = f"process {tags[PID_TAG]} on {tags.get(HOST_TAG, 'an unknown host')}"
    alive = owner_alive(tags)
    if alive:
        return None
    if alive is False:
        return f"its {where} is gone"
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    age = timedelta(milliseconds=now_ms - (run.info.start_time or now_ms))
    if age > STALE_AFTER:
        return f"it has been RUNNING for {age.days} days ({where}, not checkable from here)"
    return None


def end_stale_runs(client: Any, experiment_id: str) -> list[str]:
    """Mark the stale runs of the experiment FAILED (and discard their uploads); their ids."""
    running = client.search_runs(
        [experiment_id], filter_string="attributes.status = 'RUNNING'", max_results=1000
    )
    ended = []
    for run in running:
        reason = stale_reason(run)
        if reason is None:
            continue
        run_id = run.info.run_id
        client.set_tag(run_id, ENDED_TAG, reason)
        client.set_terminated(run_id, status="FAILED")
        print(f"tracking: marked run {run_id} FAILED: {reason}")
        discard_uploads(client, run)
        ended.append(run_id)
    return ended


def discard_uploads(client: Any, run: Any) -> None:
    """Delete what a failed or killed run put in the store: its model versions, its logged models
    (files and records) and its own files. Its params, metrics and tags stay: they say what was
    tried. A version that has an alias is kept, and with it every file of the run."""
    from mlflow.exceptions import MlflowException
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    run_id = run.info.run_id
    kept = False
    for version in client.search_model_versions(f"run_id = '{run_id}'"):
        if version.aliases:
            print(
                f"tracking: kept {version.name} version {version.version} of run {run_id}, and"
                f" its files: it has the alias(es) {', '.join(version.aliases)}"
            )
            kept = True
            continue
        try:
            client.delete_model_version(version.name, version.version)
        except MlflowException:
            continue  # another process deleted it first
        print(f"tracking: deleted {version.name} version {version.version} of run {run_id}")
    if kept:
        return
    logged = client.search_logged_models(
        [run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
    )
    for model in logged:
        files: Any = get_artifact_repository(model.artifact_location)  # untyped methods
        files.delete_artifacts()
        client.delete_logged_model(model.model_id)
    files = get_artifact_repository(run.info.artifact_uri)
    files.delete_artifacts()
