"""Helpers shared by the template's tests: bake projects, install them, run their own commands and
their long-running servers. Fixtures live in conftest.py; test modules import from here.

A `MakeServer` is one `make <target>` in its own process group, so stopping it stops everything make
started (uvicorn, mlflow, mkdocs, podman). Its output goes to a file: a pipe that nobody reads while
the server runs could fill up and stall it.
"""

from __future__ import annotations

import contextlib
import glob
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_PYTHON = "3.12"
# The default bake's project directory (and MLflow model name) and its package.
SLUG = "iris-classifier"
MODULE = "iris_classifier"
# What the generated projects' own commands run with.
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "Test",
    "GIT_AUTHOR_EMAIL": "test@example.com",
    "GIT_COMMITTER_NAME": "Test",
    "GIT_COMMITTER_EMAIL": "test@example.com",
}
# `dvc exp run` commits experiments: it needs an identity even on a bare CI machine.
ENV = {"DVC_NO_ANALYTICS": "1", **GIT_IDENTITY}
# What a copy of the template (a stand-in for its git remote) leaves out.
NOT_TEMPLATE = shutil.ignore_patterns(".git", ".venv", ".cache", "build", "__pycache__", ".pytest_cache", ".ruff_cache")

Bake = Callable[..., Path]


# ------------------------------------------------------------------------------- bake, install, run


def bake_project(output_dir: Path, **extra_context: Any) -> Path:
    """Generate a project from the working tree of the template and return its directory."""
    project = cookiecutter(
        str(TEMPLATE_DIR),
        no_input=True,
        extra_context=extra_context,
        output_dir=str(output_dir),
    )
    return Path(project)


def find_python(version: str) -> str | None:
    """An interpreter of exactly this minor version: on PATH, or installed by pyenv or uv."""
    candidates = [shutil.which(f"python{version}") or ""]
    for root in (Path.home() / ".pyenv" / "versions", Path.home() / ".local" / "share" / "uv" / "python"):
        candidates += sorted(glob.glob(str(root / f"*{version}*" / "bin" / f"python{version}")))
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == version:
            return candidate
    return None


def python_for(version: str) -> str:
    """The interpreter to build a project's venv with: the asked version, else the running one."""
    found = find_python(version)
    if found is None:
        print(f"NOTE: no Python {version} here; the project venv uses {sys.executable} instead.")
        return sys.executable
    return found


