"""Finish the generated project: prune unselected options, record the template, make the first commit.

Runs inside the new project directory. Nothing here may fail the bake for an environmental reason
(for example git missing): those become warnings that say what to do by hand.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

# Rendered by cookiecutter: JSON escapes every quote, so no answer can end the raw string early.
CONTEXT: dict[str, Any] = json.loads(r"""{{ cookiecutter | jsonify }}""")

# Paths that exist only for an option; removed when the option is off.
OPTION_PATHS: dict[str, list[str]] = {
    "api": [
        "api",
        "tests/api",
        "Dockerfile",
        ".dockerignore",
        "requirements-api.txt",
        "requirements-serve.txt",
        "requirements-serve-onnx.txt",
        ".github/workflows/publish.yml",
        "docs/serving.md",
    ],
    "license": ["LICENSE"],
}


REMOTE_KINDS = ("s3", "gs", "azure")


def remote_kind(url: str) -> str:
    """ "s3", "gs" or "azure" for a bucket URL (their DVC client is installed), else "local"."""
    scheme = url.split("://", 1)[0] if "://" in url else "local"
    return scheme if scheme in REMOTE_KINDS else "local"


def prune(project_dir: Path, context: dict[str, Any]) -> None:
    """Remove the files of options the user did not choose."""
    doomed: list[str] = []
    if context["include_api"] != "yes":
        doomed += OPTION_PATHS["api"]
    if context["open_source_license"] == "none":
        doomed += OPTION_PATHS["license"]
    kind = remote_kind(context["dvc_remote_url"])
    doomed += [f"requirements-remote-{other}.txt" for other in REMOTE_KINDS if other != kind]
    for relative in doomed:
        path = project_dir / relative
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()


def template_source(context: dict[str, Any]) -> tuple[str, str | None]:
    """Where the template came from, as cruft needs it: a git URL or path, and the commit."""
    template = str(context.get("_template", ""))
    repo_dir = Path(str(context.get("_repo_dir", "")))
    try:
        from cookiecutter.config import BUILTIN_ABBREVIATIONS
        from cookiecutter.repository import expand_abbreviations

        template = expand_abbreviations(template, BUILTIN_ABBREVIATIONS)
    except ImportError:  # pragma: no cover - cookiecutter always provides these
        pass
    if Path(template).expanduser().is_dir():
        template = str(Path(template).expanduser().resolve())
    commit = git("rev-parse", "HEAD", cwd=repo_dir, check=False) if repo_dir.is_dir() else None
    return template, commit


def write_cruft_state(project_dir: Path, context: dict[str, Any]) -> None:
    """Record template, commit and answers in .cruft.json so `cruft check` / `cruft update` work.

    `cruft create` writes the same file itself; this makes a plain `cookiecutter` bake updatable too.
    """
    template, commit = template_source(context)
    answers = {k: v for k, v in context.items() if k not in ("_output_dir", "_repo_dir", "_checkout")}
    answers["_template"] = template
    state = {
        "template": template,
        "commit": commit,
        "checkout": context.get("_checkout"),
        "context": {"cookiecutter": answers},
        "directory": None,
        "skip": [".git", "data", "models", "reports", "mlflow.db", "mlruns", ".venv", ".env"],
    }
    (project_dir / ".cruft.json").write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")


def git(*args: str, cwd: Path, check: bool = True) -> str | None:
    """Run git and return its stdout; None when it fails and check is False."""
    try:
        result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    except FileNotFoundError:  # no git on PATH
        if check:
            raise RuntimeError("git is not installed") from None
        return None
    if result.returncode != 0:
        if check:
            raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
        return None
    return result.stdout.strip()


def first_commit(project_dir: Path, context: dict[str, Any]) -> None:
    """Initialise git with a first commit, or explain how to when that is not possible."""
    if shutil.which("git") is None:
        warn("git was not found: run `git init && git add -A && git commit -m 'Initial commit'` yourself.")
        return
    if (project_dir / ".git").exists() or git("rev-parse", "--git-dir", cwd=project_dir, check=False):
        warn("the project is inside an existing git repository: no repository or commit was created.")
        return
    try:
        git("init", "--quiet", "--initial-branch=main", cwd=project_dir)
        git("add", "--all", cwd=project_dir)
        identity = []
        if not git("config", "user.email", cwd=project_dir, check=False):
            # A first commit must not depend on the user's global git setup.
            identity = ["-c", f"user.name={context['author_name']}", "-c", f"user.email={context['author_email']}"]
        git(
            *identity,
            "commit",
            "--quiet",
            "--no-verify",
            "-m",
            "Initial commit from the project template",
            cwd=project_dir,
        )
    except RuntimeError as error:
        warn(f"{error}\n  The files are all there; create the repository and first commit yourself.")


def warn(message: str) -> None:
    print(f"WARNING: {message}", file=sys.stderr)


def rendered_by_cruft(context: dict[str, Any]) -> bool:
    """cruft renders through cookiecutter's generate_files without _repo_dir, and records its own state.

    It also renders throw-away copies of old and new template versions to diff them during `cruft update`:
    those must stay plain files, without a git repository inside.
    """
    return "_repo_dir" not in context


def main() -> None:
    project_dir = Path.cwd()
    prune(project_dir, CONTEXT)
    if rendered_by_cruft(CONTEXT):
        return  # `make init` creates the repository and first commit when there is none
    write_cruft_state(project_dir, CONTEXT)
    first_commit(project_dir, CONTEXT)


if __name__ == "__main__":
    main()
