"""Secrets stay out of git and out of the image: .gitignore and .dockerignore of a baked project."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from helpers import MODULE, bake_project

# Local settings and secrets, wherever they are: git must ignore them and the image build must not see them.
SECRETS = [
    ".env",
    ".env.local",
    ".envrc",
    "prod.env",
    "configs/secrets.env",
    f"src/{MODULE}/.envrc",
    f"src/{MODULE}/local.env",
    "api/.env",
    "api/.envrc",
    "api/prod.env",
    "models/.env.production",
]
# Files that must stay visible: the settings template is committed, the code reaches the image.
TRACKED = [".env.template", "configs/config.yaml", f"src/{MODULE}/__init__.py", "api/main.py"]
IN_IMAGE = [f"src/{MODULE}/__init__.py", "api/main.py", "requirements-serve.txt", "pyproject.toml"]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return bake_project(tmp_path_factory.mktemp("ignores"))


def git_ignores(project: Path, path: str) -> bool:
    """What .gitignore says about a path, whether or not it exists or is tracked."""
    result = subprocess.run(["git", "check-ignore", "--quiet", "--no-index", path], cwd=project)
    assert result.returncode in (0, 1), f"git check-ignore failed for {path}"
    return result.returncode == 0


@pytest.mark.parametrize("path", SECRETS)
def test_git_ignores_local_settings(project: Path, path: str) -> None:
    assert git_ignores(project, path)


@pytest.mark.parametrize("path", TRACKED)
def test_git_keeps_the_settings_template_and_the_code(project: Path, path: str) -> None:
    assert not git_ignores(project, path)


def test_the_settings_template_is_committed(project: Path) -> None:
    listed = subprocess.run(["git", "ls-files", ".env.template"], cwd=project, capture_output=True, text=True)
    assert listed.stdout.strip() == ".env.template"


def docker_pattern(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex, with Docker's rules: `**` spans directories, `*` and `?` do not."""
    regex, index = "", 0
    pattern = pattern.strip("/")
    while index < len(pattern):
        if pattern.startswith("**/", index):
            regex, index = regex + "(?:.*/)?", index + 3
        elif pattern.startswith("**", index):
            regex, index = regex + ".*", index + 2
        elif pattern[index] == "*":
            regex, index = regex + "[^/]*", index + 1
        elif pattern[index] == "?":
            regex, index = regex + "[^/]", index + 1
        elif pattern[index] == "[":
            end = pattern.index("]", index)
            regex, index = regex + pattern[index : end + 1], end + 1
        else:
            regex, index = regex + re.escape(pattern[index]), index + 1
    return re.compile(regex)


def docker_excludes(dockerignore: str, path: str) -> bool:
    """Whether `docker build` leaves `path` out of the context: the last pattern matching it or a parent wins."""
    candidates = [path] + ["/".join(path.split("/")[:depth]) for depth in range(1, path.count("/") + 1)]
    excluded = False
    for line in dockerignore.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        regex = docker_pattern(line.removeprefix("!"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not negated
    return excluded


def test_docker_pattern_semantics() -> None:
    """The little matcher above agrees with Docker's documented examples."""
    assert docker_excludes("*/temp*", "somedir/temporary.txt")
    assert not docker_excludes("*/temp*", "temp.txt")
    assert docker_excludes("**/*.go", "a/b/c.go") and docker_excludes("**/*.go", "c.go")
    assert docker_excludes("temp?", "tempa") and not docker_excludes("temp?", "tempab")
    assert docker_excludes("*.md\n!README.md", "CHANGES.md") and not docker_excludes("*.md\n!README.md", "README.md")
    assert docker_excludes("*\n!src/", "data/x.csv") and not docker_excludes("*\n!src/", "src/a/b.py")


@pytest.mark.parametrize("path", SECRETS)
def test_docker_build_context_leaves_out_local_settings(project: Path, path: str) -> None:
    assert docker_excludes((project / ".dockerignore").read_text(), path)


@pytest.mark.parametrize("path", IN_IMAGE)
def test_docker_build_context_keeps_what_the_image_needs(project: Path, path: str) -> None:
    assert not docker_excludes((project / ".dockerignore").read_text(), path)
