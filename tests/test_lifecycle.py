"""Killed trainings and interrupted sweeps in a real project: kill -9 mid-fit, then `make repro`;
kill a `make sweep` part-way, then run it again.

This module's own bake, reproduced once and committed; the tests run in file order.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
from pathlib import Path

import pytest
from helpers import SLUG, mlflow_query, reproduced_project, sh, start_in_background, wait_for

pytestmark = pytest.mark.full

# Slow enough to be killed mid-fit (tens of seconds), fast to build.
SLOW_FOREST = "n_estimators: 30000"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reproduced_project(tmp_path_factory.mktemp("lifecycle"))


def runs(project: Path) -> list[dict[str, str]]:
    """Every run of the project's experiment: id, status, tags (as strings)."""
    return mlflow_query(
        project,
        f"exp = client.get_experiment_by_name({SLUG!r}).experiment_id\n"
        "result = [{'id': r.info.run_id, 'status': r.info.status, **r.data.tags, **r.data.params}\n"
        "          for r in client.search_runs([exp], max_results=1000)]",
    )


def versions(project: Path) -> list[dict[str, str]]:
    return mlflow_query(
        project,
        f"found = client.search_model_versions(\"name = '{SLUG}'\")\n"
        "result = [{'version': v.version, 'run_id': v.run_id} for v in found]",
    )


def test_kill_9_mid_fit_leaves_nothing_valid_and_the_next_training_recovers(project: Path, tmp_path: Path) -> None:
    before = {r["id"] for r in runs(project)}
    config = project / "configs/model/random_forest.yaml"
    config.write_text(config.read_text().replace("n_estimators: 100", SLOW_FOREST))
    make = start_in_background("make repro", project, tmp_path / "repro.log")

    # The train stage's run exists while it fits: kill -9 that process (the OOM killer's way).
    def running_run() -> dict[str, str] | None:
        if "train: removed" not in (tmp_path / "repro.log").read_text():
            return None
        new = [r for r in runs(project) if r["id"] not in before and r["status"] == "RUNNING"]
        return new[0] if new else None

    killed = wait_for(running_run, "the training's MLflow run", make)
    os.kill(int(killed["pipeline.pid"]), signal.SIGKILL)
    assert make.wait(timeout=120) != 0

    # Nothing passes for a current model: no model files, no metrics, and DVC says so.
    assert not list(project.glob("models/*")) and not list(project.glob("models/.staging/*"))
    assert not (project / "reports/metrics.json").exists()
    assert not (project / "reports/predictions.csv").exists()
    status = sh("dvc status", project).stdout
    assert "train:" in status and "evaluate:" in status, status
    refused = sh("make predict INPUT=data/processed/test.csv OUTPUT=out.csv", project, check=False)
    assert refused.returncode != 0 and "train a model first" in refused.stderr
    assert {r["id"]: r["status"] for r in runs(project)}[killed["id"]] == "RUNNING"

    # Another setting (the slow one would train for minutes): one `make repro` recovers.
    config.write_text(config.read_text().replace(SLOW_FOREST, "n_estimators: 60"))
    output = sh("make repro", project).stdout
    assert f"marked run {killed['id']} FAILED: its process {killed['pipeline.pid']}" in output
    assert "up to date" in sh("dvc status", project).stdout

    after = {r["id"]: r for r in runs(project)}
    assert after[killed["id"]]["status"] == "FAILED"
    # One registered version per successful training, none for the killed one.
    trained = {run_id for run_id, r in after.items() if r["status"] == "FINISHED"}
    registered = [v["run_id"] for v in versions(project)]
    assert sorted(registered) == sorted(trained) and killed["id"] not in registered
    # The outputs describe one model: the new run's.
    lineage = json.loads((project / "reports/lineage.json").read_text())
    model = hashlib.sha256((project / "models/model.joblib").read_bytes()).hexdigest()
    assert lineage["model_sha256"] == model and after[lineage["run_id"]]["status"] == "FINISHED"
    assert after[lineage["run_id"]]["model.estimator.n_estimators"] == "60"
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert lineage["model_version"] == str(max(int(v["version"]) for v in versions(project)))
    assert metrics["n_test"] == 30
    # The shipped settings back for the next test (which runs sweeps: it needs no trained model).
    sh("git checkout -- configs params.yaml dvc.lock reports", project)


SWEEP = "SWEEP=model.estimator.n_estimators=5,6,7,8 ARGS=hydra.launcher.n_jobs=1"


def test_a_killed_sweep_resumes_with_only_its_missing_points(project: Path, tmp_path: Path) -> None:
    log = tmp_path / "sweep.log"
    make = start_in_background(f"make sweep {SWEEP}", project, log)
    # The jobs run one after the other: point 2 starts once point 1's run has finished.
    wait_for(lambda: "sweep: point 2/4" in log.read_text(), "the second point", make)
    os.killpg(make.pid, signal.SIGKILL)
    make.wait(timeout=60)
    first = runs(project)
    (parent,) = [r for r in first if r.get("sweep") == "true"]
    children = [r for r in first if r.get("mlflow.parentRunId") == parent["id"]]
    (done,) = [r for r in children if r["status"] == "FINISHED"]
    assert done["model.estimator.n_estimators"] == "5" and parent["status"] == "RUNNING"

    output = sh(f"make sweep {SWEEP}", project).stdout

    assert f"resuming parent run {parent['id']}: 1 finished earlier" in output
    assert f"sweep: point 1/4 skipped: finished run {done['id']}" in output
    for number, trees in ((2, 6), (3, 7), (4, 8)):
        assert f"sweep: point {number}/4: model.estimator.n_estimators={trees}\n" in output
    assert "done: 4 of 4 points have a finished run" in output
    second = runs(project)
    assert [r["id"] for r in second if r.get("sweep") == "true"] == [parent["id"]]
    assert {r["id"]: r["status"] for r in second}[parent["id"]] == "FINISHED"
    children = [r for r in second if r.get("mlflow.parentRunId") == parent["id"]]
    finished = sorted(r["model.estimator.n_estimators"] for r in children if r["status"] == "FINISHED")
    assert finished == ["5", "6", "7", "8"]  # point 1 ran once; the others ran exactly once more
    assert all(r["status"] == "FAILED" for r in children if r["status"] != "FINISHED")

    # The submitit launcher finds the same sweep: every point is skipped, no run is added.
    sh(f"make sweep LAUNCHER=submitit_local {SWEEP.replace(' ARGS=hydra.launcher.n_jobs=1', '')}", project)
    assert len(runs(project)) == len(second)
    newest = max((project / "multirun").iterdir())
    logs = "".join(p.read_text() for p in newest.rglob("*_log.out"))
    assert logs.count("skipped: finished run") == 4, logs
