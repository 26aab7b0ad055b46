"""Fixtures shared by the template's tests (the helpers they use live in helpers.py).

Two tiers:
  * fast (default): bake and inspect, no installs;
  * full (marker `full`): build the generated project's environment from its lock files and run its
    own commands (make, dvc, the server, the image). `make test` runs both.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import TEMPLATE_DIR, Bake, bake_project, make_init, run


def pytest_configure(config: pytest.Config) -> None:
    # One uv cache for every bake in the session (and across sessions when the caller sets it).
    os.environ.setdefault("UV_CACHE_DIR", str(TEMPLATE_DIR / ".cache" / "uv"))
    # The template's venv provides uv (pinned in requirements-test.txt) to `make init` of the bakes.
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    # Generated projects must not inherit the template venv or a user's tracking server.
    os.environ.pop("VIRTUAL_ENV", None)
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    # They cache their compiled modules as a user's do: with PYTHONDONTWRITEBYTECODE (set on some CI
    # machines) every `make init` would compile whole venvs, or every process its imports again.
    # test_make_targets checks that make init compiles when the variable is set.
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)


@pytest.fixture
def bake(tmp_path: Path) -> Bake:
    """bake(**answers) -> project directory, in this test's own temporary directory."""

    def _bake(**extra_context: Any) -> Path:
        return bake_project(tmp_path, **extra_context)

    return _bake


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two read-only bakes: with the API (the default) and without."""
    root = tmp_path_factory.mktemp("variants")
    return {
        "api": bake_project(root / "api"),
        "no-api": bake_project(root / "no-api", include_api="no"),
    }


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
