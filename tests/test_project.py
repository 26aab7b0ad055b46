"""Full tier: generated projects install from their own lock files and pass their own test suites."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import bake_project, make_init, run

pytestmark = pytest.mark.full


def test_default_project_passes_its_own_tests(installed_project: Path) -> None:
    result = run(["make", "test"], cwd=installed_project)
    assert " passed" in result.stdout


def test_default_project_passes_its_own_lint(installed_project: Path) -> None:
    run(["make", "lint"], cwd=installed_project)


def test_init_creates_env_and_keeps_an_existing_one(installed_project: Path) -> None:
    env_file = installed_project / ".env"
    assert env_file.read_text() == (installed_project / ".env.template").read_text()
    env_file.write_text(env_file.read_text() + "# my own setting\n")

    result = run(
        ["make", "init", "PYTHON=" + str(installed_project / ".venv" / "bin" / "python")], cwd=installed_project
    )

    assert ".env exists: left as it is." in result.stdout
    assert env_file.read_text().endswith("# my own setting\n")
    env_file.write_text((installed_project / ".env.template").read_text())


def test_non_default_project_passes_its_own_tests(tmp_path: Path) -> None:
    project = bake_project(
        tmp_path,
        project_name="Churn Model",
        module_name="churn",
        python_version="3.11",
        open_source_license="none",
        include_api="no",
    )
    make_init(project, python_version="3.11")
    assert (
        run([".venv/bin/python", "-c", "import sys; print(sys.version_info[:2])"], cwd=project).stdout.strip()
        == "(3, 11)"
    )
    result = run(["make", "test"], cwd=project)
    assert " passed" in result.stdout
    run(["make", "lint"], cwd=project)  # ruff and mypy without the API
