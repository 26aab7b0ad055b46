"""Shared machinery for the template's tests: bake projects, install them, run their own commands.

Two tiers:
  * fast (default): bake and inspect, no installs;
  * full (marker `full`): build the generated project's environment from its lock files and run its
    own commands (make, dvc, the server, the image). `make test` runs both.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.main import cookiecutter

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
DEFAULT_PYTHON = "3.12"

Bake = Callable[..., Path]


def pytest_configure(config: pytest.Config) -> None:
    # One uv cache for every bake in the session (and across sessions when the caller sets it).
    os.environ.setdefault("UV_CACHE_DIR", str(TEMPLATE_DIR / ".cache" / "uv"))
    # The template's venv provides uv (pinned in requirements-test.txt) to `make init` of the bakes.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # Generated projects must not inherit the template venv or a user's tracking server.
    os.environ.pop("VIRTUAL_ENV", None)
    os.environ.pop("MLFLOW_TRACKING_URI", None)


def bake_project(output_dir: Path, **extra_context: Any) -> Path:
    """Generate a project from the working tree of the template and return its directory."""
    project = cookiecutter(
        str(TEMPLATE_DIR),
        no_input=True,
        extra_context=extra_context,
        output_dir=str(output_dir),
    )
    return Path(project)


@pytest.fixture
def bake(tmp_path: Path) -> Bake:
    """bake(**answers) -> project directory, in this test's own temporary directory."""

    def _bake(**extra_context: Any) -> Path:
        return bake_project(tmp_path, **extra_context)

    return _bake


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


@pytest.fixture(scope="session")
def installed_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The default bake after `make init`: shared, so tests must not change its files.

    Tests that edit configs or data bake a project of their own.
    """
    project = bake_project(tmp_path_factory.mktemp("installed"))
    yield make_init(project)


@pytest.fixture(scope="session")
def trained_project(installed_project: Path) -> Path:
    """installed_project after `make repro` (dvc repro): data, model, reports and an MLflow run.

    Shared like installed_project: tests must not change its files or its MLflow store.
    """
    run(["make", "repro"], cwd=installed_project, env={"DVC_NO_ANALYTICS": "1"})
    return installed_project
