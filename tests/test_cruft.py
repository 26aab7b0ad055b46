"""Full tier: projects take later template versions with cruft (create, check, update), offline."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
from helpers import NOT_TEMPLATE, TEMPLATE_DIR, commit_all, run

pytestmark = pytest.mark.full

CRUFT = str(Path(sys.executable).parent / "cruft")


@pytest.fixture
def template_repo(tmp_path: Path) -> Path:
    """The template's working tree as a git repository of its own (a stand-in for the GitHub remote)."""
    repo = tmp_path / "template"
    shutil.copytree(TEMPLATE_DIR, repo, ignore=NOT_TEMPLATE)
    run(["git", "init", "--quiet", "--initial-branch=main"], cwd=repo)
    commit_all(repo, "Template v1")
    return repo


def test_cruft_create_check_update(template_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    run([CRUFT, "create", "--no-input", "--output-dir", str(out), str(template_repo)], cwd=tmp_path)
    project = out / "iris-classifier"
    assert not (project / ".git").exists(), "under cruft the hook leaves git to `make init` or the user"
    run(["git", "init", "--quiet", "--initial-branch=main"], cwd=project)
    commit_all(project, "Initial commit")
    run([CRUFT, "check"], cwd=project)

    readme = template_repo / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nA line added by template v2.\n")
    commit_all(template_repo, "Template v2")

    stale = run([CRUFT, "check"], cwd=project, check=False)
    assert stale.returncode != 0, "cruft check must notice the newer template"

    run([CRUFT, "update", "--skip-apply-ask", "--allow-untracked-files", "-y"], cwd=project)
    assert "A line added by template v2." in (project / "README.md").read_text()
    run([CRUFT, "check"], cwd=project)
    assert not (project / ".git" / "MERGE_HEAD").exists()


def test_plain_cookiecutter_bake_is_updatable(template_repo: Path, tmp_path: Path) -> None:
    """The post-generation hook writes .cruft.json, so a project made with plain cookiecutter can update too."""
    out = tmp_path / "out"
    run(
        [str(Path(sys.executable).parent / "cookiecutter"), "--no-input", "--output-dir", str(out), str(template_repo)],
        cwd=tmp_path,
    )
    project = out / "iris-classifier"
    run([CRUFT, "check"], cwd=project)

    readme = template_repo / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text() + "\nAnother line from template v2.\n")
    commit_all(template_repo, "Template v2")

    run([CRUFT, "update", "--skip-apply-ask", "-y"], cwd=project)
    assert "Another line from template v2." in (project / "README.md").read_text()