def run(
    args: list[str] | str, cwd: Path, *, check: bool = True, env: dict[str, str] | None = None, timeout: int = 1800
) -> subprocess.CompletedProcess[str]:
    """Run a command the way a user would, failing the test with its output when it fails."""
    result = subprocess.run(
        args,
        cwd=cwd,
        capture_output=True,
        text=True,
        shell=isinstance(args, str),
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    if check and result.returncode != 0:
        pytest.fail(
            f"`{args if isinstance(args, str) else ' '.join(args)}` exited {result.returncode} in {cwd}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}",
            pytrace=False,
        )
    return result


def make_init(project: Path, python_version: str = DEFAULT_PYTHON) -> Path:
    """`make init` in a baked project, with an interpreter of the project's Python version."""
    run(["make", "init", f"PYTHON={python_for(python_version)}"], cwd=project)
    return project


def venv_env(project: Path) -> dict[str, str]:
    """ENV with the project's venv activated, as the docs tell users to."""
    path = f"{project / '.venv' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    return {**ENV, "PATH": path, "VIRTUAL_ENV": str(project / ".venv")}


def sh(command: str, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a shell command in a project with its venv activated."""
    return run(command, cwd=cwd, check=check, env=venv_env(cwd))


def git(repo: Path, *args: str, check: bool = True) -> str:
    """The output of one git command, with an identity for commits."""
    return run(["git", *args], cwd=repo, env=GIT_IDENTITY, check=check).stdout


def commit_all(repo: Path, message: str) -> str:
    """Commit everything (without hooks); the new commit's hash."""
    git(repo, "add", "--all")
    git(repo, "commit", "--quiet", "--no-verify", "-m", message)
    return git(repo, "rev-parse", "HEAD").strip()


def reproduced_project(
    output_dir: Path, prepare: Callable[[Path], object] | None = None, message: str = "First reproduction"
) -> Path:
    """The default bake after `make init`, `prepare(project)` (configs, data) and `make repro`, committed:
    a test module's own project, whose committed state its tests go back to."""
    project = make_init(bake_project(output_dir))
    if prepare is not None:
        prepare(project)
    sh("make repro", project)
    commit_all(project, message)
    return project


def mlflow_query(project: Path, code: str) -> Any:
    """Run code (which sets `result`) with MLflow in the project's venv against its own store."""
    script = (
        "import json, mlflow\n"
        "from mlflow import MlflowClient\n"
        "mlflow.set_tracking_uri('sqlite:///mlflow.db')\n"
        "client = MlflowClient()\n" + code + "\nprint('RESULT=' + json.dumps(result))\n"
    )
    out = run([str(project / ".venv/bin/python"), "-c", script], cwd=project, env=ENV).stdout
    return json.loads(out.split("RESULT=")[-1])


def stages_run(output: str) -> list[str]:
    """The DVC stages a `make repro` (or `dvc exp run`) ran, in order."""
    return re.findall(r"Running stage '(\w+)'", output)


# ------------------------------------------------------------------------------ background commands


def start_in_background(command: str, project: Path, log: Path) -> subprocess.Popen[bytes]:
    """A command (a make target) with the project's venv, in its own process group, its output (unbuffered) in log."""
    env = {**os.environ, **venv_env(project), "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as out:
        return subprocess.Popen(
            command, shell=True, cwd=project, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def wait_for(
    condition: Callable[[], object], what: str, process: subprocess.Popen[bytes], timeout_s: float = 240
) -> Any:
    """Poll until condition() is truthy and return it; fail when the process ends first or time runs out."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        if process.poll() is not None:
            pytest.fail(f"the command ended (exit {process.returncode}) before {what}")
        time.sleep(0.05)
    os.killpg(process.pid, signal.SIGKILL)
    pytest.fail(f"timed out waiting for {what}")


# ---------------------------------------------------------------------- long-running make targets


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def call(
    port: int, method: str, path: str, body: Any = None, raw: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    """(status, parsed JSON body or text) of one request; 4xx/5xx are answers, not exceptions."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, payload = error.code, error.read()
    try:
        return status, json.loads(payload)
    except ValueError:
        return status, payload.decode(errors="replace")


class MakeServer:
    """`make <target> ARG...` in the background on a free port; "{port}" in ARGs and env values is that port."""

    def __init__(self, project: Path, target: str, *args: str, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.target = target
        self.log = tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace")  # noqa: SIM115 (stop() closes it)
        port = str(self.port)
        self.process = subprocess.Popen(
            ["make", target, *(arg.replace("{port}", port) for arg in args)],
            cwd=project,
            env={**os.environ, **{key: value.replace("{port}", port) for key, value in (env or {}).items()}},
            stdout=self.log,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()

    def wait_until_answering(self, path: str = "/", deadline_s: float = 90) -> None:
        """Poll until any HTTP answer comes on path (a bound on waiting, not a speed assertion).

        On any failure (including an interrupt) the server is stopped before the error goes on.
        """
        deadline = time.monotonic() + deadline_s
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    self.fail(f"make {self.target} exited with {self.process.returncode}")
                try:
                    call(self.port, "GET", path)
                    return
                except (OSError, http.client.HTTPException):  # not listening yet, or half-started
                    time.sleep(0.2)
            self.fail(f"make {self.target} did not answer on port {self.port} within {deadline_s} s")
        except BaseException:
            if not self.log.closed:
                self.stop()
            raise

    def fail(self, reason: str) -> NoReturn:
        """Stop the server and fail the test with its output."""
        pytest.fail(f"{reason}:\n{self.stop()}", pytrace=False)

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> str:
        """Stop make and what it started (Ctrl-C by default, as a user would); return their output.

        The whole process group is signalled even when make itself has exited: what it started in
        the background may still be running.
        """
        with contextlib.suppress(ProcessLookupError):  # the group is already gone
            os.killpg(self.process.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=timeout)
        with contextlib.suppress(ProcessLookupError):  # stragglers, or make itself past the timeout
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        output = self.output()
        self.log.close()
        return output

    def __enter__(self) -> MakeServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if not self.log.closed:
            self.stop()


def start_server(project: Path, **settings: str) -> MakeServer:
    """`make serve PORT=... [NAME=value ...]` in a trained project, ready to answer."""
    server = MakeServer(project, "serve", "PORT={port}", *(f"{key}={value}" for key, value in settings.items()))
    server.wait_until_answering("/health")
    return server
