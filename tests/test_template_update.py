"""Template changes reach generated projects: `make update-template`, its workflow, its pre-commit guards.

Fast tier: the workflow's shape (its schema is checked with the others in test_ci_workflows.py).
Full tier, offline: a project baked from a local git copy of the template and set up with `make init`;
the template then changes (a clean change, a conflicting one) and the project runs its own
`make update-template`, and the workflow's own scripts. How the command merges the hunks git could not
place is test_update_merge.py's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cookiecutter.main import cookiecutter
from helpers import GIT_IDENTITY, NOT_TEMPLATE, TEMPLATE_DIR, commit_all, git, make_init, run

DESCRIPTION = "{{ cookiecutter.description }}"  # line 3 of the project's README, in the template


# ---------------------------------------------------------------------------------------------- fast tier


@pytest.fixture(scope="module")
def workflow(variants: dict[str, Path]) -> dict[str, Any]:
    path = variants["no-api"] / ".github/workflows/template-update.yml"
    loaded: dict[str, Any] = yaml.safe_load(path.read_text())
    return loaded


def scripts(job: dict[str, Any]) -> str:
    return "\n".join(step.get("run", "") for step in job["steps"])


def test_the_workflow_runs_weekly_and_on_demand_with_least_privilege(workflow: dict[str, Any]) -> None:
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as a boolean
    assert set(triggers) == {"schedule", "workflow_dispatch"}
    (schedule,) = triggers["schedule"]
    *_, day, month, weekday = schedule["cron"].split()
    assert (day, month) == ("*", "*") and weekday.isdigit(), "once a week"
    assert workflow["permissions"] == {"contents": "read"}
    assert workflow["concurrency"]["cancel-in-progress"] is False, "a run must not cut another's push short"
    for name, job in workflow["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 30, name
        uses = [step["uses"] for step in job["steps"] if "uses" in step]
        assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", use) for use in uses), uses


def test_the_update_job_runs_the_users_command_on_the_whole_history(workflow: dict[str, Any]) -> None:
    update = workflow["jobs"]["update"]
    assert "permissions" not in update, "the job that runs the updated code keeps the read-only token"
    checkout = update["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["fetch-depth"] == 0
    assert "make init" in scripts(update)
    assert re.search(r"^\s*make update-template .*SUMMARY=", scripts(update), re.M)


def test_one_pull_request_from_a_job_that_runs_no_project_code(workflow: dict[str, Any]) -> None:
    job = workflow["jobs"]["pull-request"]
    assert job["needs"] == "update"
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert not re.search(r"^\s*(make|\S*python\S*|\.venv/\S+) ", scripts(job), re.M), "no command of the project"
    (action,) = [step for step in job["steps"] if step.get("uses", "").startswith("peter-evans/create-pull-request@")]
    settings = action["with"]
    assert settings["branch"] == "template-update", "a fixed branch: one pull request, updated in place"
    assert settings["token"] == "${{ secrets.TEMPLATE_UPDATE_TOKEN || secrets.GITHUB_TOKEN }}"
    assert settings["draft"] == "${{ needs.update.outputs.draft == 'true' && 'always-true' || 'false' }}"
    assert settings["body-path"].endswith("/template-update/body.md")


# ---------------------------------------------------------------------------------------------- full tier


class Setup:
    """A template repository, a project baked from it and set up with `make init`, and their first commits."""

    def __init__(self, root: Path) -> None:
        self.template = root / "template"
        shutil.copytree(TEMPLATE_DIR, self.template, ignore=NOT_TEMPLATE)
        git(self.template, "init", "--quiet", "--initial-branch=main")
        self.template_v1 = commit_all(self.template, "Template v1")
        self.project = Path(cookiecutter(str(self.template), no_input=True, output_dir=str(root / "out")))
        make_init(self.project)
        self.project_base = git(self.project, "rev-parse", "HEAD").strip()

    def reset(self) -> None:
        """Both back at their first commit; ignored files (.venv, .env) stay."""
        for repo, commit in ((self.template, self.template_v1), (self.project, self.project_base)):
            git(repo, "reset", "--quiet", "--hard", commit)
            git(repo, "clean", "-d", "--force", "--quiet")
        for tag in git(self.template, "tag", "--list").split():
            git(self.template, "tag", "--delete", tag)

    def change_template(self, edits: dict[str, str]) -> str:
        """Replace or create template files (paths in the template's project directory); commit."""
        for relative, text in edits.items():
            path = self.template / "{{cookiecutter.project_slug}}" / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return commit_all(self.template, "Template v2")

    def template_file(self, relative: str) -> str:
        return (self.template / "{{cookiecutter.project_slug}}" / relative).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Setup:
    return Setup(tmp_path_factory.mktemp("template-update"))


@pytest.fixture
def fresh(setup: Setup) -> Iterator[Setup]:
    setup.reset()
    yield setup
    setup.reset()


def make_update(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run(["make", "update-template", *args], cwd=project, check=False, timeout=1200)


def own_readme(project: Path) -> None:
    """The user's own edit: the README's description line, committed."""
    readme = project / "README.md"
    lines = readme.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[2] = "Our own description of the project.\n"
    readme.write_text("".join(lines), encoding="utf-8")
    commit_all(project, "Describe the project our way")


def leftover_rejects(project: Path) -> list[Path]:
    return [path for path in project.rglob("*.rej") if ".venv" not in path.parts and ".git" not in path.parts]


@pytest.mark.full
def test_update_applies_changes_marks_conflicts_and_runs_the_checks(fresh: Setup) -> None:
    """The whole path, lint and tests run for real: here lint fails (the template's change adds an unused import)
    and the tests pass, and one file is in conflict: make exits non-zero and nothing is committed."""
    project = fresh.project
    own_readme(project)
    head = git(project, "rev-parse", "HEAD").strip()
    init = "src/{{cookiecutter.module_name}}/__init__.py"
    v2 = fresh.change_template(
        {
            "docs/pipeline.md": fresh.template_file("docs/pipeline.md") + "\nA paragraph from template v2.\n",
            "experiments/notes-from-the-template.md": "# Notes\n",
            init: fresh.template_file(init) + "import os\n",
            "README.md": fresh.template_file("README.md").replace(
                DESCRIPTION, DESCRIPTION + " Now with template v2.", 1
            ),
        }
    )
    result = run(["make", "update-template"], cwd=project, check=False, timeout=1200)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output  # make's status for a failed recipe

    assert (project / "docs/pipeline.md").read_text().endswith("\nA paragraph from template v2.\n")
    assert (project / "experiments/notes-from-the-template.md").read_text() == "# Notes\n"
    readme = (project / "README.md").read_text()
    conflict = re.search(r"^<<<<<<< this project\n(.*)^=======\n(.*)^>>>>>>> template (\w+)\n", readme, re.M | re.S)
    assert conflict, readme[:600]
    assert conflict.group(1) == "Our own description of the project.\n"
    assert conflict.group(2).endswith(" Now with template v2.\n") and conflict.group(3) == v2[:10]
    assert leftover_rejects(project) == []
    assert f'"commit": "{v2}"' in (project / ".cruft.json").read_text()

    summary = output[output.index("## Template update") :]
    assert summary.startswith(f"## Template update: {fresh.template_v1[:10]} → {v2[:10]}\n")
    assert f"commit `{fresh.template_v1}` to `{v2}`" in summary
    changed = dict(re.findall(r"^- `([^`]+)` \((modified|added|deleted)\)$", summary, re.M))
    assert changed == {
        ".cruft.json": "modified",
        "README.md": "modified",
        "docs/pipeline.md": "modified",
        "experiments/notes-from-the-template.md": "added",
        "src/iris_classifier/__init__.py": "modified",
    }
    assert "### Files in conflict (1)" in summary and "\n- `README.md`\n" in summary
    assert "- `make lint`: failed\n" in summary and "- `make test`: passed\n" in summary
    assert "**Needs work**: 1 file(s) in conflict, make lint failed." in summary
    assert "F401" in output, "lint must really have run"
    assert git(project, "rev-parse", "HEAD").strip() == head, "the update must commit nothing"
    assert git(project, "diff", "--cached", "--name-only") == "", "nothing staged: every change in the working tree"

    # What keeps a conflict out of the history: the pre-commit hook refuses the markers, and .rej files.
    (project / "README.md.rej").write_text("diff a/README.md b/README.md\t(rejected hunks)\n")
    git(project, "add", "--all")
    # mypy and deptry are left out of this commit's hooks only to save time: make lint has just run them.
    skip = {"SKIP": "mypy,deptry", **GIT_IDENTITY}
    refused = run(["git", "commit", "-m", "Take the template update"], cwd=project, env=skip, check=False)
    hooks = refused.stdout + refused.stderr  # git passes the hook's output on to stderr
    assert refused.returncode != 0
    assert "README.md:3: Merge conflict string '<<<<<<<' found" in hooks, hooks
    assert re.search(r"forbid \.rej files.*Failed.*README\.md\.rej", hooks, re.S), hooks
    assert git(project, "rev-parse", "HEAD").strip() == head


@pytest.mark.full
def test_a_template_with_nothing_new_changes_nothing(fresh: Setup) -> None:
    result = make_update(fresh.project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"The template has nothing new since {fresh.template_v1[:10]}" in result.stdout
    assert "## Template update" not in result.stdout and "make lint" not in result.stdout
    assert git(fresh.project, "status", "--porcelain") == ""
    assert git(fresh.project, "rev-parse", "HEAD").strip() == fresh.project_base


@pytest.mark.full
def test_a_dirty_working_tree_is_refused(fresh: Setup) -> None:
    fresh.change_template({"docs/pipeline.md": fresh.template_file("docs/pipeline.md") + "\nMore.\n"})
    notes = fresh.project / "docs" / "pipeline.md"
    edited = notes.read_text() + "\nMy unfinished edit.\n"
    notes.write_text(edited)
    result = make_update(fresh.project)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert errors == [
        "ERROR: the working tree has uncommitted changes or untracked files: commit or stash them first"
        " (git status), so that the update's changes are the only ones"
    ], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert notes.read_text() == edited
    assert git(fresh.project, "status", "--porcelain") == " M docs/pipeline.md\n"


@pytest.mark.full
def test_a_template_that_cannot_be_reached_is_one_error_and_changes_nothing(fresh: Setup, tmp_path: Path) -> None:
    result = make_update(fresh.project, f"TEMPLATE={tmp_path / 'nowhere'}")
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and errors[0].startswith("ERROR: cruft could not update the project: "), result.stderr
    assert "Failed to clone the repo" in errors[0] and "Traceback" not in result.stdout + result.stderr
    assert git(fresh.project, "status", "--porcelain") == ""


@pytest.mark.full
def test_another_copy_of_the_template_and_hunks_without_history(fresh: Setup, tmp_path: Path) -> None:
    """TEMPLATE= takes a copy other than the one .cruft.json records. The project's history has lost the
    template's original lines (here: a repository made anew from the files): git cannot merge three ways,
    cruft falls back to .rej files (ignored by git here), and the command turns them into markers.
    SKIP_CHECKS=1 leaves lint and tests out."""
    own_readme(fresh.project)
    project = tmp_path / "project"
    shutil.copytree(fresh.project, project, ignore=shutil.ignore_patterns(".git", ".venv"), symlinks=True)
    (project / ".venv").symlink_to(fresh.project / ".venv")
    git(project, "init", "--quiet", "--initial-branch=main")
    # *.rej as many people's global gitignore lists it: the command must find those files all the same.
    (project / ".git" / "info" / "exclude").write_text(".venv\n*.rej\n")
    head = commit_all(project, "The project, without its history")
    copy = tmp_path / "template-copy"
    git(tmp_path, "clone", "--quiet", str(fresh.template), str(copy))
    readme = copy / "{{cookiecutter.project_slug}}" / "README.md"
    readme.write_text(readme.read_text().replace(DESCRIPTION, DESCRIPTION + " From the copy.", 1))
    copy_commit = commit_all(copy, "Template v2, in another copy")

    result = make_update(project, f"TEMPLATE={copy}", "SKIP_CHECKS=1")
    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert leftover_rejects(project) == []
    text = (project / "README.md").read_text()
    assert "\n<<<<<<< this project\nOur own description of the project.\n=======\n" in text, text[:600]
    assert f" From the copy.\n>>>>>>> template {copy_commit[:10]}\n" in text
    assert f"→ {copy_commit[:10]}\n" in output and "- `make lint`: not run\n" in output
    assert "### Files in conflict (1)" in output
    assert f'"commit": "{copy_commit}"' in (project / ".cruft.json").read_text()
    assert git(project, "rev-parse", "HEAD").strip() == head
    assert git(fresh.template, "rev-parse", "HEAD").strip() == fresh.template_v1, "the recorded copy is unused"


@pytest.mark.full
def test_a_pinned_tag_holds_until_another_is_named_and_a_version_can_be_skipped(fresh: Setup) -> None:
    """docs/template-updates.md's recipes: CHECKOUT=<tag> pins the project to the tag (later runs follow what
    .cruft.json records), CHECKOUT=main unpins it, `cruft update --skip-update` skips a version."""
    project, pipeline = fresh.project, "docs/pipeline.md"
    tagged = fresh.change_template({pipeline: fresh.template_file(pipeline) + "\nFrom the tag.\n"})
    git(fresh.template, "tag", "v1.1")
    v2 = fresh.change_template({pipeline: fresh.template_file(pipeline) + "\nAfter the tag.\n"})

    result = make_update(project, "CHECKOUT=v1.1", "SKIP_CHECKS=1")
    assert result.returncode == 0, result.stdout + result.stderr  # clean, and no check ran to fail
    assert "**Ready to commit** after review." in result.stdout
    text = (project / pipeline).read_text()
    assert "From the tag." in text and "After the tag." not in text
    state = (project / ".cruft.json").read_text()
    assert f'"commit": "{tagged}"' in state and '"checkout": "v1.1"' in state
    commit_all(project, "Template v1.1")

    result = make_update(project, "SKIP_CHECKS=1")
    assert result.returncode == 0 and f"nothing new since {tagged[:10]}" in result.stdout, result.stdout

    skipped = run([".venv/bin/cruft", "update", "--skip-update", "--checkout", "main"], cwd=project)
    assert git(project, "status", "--porcelain") == " M .cruft.json\n", skipped.stdout
    assert "After the tag." not in (project / pipeline).read_text()
    commit_all(project, "Skip the template's v2")
    result = make_update(project, "SKIP_CHECKS=1")
    assert result.returncode == 0 and f"nothing new since {v2[:10]}" in result.stdout, result.stdout


def workflow_step(project: Path, job: str, step_name: str) -> str:
    document = yaml.safe_load((project / ".github/workflows/template-update.yml").read_text())
    (step,) = [step for step in document["jobs"][job]["steps"] if step.get("name") == step_name]
    script: str = step["run"]
    return script


def run_step(
    script: str, cwd: Path, runner: Path, **env: str
) -> tuple[subprocess.CompletedProcess[str], dict[str, str]]:
    """A workflow step's script as the runner runs it, with the runner's files; its outputs."""
    runner.mkdir(exist_ok=True)
    outputs = runner / "github-output"
    outputs.write_text("")
    result = run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],  # GitHub's `shell: bash`
        cwd=cwd,
        check=False,
        timeout=1200,
        env={
            "RUNNER_TEMP": str(runner),
            "GITHUB_OUTPUT": str(outputs),
            "GITHUB_STEP_SUMMARY": str(runner / "step-summary.md"),
            **GIT_IDENTITY,
            **env,
        },
    )
    return result, dict(line.split("=", 1) for line in outputs.read_text().splitlines())


@pytest.mark.full
def test_the_workflows_scripts_make_the_pull_request_offline(fresh: Setup, tmp_path: Path) -> None:
    """The update job's step and the pull-request job's step, run for real (create-pull-request itself needs
    GitHub): nothing to do, then an update in conflict (a draft, the default token's warning), then one that
    changes a workflow (refused without a token of its own)."""
    project, runner = fresh.project, tmp_path / "runner"
    update = workflow_step(project, "update", "make update-template")
    body = workflow_step(project, "pull-request", "the update and the pull request's body")
    quick = {"SKIP_CHECKS": "1", "CHECKOUT": ""}

    result, outputs = run_step(update, project, runner, **quick)
    assert result.returncode == 0 and outputs == {"changed": "false"}, result.stdout + result.stderr

    own_readme(project)
    v2 = fresh.change_template(
        {
            "README.md": fresh.template_file("README.md").replace(DESCRIPTION, DESCRIPTION + " v2", 1),
            "docs/pipeline.md": fresh.template_file("docs/pipeline.md") + "\nFrom v2.\n",
        }
    )
    result, outputs = run_step(update, project, runner, **quick)
    assert result.returncode == 0, result.stdout + result.stderr
    assert outputs == {
        "changed": "true",
        "draft": "true",
        "workflows": "false",
        "title": f"Template update: {fresh.template_v1[:10]} → {v2[:10]}",
    }
    summary = (runner / "template-update" / "summary.md").read_text()
    assert (runner / "step-summary.md").read_text() == summary
    updated = {path: (project / path).read_text() for path in ("README.md", "docs/pipeline.md", ".cruft.json")}

    # The pull-request job: a clean checkout of the main branch, the patch, the body.
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "--quiet", "--branch", "main", str(project), str(checkout))
    changed = {"CHANGED": "true", "WORKFLOWS": "false"}
    result, _ = run_step(body, checkout, runner, HAS_TOKEN="false", **changed)
    assert result.returncode == 0, result.stdout + result.stderr
    assert {path: (checkout / path).read_text() for path in updated} == updated
    text = (runner / "template-update" / "body.md").read_text()
    assert text.startswith(summary) and "The checks must be run by hand" in text
    git(checkout, "checkout", "--quiet", "--", ".")
    result, _ = run_step(body, checkout, runner, HAS_TOKEN="true", **changed)
    assert (runner / "template-update" / "body.md").read_text() == summary, "with a token, CI runs by itself"

    git(checkout, "checkout", "--quiet", "--", ".")
    result, _ = run_step(body, checkout, runner, HAS_TOKEN="false", CHANGED="true", WORKFLOWS="true")
    assert result.returncode == 1 and "::error::The update changes .github/workflows/" in result.stdout
