"""The developer tools of an installed project: `make init` (the venv, `.env`, the git hooks), the pre-commit
hooks and the notebook filter, `make lint`/`format`/`typecheck` (ruff, deptry, mypy), `make docs` and
`docs-serve`, `make clean`.

Full tier: one default bake after `make init`, private to this module (its tests commit, format and clean it),
in file order. Fast tier: the example notebook as shipped.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from helpers import MakeServer, bake_project, call, git, make_init, python_for, run


def plain(result: subprocess.CompletedProcess[str]) -> str:
    """A command's whole output without colours (deptry colours its report even into a pipe)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)


NOTEBOOK_WITH_OUTPUTS = {
    "cells": [
        {
            "cell_type": "code",
            "execution_count": 3,
            "id": "c0ffee",
            "metadata": {},
            "outputs": [{"name": "stdout", "output_type": "stream", "text": ["SECRET-ish output 42\n"]}],
            "source": ["print('SECRET-ish output', 6 * 7)"],
        }
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}


# ---------------------------------------------------------------------------------------------- fast tier


def test_example_notebook_ships_without_outputs(variants: dict[str, Path]) -> None:
    notebooks = sorted((variants["api"] / "experiments").glob("*.ipynb"))
    assert notebooks, "no example notebook"
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code), path.name


