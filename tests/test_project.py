"""Full tier: generated projects install from their own lock files and pass their own test suites."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from helpers import bake_project, make_init, run

pytestmark = pytest.mark.full


def passed(output: str) -> int:
    match = re.search(r"(\d+) passed", output)
    assert match, output
    return int(match.group(1))


def collected(project: Path, *marks: str) -> tuple[int, int]:
    """(tests selected by the marks, tests in all) of the project's suite."""
    output = run([".venv/bin/pytest", "--collect-only", "-q", *marks], cwd=project).stdout
    match = re.search(r"(\d+)(?:/(\d+))? tests? collected", output)  # "12/360 tests collected" or "360 tests ..."
    assert match, output
    selected = int(match.group(1))
    return selected, int(match.group(2) or selected)


def test_default_project_passes_its_own_tests(installed_project: Path) -> None:
    result = run(["make", "test-all"], cwd=installed_project)  # the slow tests too, as its CI runs them
    assert passed(result.stdout) == collected(installed_project)[1]


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
    result = run(["make", "test"], cwd=project)  # the day-to-day run: the slow tests are left out
    slow, everything = collected(project, "-m", "slow")
    assert 0 < slow < everything
    assert passed(result.stdout) == everything - slow
    run(["make", "lint"], cwd=project)  # ruff and mypy without the API
