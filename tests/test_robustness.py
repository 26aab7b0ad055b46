"""A generated project when what is around it fails: a tracking server that does not answer (nothing
listens on its port, or it accepts connections and never answers) and a full disk; and what one
training adds to the MLflow store. Run the way a user runs them: make repro, compare, report, serve.

This module's own bake, reproduced once and committed; every test leaves it as it found it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import SLUG, MakeServer, call, reproduced_project, sh, venv_env

pytestmark = pytest.mark.full

# What a failed training must leave as it was: the model, its evaluation and its lineage.
KEPT = ["models", "reports/metrics.json", "reports/predictions.csv", "reports/lineage.json"]
# A bound on each command (MLflow alone retried for minutes), not a speed claim: times are printed.
BOUND_S = 120
FOREST = "configs/model/random_forest.yaml"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reproduced_project(tmp_path_factory.mktemp("robustness"))


@pytest.fixture(params=["nothing-listens", "never-answers"])
def dead_server(request: pytest.FixtureRequest) -> Iterator[str]:
    """An MLflow tracking URI whose server does not answer: a closed port, or one whose connections
    the kernel accepts and nobody ever reads."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{sock.getsockname()[1]}"
        if request.param == "never-answers":
            sock.listen(64)
            yield uri
            return
    yield uri