# ---------------------------------------------------------------------------------------------- full tier


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default bake after `make init`, private to this module: tests here commit, format and clean it."""
    return make_init(bake_project(tmp_path_factory.mktemp("dev-tools")))


@pytest.mark.full
def test_make_init_installs_env_and_git_hooks(project: Path) -> None:
    assert (project / ".venv" / "bin" / "python").exists() and (project / ".env").is_file()
    assert "pre-commit" in (project / ".git" / "hooks" / "pre-commit").read_text(encoding="utf-8")
    assert "nbstripout" in git(project, "config", "filter.nbstripout.clean")
    # Re-running keeps the user's .env and leaves the tree clean (the filter is declared in .gitattributes).
    settings = (project / ".env").read_text(encoding="utf-8")
    (project / ".env").write_text(settings + "MY_SETTING=kept\n", encoding="utf-8")
    result = run(["make", "init", f"PYTHON={python_for('3.12')}"], cwd=project)
    assert ".env exists: left as it is." in result.stdout
    assert (project / ".env").read_text(encoding="utf-8") == settings + "MY_SETTING=kept\n"
    (project / ".env").write_text(settings, encoding="utf-8")
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.full
def test_pre_commit_passes_on_a_fresh_project(project: Path) -> None:
    result = run([".venv/bin/pre-commit", "run", "--all-files", "--show-diff-on-failure"], cwd=project, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Failed" not in result.stdout and "Skipped" not in result.stdout.replace("(no files to check)Skipped", "")


@pytest.mark.full
def test_committed_notebooks_are_stored_without_outputs(project: Path) -> None:
    notebook = project / "experiments" / "x.ipynb"
    notebook.write_text(json.dumps(NOTEBOOK_WITH_OUTPUTS, indent=1) + "\n", encoding="utf-8")
    git(project, "add", "experiments/x.ipynb")
    git(project, "commit", "-m", "Add a notebook with outputs")  # through the pre-commit hooks
    stored = json.loads(git(project, "show", "HEAD:experiments/x.ipynb"))
    assert stored["cells"][0]["outputs"] == [] and stored["cells"][0]["execution_count"] is None
    assert "SECRET-ish output 42" in notebook.read_text(encoding="utf-8"), "the working copy lost its outputs"
    assert git(project, "status", "--porcelain", "--", "experiments") == "", "git sees the outputs as a change"


@pytest.mark.full
def test_pre_commit_refuses_a_notebook_staged_with_outputs(project: Path) -> None:
    """What the hook is for: a clone without the filter would commit outputs; the hook stops it."""
    path = "experiments/unfiltered.ipynb"
    (project / path).write_text(json.dumps(NOTEBOOK_WITH_OUTPUTS) + "\n", encoding="utf-8")
    blob = git(project, "hash-object", "-w", "--no-filters", path).strip()
    git(project, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    try:
        result = run([".venv/bin/pre-commit", "run", "nbstripout", "--files", path], cwd=project, check=False)
        assert result.returncode == 1
        assert f"{path} is staged with outputs: run make init" in result.stdout
    finally:
        git(project, "rm", "--cached", "--quiet", "--force", path)
        (project / path).unlink()


@pytest.mark.full
def test_lint_and_format_leave_a_fresh_project_unchanged(project: Path) -> None:
    run(["make", "lint"], cwd=project)
    run(["make", "format"], cwd=project)
    assert git(project, "status", "--porcelain") == "", "`make format` changed the generated project"


UNDECLARED_IMPORT = '''"""Uses tabulate, which is only installed because DVC needs it."""

import tabulate

TABLE = tabulate.tabulate
'''


@pytest.mark.full
def test_lint_fails_on_an_import_pyproject_does_not_declare(project: Path) -> None:
    """deptry in `make lint` and in the pre-commit hook: an undeclared import, then a declared package never used."""
    module = project / "src" / "iris_classifier" / "undeclared.py"
    module.write_text(UNDECLARED_IMPORT, encoding="utf-8")
    try:
        lint = run(["make", "lint"], cwd=project, check=False)
        hook = run([".venv/bin/pre-commit", "run", "deptry", "--files", str(module)], cwd=project, check=False)
    finally:
        module.unlink()
    assert lint.returncode != 0 and hook.returncode != 0
    for result in (lint, hook):
        assert "DEP003 'tabulate' imported but it is a transitive dependency" in plain(result), plain(result)
    pyproject = project / "pyproject.toml"
    declared = pyproject.read_text(encoding="utf-8")
    with_tabulate = declared.replace("dependencies = [\n", 'dependencies = [\n  "tabulate",\n', 1)
    pyproject.write_text(with_tabulate, encoding="utf-8")
    try:
        lint = run(["make", "lint"], cwd=project, check=False)
    finally:
        pyproject.write_text(declared, encoding="utf-8")
    assert lint.returncode != 0
    assert "DEP002 'tabulate' defined as a dependency but not used in the codebase" in plain(lint), plain(lint)
    assert git(project, "status", "--porcelain") == ""


@pytest.mark.full
def test_make_lint_and_the_hook_fail_on_a_type_error(project: Path) -> None:
    """mypy (strict) runs in `make lint`, `make typecheck` and the pre-commit hook: an error ruff cannot see."""
    path = project / "src" / "iris_classifier" / "typo.py"
    path.write_text('def count() -> int:\n    return "three"\n', encoding="utf-8")
    error = 'typo.py:2: error: Incompatible return value type (got "str", expected "int")'
    try:
        for command in (["make", "lint"], ["make", "typecheck"]):
            result = run(command, cwd=project, check=False)
            assert result.returncode != 0 and error in result.stdout, (command, result.stdout, result.stderr)
        hook = run([".venv/bin/pre-commit", "run", "mypy", "--files", str(path)], cwd=project, check=False)
        assert hook.returncode == 1 and error in hook.stdout, hook.stdout
    finally:
        path.unlink()
    run(["make", "typecheck"], cwd=project)


@pytest.mark.full
def test_make_docs_builds_the_site_strictly(project: Path) -> None:
    run(["make", "docs"], cwd=project)
    reference = (project / "site" / "reference" / "index.html").read_text(encoding="utf-8")
    assert "load_artifacts" in reference and "ArtifactError" in reference, "the API reference has no docstrings"
    # Before `make report` the report's page says how to write it (test_report.py builds the site with one).
    report = (project / "site" / "report" / "index.html").read_text(encoding="utf-8")
    assert "No report yet" in report
    # --strict is on: a broken link fails the build.
    index = project / "docs" / "index.md"
    original = index.read_text(encoding="utf-8")
    index.write_text(original + "\n[gone](no-such-page.md)\n", encoding="utf-8")
    try:
        result = run(["make", "docs"], cwd=project, check=False)
        assert result.returncode != 0 and "no-such-page.md" in result.stdout + result.stderr
    finally:
        index.write_text(original, encoding="utf-8")


@pytest.mark.full
def test_make_docs_serve_serves_the_site(project: Path) -> None:
    with MakeServer(project, "docs-serve", "DOCS_ADDR=127.0.0.1:{port}") as server:
        server.wait_until_answering("/")
        status, page = call(server.port, "GET", "/getting-started/")
        assert status == 200, page
        assert "make init" in page


@pytest.mark.full
def test_make_clean_removes_build_leftovers_only(project: Path) -> None:
    leftovers = [project / d for d in (".pytest_cache", ".ruff_cache", "site", "build", "dist", "src/x/__pycache__")]
    for directory in leftovers:
        directory.mkdir(parents=True, exist_ok=True)
    (project / "data").mkdir(exist_ok=True)
    run(["make", "clean"], cwd=project)
    assert [d for d in leftovers if d.exists()] == []
    assert (
        (project / ".venv" / "bin" / "python").exists() and (project / "data").is_dir() and (project / ".env").exists()
    )
    assert (project / "src" / "x").is_dir()  # only the cache inside it went
    (project / "src" / "x").rmdir()
