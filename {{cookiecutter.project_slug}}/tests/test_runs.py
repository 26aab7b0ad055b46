"""The lifecycle of training runs: the runs of killed processes are ended FAILED by the next
training, live runs are never touched, and a training that fails leaves nothing that looks valid.

The kill -9 itself is exercised by the template's own tests on a real project (`make repro`).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import psutil
import pytest

from {{ cookiecutter.module_name }}.data import prepare_data
from {{ cookiecutter.module_name }}.params import Params
from {{ cookiecutter.module_name }}.stages import evaluate
from {{ cookiecutter.module_name }}.tracking.dead_runs import (
    ENDED_TAG,
    HOST_TAG,
    PID_TAG,
    STALE_AFTER,
    STARTED_TAG,
    end_stale_runs,
    process_tags,
)
from {{ cookiecutter.module_name }}.train import train
from {{ cookiecutter.module_name }}.utils.errors import PipelineError


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_runs_of_dead_processes_end_failed_and_live_ones_are_left_alone(
    mlflow_store: str,
) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_store)
    experiment = client.create_experiment("stale-runs")
    here = process_tags()
    days_ago = int((time.time() - (STALE_AFTER.total_seconds() + 3600)) * 1000)
    reused = f"{psutil.Process().create_time() - 600:.2f}"
    elsewhere = {HOST_TAG: "another-machine", PID_TAG: "4242"}
    cases = {
        # (tags, start time): should it be ended?
        "killed here": ({**here, PID_TAG: str(dead_pid())}, None, True),
        # The pid runs, but a process started after the run: the pid was reused.
        "pid reused": ({**here, STARTED_TAG: reused}, None, True),
        "alive here": (here, None, False),
        "another machine": (elsewhere, None, False),
        "another machine, days old": (elsewhere, days_ago, True),
        "not the pipeline's": ({}, days_ago, False),
    }
    runs = {
        name: client.create_run(experiment, start_time=start, tags=tags).info.run_id
        for name, (tags, start, _) in cases.items()
    }
    finished = client.create_run(experiment, tags={**here, PID_TAG: str(dead_pid())}).info.run_id
    client.set_terminated(finished, "FINISHED")
    client.create_registered_model("stale-runs")
    for name in ("killed here", "alive here"):
        client.create_model_version("stale-runs", f"runs:/{runs[name]}/model", runs[name])

    ended = end_stale_runs(client, experiment)

    wanted = {name for name, (_, _, stale) in cases.items() if stale}
    assert set(ended) == {runs[name] for name in wanted}
    for name, run_id in runs.items():
        run = client.get_run(run_id)
        assert run.info.status == ("FAILED" if name in wanted else "RUNNING"), name
        assert (ENDED_TAG in run.data.tags) == (name in wanted), name
    assert "process" in client.get_run(runs["killed here"]).data.tags[ENDED_TAG]
    assert client.get_run(finished).info.status == "FINISHED"
    # The dead run's version is gone (no output names it); the live run's stays.
    versions = client.search_model_versions("name = 'stale-runs'")
    assert [v.run_id for v in versions] == [runs["alive here"]]
    assert end_stale_runs(client, experiment) == []


def uploads(client: Any, run_id: str) -> list[Path]:
    """The files a run put in the (local) artifact store: its own and its logged models'."""
    run = client.get_run(run_id)
    logged = client.search_logged_models(
        [run.info.experiment_id], filter_string=f"source_run_id = '{run_id}'"
    )
    roots = [run.info.artifact_uri, *(model.artifact_location for model in logged)]
    files = [Path(urlparse(root).path).rglob("*") for root in roots]
    return [path for found in files for path in found if path.is_file()]


def test_the_next_training_ends_the_run_of_a_killed_one_and_deletes_its_uploads(
    tracked_params: Params, mlflow_store: str
) -> None:
    from mlflow import MlflowClient

    client = MlflowClient(mlflow_store)
    experiment = client.create_experiment(tracked_params.mlflow.experiment)
    killed = client.create_run(experiment, tags={**process_tags(), PID_TAG: str(dead_pid())})
    client.log_text(killed.info.run_id, "half of an upload", "model_meta.json")
    assert uploads(client, killed.info.run_id)
    prepare_data(tracked_params)
    meta = train(tracked_params)
    assert client.get_run(killed.info.run_id).info.status == "FAILED"
    assert uploads(client, killed.info.run_id) == []
    assert client.get_run(meta.run_id).info.status == "FINISHED"
    assert uploads(client, meta.run_id)


def test_a_failed_training_leaves_no_model_no_metrics_and_a_failed_run(
    tracked_params: Params,
    mlflow_store: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import mlflow

    from {{ cookiecutter.module_name }}.tracking import training_run

    params = tracked_params
    paths = params.paths
    prepare_data(params)
    train(params, track=False)  # the previous model, evaluated
    evaluate.run(params)

    def registry_down(name: str, model_uri: str) -> str:
        raise ConnectionError("the registry is unreachable")

    monkeypatch.setattr(training_run, "register", registry_down)
    with pytest.raises(PipelineError, match=r"^registering the model .* registry is unreachable"):
        train(params)

    assert os.listdir(paths.model_dir) == []  # the previous model gone, nothing staged or published
    assert not Path(paths.metrics).exists() and not Path(paths.predictions).exists()
    assert "described the model being replaced" in capsys.readouterr().out
    # The lineage of the previous model names that model's hash, so it attaches to no other.
    lineage = json.loads(Path(paths.lineage).read_text(encoding="utf-8"))
    assert lineage["run_id"] is None and lineage["model_sha256"]
    client = mlflow.MlflowClient(mlflow_store)
    experiment = client.get_experiment_by_name(params.mlflow.experiment)
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FAILED"
    assert client.search_model_versions(f"name = '{params.mlflow.registered_model}'") == []
    # The model was uploaded before registering failed: no file of it is left in the store.
    assert uploads(client, run.info.run_id) == []


def test_a_training_that_fails_after_its_upload_leaves_no_upload(
    tracked_params: Params, mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not the store's fault (the lineage cannot be written): the run is cleaned up at once."""
    import mlflow

    from {{ cookiecutter.module_name }} import train as train_module

    def lineage_fails(meta: Any, path: Path) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    prepare_data(tracked_params)
    monkeypatch.setattr(train_module, "write_lineage", lineage_fails)
    with pytest.raises(PermissionError):
        train(tracked_params)
    client = mlflow.MlflowClient(mlflow_store)
    experiment = client.get_experiment_by_name(tracked_params.mlflow.experiment)
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FAILED" and uploads(client, run.info.run_id) == []
    assert client.search_model_versions(f"name = '{tracked_params.mlflow.registered_model}'") == []
    assert os.listdir(tracked_params.paths.model_dir) == []


def test_a_full_disk_while_logging_the_model_is_one_line_and_leaves_no_upload(
    tracked_params: Params, mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    import mlflow
    from mlflow.models import Model

    def disk_full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", "/store/model/model.pkl")

    prepare_data(tracked_params)
    monkeypatch.setattr(Model, "log", disk_full)
    with pytest.raises(
        PipelineError,
        match=r"^logging the model in the MLflow tracking store at .* failed: no space left on the"
        r" device writing /store/model/model\.pkl$",
    ):
        train(tracked_params)
    client = mlflow.MlflowClient(mlflow_store)
    experiment = client.get_experiment_by_name(tracked_params.mlflow.experiment)
    (run,) = client.search_runs([experiment.experiment_id])
    # model_meta.json was uploaded before the model: gone with the failed run.
    assert run.info.status == "FAILED" and uploads(client, run.info.run_id) == []