def snapshot(project: Path) -> dict[str, str]:
    files = [p for name in KEPT for p in sorted((project / name).rglob("*")) or [project / name] if p.is_file()]
    return {str(p.relative_to(project)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def timed(command: str, project: Path, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run a make command with extra environment; its result and seconds (failing past BOUND_S)."""
    started = time.monotonic()
    try:
        result = subprocess.run(
            command,
            shell=True,
            cwd=project,
            capture_output=True,
            text=True,
            timeout=BOUND_S,
            env={**os.environ, **venv_env(project), **env},
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"`{command}` still ran after {BOUND_S} s")
    seconds = time.monotonic() - started
    print(f"`{command}` with {env}: exit {result.returncode} in {seconds:.1f} s")
    return result, seconds


@contextlib.contextmanager
def edited(project: Path, path: str, old: str, new: str) -> Iterator[None]:
    """The file with old replaced by new during the block, as committed afterwards."""
    file = project / path
    file.write_text(file.read_text().replace(old, new))
    try:
        yield
    finally:
        sh(f"git checkout -- {path} params.yaml dvc.lock", project)


def store_bytes(project: Path) -> int:
    files = [project / "mlflow.db", *(project / "mlruns").rglob("*")]
    return sum(path.stat().st_size for path in files if path.is_file())


def test_repro_against_a_dead_server_stops_in_one_line_and_keeps_the_model(project: Path, dead_server: str) -> None:
    before = snapshot(project)
    with edited(project, FOREST, "n_estimators: 100", "n_estimators: 90"):  # train is stale
        result, _ = timed("make repro", project, MLFLOW_TRACKING_URI=dead_server)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    said = [line for line in output.splitlines() if "did not answer" in line]
    assert said == [
        line for line in said if line.startswith(f"ERROR: the MLflow tracking server at {dead_server} did not answer")
    ]
    assert len(said) == 1 and "Nothing was trained or changed" in said[0], output
    assert "Traceback" not in output
    assert snapshot(project) == before


@pytest.mark.parametrize("command", ["make compare", "make report"])
def test_compare_and_report_show_what_they_can_without_the_server(
    project: Path, dead_server: str, command: str
) -> None:
    result, _ = timed(command, project, MLFLOW_TRACKING_URI=dead_server)
    assert result.returncode == 0, result.stderr
    assert f"WARNING: MLflow runs: the MLflow tracking server at {dead_server} did not answer" in result.stderr
    assert "Traceback" not in result.stderr
    if command == "make compare":
        assert "| DVC |" in result.stdout  # the experiments DVC knows
    else:
        page = (project / "docs/report.md").read_text()
        assert "## Metrics" in page and f"the MLflow tracking server at {dead_server} did not answer" in page
        sh("git checkout -- docs", project)


def test_the_api_on_a_registry_uri_answers_health_and_says_why_it_is_not_ready(project: Path, dead_server: str) -> None:
    uri = f"models:/{SLUG}@champion"
    env = {"MLFLOW_TRACKING_URI": dead_server, "MODEL_URI": uri, "PORT": "{port}"}
    with MakeServer(project, "serve", env=env) as server:
        server.wait_until_answering("/health", deadline_s=BOUND_S)
        assert call(server.port, "GET", "/health") == (200, {"status": "ok"})
        status, body = call(server.port, "GET", "/ready")
    assert status == 503
    assert uri in body["detail"] and f"the MLflow tracking server at {dead_server} did not answer" in body["detail"]


def test_one_training_adds_one_copy_of_the_model_to_the_mlflow_store(project: Path) -> None:
    before = store_bytes(project)
    with edited(project, FOREST, "n_estimators: 100", "n_estimators: 300"):  # a new, larger model
        sh("make repro", project)
        model = (project / "models/model.joblib").stat().st_size
        added = store_bytes(project) - before
    print(f"one training: the MLflow store grew by {added} bytes, the model is {model} bytes")
    sh("make repro", project)  # back to the committed model
    # One copy (pickled, without joblib's framing of each array), plus the run's records in
    # mlflow.db and MLmodel, requirements and model_meta.json beside the model: tens of kB.
    assert 0.85 * model <= added <= 1.1 * model + 100_000


def as_root() -> list[str] | None:
    """The prefix that runs mount and umount as root: none for root, else sudo without a password
    (CI machines have it); None when neither works."""
    if os.geteuid() == 0:
        return []
    if shutil.which("sudo") and subprocess.run(["sudo", "-n", "true"], capture_output=True).returncode == 0:
        return ["sudo", "-n"]
    return None


def can_mount() -> bool:
    return as_root() is not None and shutil.which("mount") is not None


@contextlib.contextmanager
def full_disk(directory: Path, copied: tuple[str, ...]) -> Iterator[None]:
    """directory on a small tmpfs of its own, with the named files of it copied in, filled up to the
    last byte."""
    root = as_root() or []
    kept = directory.with_name(f"{directory.name}.kept")
    shutil.copytree(directory, kept)
    subprocess.run([*root, "mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(directory)], check=True)
    try:
        for name in copied:
            shutil.copy2(kept / name, directory / name)
        with (directory / "filler").open("wb", buffering=0) as filler, contextlib.suppress(OSError):
            while True:
                filler.write(b"\0" * 4096)
        yield
    finally:
        subprocess.run([*root, "umount", str(directory)], check=True)
        shutil.rmtree(kept)


@pytest.mark.skipif(not can_mount(), reason="mounting a small tmpfs needs root or sudo without a password")
@pytest.mark.parametrize(
    ("directory", "copied", "command", "file"),
    [
        # The previous model on the full disk, and a larger forest to train: more than the previous
        # model frees when training removes it.
        ("models", ("model.joblib", "model.onnx", "model_meta.json"), "make repro", "models/model.joblib"),
        # The evaluation is rewritten on a full disk (without the previous one, which DVC removes
        # before the stage runs: that would free room).
        (
            "reports",
            ("lineage.json", "cv.json"),  # what training wrote there, which evaluate reads
            ".venv/bin/dvc repro --single-item --force evaluate",
            "reports/predictions.csv",
        ),
    ],
    ids=["model", "metrics"],
)
def test_a_full_disk_is_one_line_naming_the_file_and_nothing_half_written(
    project: Path, directory: str, copied: tuple[str, ...], command: str, file: str
) -> None:
    larger = directory == "models"
    forest = edited(project, FOREST, "n_estimators: 100", "n_estimators: 300") if larger else contextlib.nullcontext()
    with forest, full_disk(project / directory, copied):
        result, _ = timed(command, project)
        left = sorted(path.name for path in (project / directory).iterdir())
    output = result.stdout + result.stderr
    assert result.returncode != 0
    said = [line for line in output.splitlines() if "no space left" in line]
    assert said == [f"ERROR: no space left on the device to write {file}: free some space, then run again."], output
    assert "Traceback" not in output
    if larger:  # the previous model went when training started: nothing else is there
        assert left == ["filler"]
    else:  # no partial (or temporary) evaluation file
        assert left == ["cv.json", "filler", "lineage.json"]
    sh("git checkout -- reports dvc.lock && make repro", project)
    assert "up to date" in sh(".venv/bin/dvc status", project).stdout
