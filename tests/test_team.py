"""Team scale: a shared MLflow tracking server on PostgreSQL, used by training, promotion and serving.

A real PostgreSQL cluster (Debian's postgresql) is created in a temporary directory on a free loopback
port, `make tracking-server` runs `mlflow server` on it with proxied artifacts, and a generated project
pointed at it only through MLFLOW_TRACKING_URI trains, registers, promotes and serves from the registry.
When PostgreSQL is not installed the test skips, loudly.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import MakeServer, bake_project, call, free_port, make_init, run, start_server

pytestmark = pytest.mark.full

SLUG = "iris-classifier"
RECORD = {"sepal_length": 6.3, "sepal_width": 3.3, "petal_length": 6.0, "petal_width": 2.5}


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return Path(found[-1]).parent if found else None


def as_postgres(args: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the postgres user then."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL cluster with an `mlflow` database; yields its SQLAlchemy URI."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        message = "POSTGRESQL NOT INSTALLED: the team tracking-server test did not run (apt-get install postgresql)"
        print(f"\n{'!' * 20} {message} {'!' * 20}", file=sys.stderr)
        pytest.skip(message)
    data = Path(tempfile.mkdtemp(prefix="template-pg-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    run(as_postgres([str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"]), cwd=data)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    # -l: the server's output goes to a file, not to the pipe `run` reads (which would never close).
    start = [str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-o", options, "-w", "start"]
    run(as_postgres(start), cwd=data)
    try:
        run(
            as_postgres([str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "mlflow"]),
            cwd=data,
        )
        yield f"postgresql://postgres@127.0.0.1:{port}/mlflow"
    finally:
        subprocess.run(as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), check=False)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def tracking_server(postgres: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, Path]]:
    """`make tracking-server` on PostgreSQL, artifacts proxied to a directory: (URI, project, artifacts)."""
    project = make_init(bake_project(tmp_path_factory.mktemp("team")))
    artifacts = tmp_path_factory.mktemp("artifacts")
    settings = (f"BACKEND_STORE_URI={postgres}", f"ARTIFACTS_DESTINATION={artifacts}", "MLFLOW_PORT={port}")
    server = MakeServer(project, "tracking-server", *settings)
    try:
        server.wait_until_answering("/health", deadline_s=180)
        yield f"http://127.0.0.1:{server.port}", project, artifacts
    finally:
        server.stop()


def test_training_promotion_and_serving_go_through_the_team_server(
    tracking_server: tuple[str, Path, Path], postgres: str
) -> None:
    uri, project, artifacts = tracking_server
    env = {"MLFLOW_TRACKING_URI": uri, "DVC_NO_ANALYTICS": "1"}

    run(["make", "train", "ARGS=experiment=quick"], cwd=project, env=env)
    run(["make", "promote", "VERSION=1"], cwd=project, env=env)

    # The registry and the run live in PostgreSQL, not in the project's sqlite file.
    assert not (project / "mlflow.db").exists()
    psql = str(postgres_bin() / "psql")
    rows = run([psql, postgres, "-tAc", "select name, version from model_versions"], cwd=project).stdout.split()
    assert rows == [f"{SLUG}|1"]
    aliases = run([psql, postgres, "-tAc", "select alias from registered_model_aliases"], cwd=project).stdout
    assert aliases.split() == ["champion"]

    served = start_server(project, MODEL_URI=f"models:/{SLUG}@champion", **env)
    port = served.port
    try:
        status, metadata = call(port, "GET", "/metadata")
        assert status == 200, metadata
        assert (metadata["source"], metadata["model_version"]) == (f"models:/{SLUG}@champion", "1")
        assert metadata["config_name"] == "quick" and metadata["git_commit"]
        status, body = call(port, "POST", "/predict", {"records": [RECORD]})
        assert status == 200, body
        assert body["predictions"] == ["virginica"] and body["model_version"] == "1"
    finally:
        output = served.stop()
    assert "Traceback" not in output, output

    # The model's files went through the server into its artifact store, none into the project.
    assert len(list(artifacts.rglob("MLmodel"))) == 1
    assert not (project / "mlruns").exists()


def test_an_interrupted_sweep_resumes_through_the_team_server(tracking_server: tuple[str, Path, Path]) -> None:
    """The resume lookups (tag filters on runs) through the server's REST API and PostgreSQL."""
    uri, project, _ = tracking_server
    env = {"MLFLOW_TRACKING_URI": uri, "DVC_NO_ANALYTICS": "1"}
    sweep = ["make", "sweep", "SWEEP=model.estimator.n_estimators=5,6", "ARGS=hydra.launcher.n_jobs=1"]
    first = run(sweep, cwd=project, env=env).stdout
    assert "sweep: point 2/2: model.estimator.n_estimators=6" in first
    parent = re.search(r"sweep: 2 points, parent run (\w+)", first)
    assert parent, first
    again = run(sweep, cwd=project, env=env).stdout
    assert f"resuming parent run {parent.group(1)}: 2 finished earlier" in again
    assert again.count("skipped: finished run") == 2 and "train: fitted" not in again


@pytest.mark.parametrize(
    ("url", "client"),
    [("s3://team-bucket/iris", "dvc_s3"), ("gs://team-data/iris", "dvc_gs"), ("azure://models/iris", "dvc_azure")],
    ids=["s3", "gcs", "azure"],
)
def test_a_bucket_remote_is_configured_and_its_client_installed(tmp_path: Path, url: str, client: str) -> None:
    """No cloud here: the remote is checked through DVC's own configuration and the installed client."""
    project = make_init(bake_project(tmp_path, dvc_remote_url=url))
    dvc = str(project / ".venv" / "bin" / "dvc")
    env = {"DVC_NO_ANALYTICS": "1"}
    assert run([dvc, "remote", "list"], cwd=project, env=env).stdout.split() == ["storage", url, "(default)"]
    assert run([dvc, "config", "core.remote"], cwd=project, env=env).stdout.strip() == "storage"
    run([str(project / ".venv" / "bin" / "python"), "-c", f"import {client}"], cwd=project)
    version = run([dvc, "version"], cwd=project, env=env).stdout
    assert re.search(rf"Supports:.*\b{url.split(':')[0]}\b", version, re.S), version
