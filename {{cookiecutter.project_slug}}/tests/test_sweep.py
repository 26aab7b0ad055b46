"""Resumable sweeps: Hydra multiruns run in this process (the basic and the joblib launcher, one
job at a time) against the session's sqlite store, with tiny forests.

The tests build on each other, in file order: a complete sweep, then that sweep interrupted (its
runs edited into what a kill leaves) and run again, then forced. The template's own tests kill a
real `make sweep` part-way.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psutil
import pytest
import support

from {{ cookiecutter.module_name }} import train as train_module
from {{ cookiecutter.module_name }}.tracking.dead_runs import PID_TAG, STARTED_TAG, process_tags
from {{ cookiecutter.module_name }}.tracking.sweep import SWEEP_KEYS_ENV, SWEEP_POINTS_ENV
from {{ cookiecutter.module_name }}.tracking.training_run import SWEEP_PARENT_ENV

# Whole sweeps, each point a training: `make test` leaves them out, `make test-all` runs them.
pytestmark = pytest.mark.slow

EXPERIMENT = "sweep-test"
SWEEP = "model.estimator.n_estimators=2,3,4"


def run_sweep(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *args: str,
    sweep: str = SWEEP,
) -> tuple[int, str, str]:
    """`python -m ... train --multirun <sweep> *args` here: (exit status, stdout, stderr)."""
    argv = [
        "train",
        "--multirun",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
        "hydra/job_logging=none",
        "hydra/hydra_logging=none",
        # The shipped example, whatever configs/config.yaml selects.
        *(f"{group}={name}" for group, name in support.EXAMPLE.items() if name),
        f"data.source={support.PROJECT_ROOT / 'data/external/iris.csv'}",
        f"mlflow.experiment={EXPERIMENT}",
        "mlflow.registered_model=null",
        sweep,
        *args,
    ]
    monkeypatch.setattr(sys, "argv", argv)
    for name in (SWEEP_PARENT_ENV, SWEEP_POINTS_ENV, SWEEP_KEYS_ENV):
        monkeypatch.delenv(name, raising=False)  # a sweep that fails leaves them set: unset after
    capsys.readouterr()
    try:
        train_module.main()
        status = 0
    except SystemExit as stop:
        status = int(stop.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def runs(client) -> list:
    experiment = client.get_experiment_by_name(EXPERIMENT).experiment_id
    return client.search_runs([experiment], order_by=["attributes.start_time ASC"])


def parents(client) -> list:
    return [r for r in runs(client) if r.data.tags.get("sweep") == "true"]


def children(client, parent) -> list:
    return [r for r in runs(client) if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]


def trees(run) -> str:
    return run.data.params["model.estimator.n_estimators"]


@pytest.fixture
def client(mlflow_store: str):
    from mlflow import MlflowClient

    return MlflowClient(mlflow_store)


def test_a_sweep_names_each_point_under_one_parent(client, tmp_path, monkeypatch, capsys) -> None:
    status, out, _ = run_sweep(tmp_path, monkeypatch, capsys)
    assert status == 0
    (parent,) = parents(client)
    assert f"sweep: 3 points, parent run {parent.info.run_id}" in out
    for number, value in enumerate(["2", "3", "4"], start=1):
        assert f"sweep: point {number}/3: model.estimator.n_estimators={value}\n" in out
    assert sorted(trees(r) for r in children(client, parent)) == ["2", "3", "4"]
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"


def test_an_interrupted_sweep_reruns_only_its_unfinished_points(
    client, tmp_path, monkeypatch, capsys
) -> None:
    (parent,) = parents(client)
    done, killed, failed = sorted(children(client, parent), key=trees)
    # What a kill leaves: the parent and a point RUNNING for a dead process, another point FAILED.
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    for run_id in (parent.info.run_id, killed.info.run_id):
        client.set_tag(run_id, PID_TAG, str(dead.pid))
        client.update_run(run_id, status="RUNNING")
    client.set_terminated(failed.info.run_id, "FAILED")

    # Another launcher, the same settings: the same sweep.
    status, out, _ = run_sweep(
        tmp_path, monkeypatch, capsys, "hydra/launcher=parallel", "hydra.launcher.n_jobs=1"
    )

    assert status == 0
    assert f"marked run {killed.info.run_id} FAILED" in out
    resumed = f"resuming parent run {parent.info.run_id}: 1 finished earlier and will be skipped"
    assert resumed in out
    assert f"sweep: point 1/3 skipped: finished run {done.info.run_id}" in out
    assert "sweep: point 2/3: model.estimator.n_estimators=3\n" in out
    assert "sweep: point 3/3: model.estimator.n_estimators=4\n" in out
    assert [r.info.run_id for r in parents(client)] == [parent.info.run_id]  # no second parent
    assert client.get_run(parent.info.run_id).info.status == "FINISHED"
    assert client.get_run(killed.info.run_id).info.status == "FAILED"
    finished = [r for r in children(client, parent) if r.info.status == "FINISHED"]
    assert sorted(trees(r) for r in finished) == ["2", "3", "4"]
    assert len(children(client, parent)) == 5  # 3 earlier, 2 reruns


def test_the_same_sweep_is_not_joined_while_it_runs(client, tmp_path, monkeypatch, capsys) -> None:
    (parent,) = parents(client)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        started = f"{psutil.Process(other.pid).create_time():.2f}"
        tags = {**process_tags(), PID_TAG: str(other.pid), STARTED_TAG: started}
        for key, value in tags.items():
            client.set_tag(parent.info.run_id, key, value)
        client.update_run(parent.info.run_id, status="RUNNING")
        status, out, err = run_sweep(tmp_path, monkeypatch, capsys)
    finally:
        other.kill()
        other.wait()
    assert status == 1 and "point" not in out
    assert f"ERROR: the same sweep is running now (parent run {parent.info.run_id}" in err
    assert "Traceback" not in err
    client.set_terminated(parent.info.run_id, "FINISHED")


def test_force_reruns_every_point_under_a_new_parent(client, tmp_path, monkeypatch, capsys) -> None:
    status, out, _ = run_sweep(
        tmp_path, monkeypatch, capsys, "hydra.callbacks.mlflow_sweep.resume=false"
    )
    assert status == 0 and "skipped" not in out
    _, forced = parents(client)
    assert f"parent run {forced.info.run_id}; FORCE: earlier runs are not reused" in out
    assert sorted(trees(r) for r in children(client, forced)) == ["2", "3", "4"]
    # Other settings make another sweep: nothing to resume.
    other = "model.estimator.n_estimators=2"
    status, out, _ = run_sweep(tmp_path, monkeypatch, capsys, sweep=other)
    assert status == 0 and "resuming" not in out and len(parents(client)) == 3
    assert "sweep: 1 point, parent run" in out and "sweep: point 1/1\n" in out
