"""The developer workflow of a generated project: Makefile, locks, git hooks, CI workflows, docs.

Fast tier: bake and inspect (workflow schemas, lock freshness, target descriptions, the `.venv-ready` guard).
Full tier: install the project and run its own commands (pre-commit, the notebook filter, make docs, the lock
commands, plain pip).
"""

from __future__ import annotations

import ast
import itertools
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from helpers import TEMPLATE_DIR, Bake, MakeServer, bake_project, call, find_python, make_init, python_for, run
from packaging.requirements import Requirement

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

TEMPLATE_PROJECT = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
TESTS_DIR = Path(__file__).resolve().parent

# Which template test runs which Make target of the generated project: "<test file>::<test function>".
# test_every_target_is_run_by_a_test fails on a target missing here, on an entry for a target that no longer
# exists, and on an entry whose test does not exist or never names the target. Add a line with every new target.
TARGET_COVERAGE: dict[str, str] = {
    "help": "test_workflow.py::test_help_is_the_default_goal_and_lists_every_target",
    "init": "test_workflow.py::test_make_init_installs_env_and_git_hooks",
    "test": "test_project.py::test_non_default_project_passes_its_own_tests",
    "test-all": "test_project.py::test_default_project_passes_its_own_tests",
    "lint": "test_workflow.py::test_lint_and_format_leave_a_fresh_project_unchanged",
    "format": "test_workflow.py::test_lint_and_format_leave_a_fresh_project_unchanged",
    "typecheck": "test_workflow.py::test_make_lint_and_the_hook_fail_on_a_type_error",
    "pin-dependencies": "test_workflow.py::test_make_pin_dependencies_leaves_the_locks_unchanged",
    "upgrade-dependencies": "test_workflow.py::test_make_upgrade_dependencies_writes_valid_locks",
    "docs": "test_workflow.py::test_make_docs_builds_the_site_strictly",
    "docs-serve": "test_workflow.py::test_make_docs_serve_serves_the_site",
    "clean": "test_workflow.py::test_make_clean_removes_build_leftovers_only",
    "repro": "test_pipeline.py::test_a_model_edit_reruns_only_train_and_evaluate",
    "train": "test_pipeline.py::test_make_train_runs_outside_dvc",
    "sweep": "test_pipeline.py::test_make_sweep_logs_two_child_runs_under_one_parent",
    "predict": "test_pipeline.py::test_make_predict_writes_a_csv_of_predictions",
    "mlflow-ui": "test_pipeline.py::test_make_mlflow_ui_serves_the_project_store",
    "report": "test_report.py::test_make_report_shows_the_models_metrics_plots_and_mlflow_run",
    "compare": "test_report.py::test_make_compare_lists_dvc_and_mlflow_best_first",
    "tune": "test_results.py::test_make_tune_resumes_a_study_under_one_parent_run",
    "paper-table": "test_results.py::test_make_paper_table_parses_and_holds_the_runs_numbers",
    "promote": "test_pipeline.py::test_make_promote_sets_the_champion_alias",
    "push-data": "test_pipeline.py::test_push_then_pull_restores_identical_data",
    "pull-data": "test_pipeline.py::test_push_then_pull_restores_identical_data",
    "serve": "helpers.py::start_server",
    "tracking-server": "test_team.py::tracking_server",
    "build-image": "test_image.py::image",
    "run-image": "test_image.py::container",
    "push-image": "test_image.py::test_make_push_image_pushes_the_built_tag",
    "update-template": "test_template_update.py::test_update_applies_changes_marks_conflicts_and_runs_the_checks",
}

VENV_MESSAGE = "Run 'make init' first."
REMOTE_KINDS = ("s3", "gs", "azure")
# Web stack packages only the API declares (fastapi, uvicorn and starlette also come with mlflow).
API_ONLY = {"httptools", "uvloop", "prometheus-client"}

# ---------------------------------------------------------------------------------------------- helpers


def makefile_targets(makefile: Path) -> dict[str, str]:
    """Every target a user can run, mapped to its `## ` description ("" when it has none)."""
    targets: dict[str, str] = {}
    for line in makefile.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:(?![:=])(.*)$", line)
        if match and match.group(1) != ".PHONY":
            _, _, description = match.group(2).partition("## ")
            targets[match.group(1)] = description.strip()
    return targets


def guarded_targets(makefile: Path) -> list[str]:
    """Targets whose prerequisites include the `.venv-ready` guard."""
    text = makefile.read_text(encoding="utf-8")
    return sorted(set(re.findall(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:[^=\n#]*\.venv-ready", text, re.M)))


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_sources(project: Path) -> dict[str, list[Requirement]]:
    """Each lock file a baked project has, with the requirements of pyproject.toml it must pin.

    What `make pin-dependencies` compiles into each: the runtime set, plus the dev group, the api extra or a
    remote's extra; the serving image's locks hold a dependency group alone.
    """
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    runtime = [Requirement(r) for r in pyproject["project"]["dependencies"]]
    extras = pyproject["project"].get("optional-dependencies", {})
    groups = pyproject.get("dependency-groups", {})

    def group(name: str) -> list[Requirement]:
        found: list[Requirement] = []
        for item in groups[name]:
            found += group(item["include-group"]) if isinstance(item, dict) else [Requirement(item)]
        return found

    sources = {"requirements.txt": runtime, "requirements-dev.txt": runtime + group("dev")}
    if "api" in extras:
        sources["requirements-api.txt"] = runtime + [Requirement(r) for r in extras["api"]]
        sources["requirements-serve.txt"] = group("serve")
        sources["requirements-serve-onnx.txt"] = group("serve-onnx")
    for kind in REMOTE_KINDS:
        sources[f"requirements-remote-{kind}.txt"] = runtime + [Requirement(r) for r in extras[kind]]
    return sources


def read_lock(path: Path) -> list[tuple[Requirement, int]]:
    """The pins of a uv lock file: (name==version ; marker, number of hashes)."""
    pins: list[tuple[Requirement, int]] = []
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8")):
        if not block[:1].isalnum():
            continue
        first_line = block.split("\n", 1)[0].rstrip(" \\")
        pins.append((Requirement(first_line), block.count("--hash=sha256:")))
    return pins


def lock_problems(project: Path, locks: Path | None = None) -> list[str]:
    """Why the locks (in `locks`, default the project) are stale or malformed for the project's pyproject.toml."""
    locks = locks or project
    problems: list[str] = []
    for lock, requirements in lock_sources(project).items():
        if not (locks / lock).exists():
            if not lock.startswith("requirements-remote-"):  # only the chosen bucket remote has a lock
                problems.append(f"{lock}: missing")
            continue
        header = (locks / lock).read_text(encoding="utf-8").splitlines()[:2]
        if header[1:] != ["#    make pin-dependencies"]:
            problems.append(f"{lock}: the header does not name `make pin-dependencies`: {header}")
        pins: dict[str, list[Requirement]] = {}
        for pin, hashes in read_lock(locks / lock):
            pins.setdefault(normalize(pin.name), []).append(pin)
            version = next(iter(pin.specifier))
            if version.operator != "==" or hashes == 0:
                problems.append(f"{lock}: {pin} is not pinned with hashes")
        for requirement in requirements:
            found = pins.get(normalize(requirement.name), [])
            if not found:
                problems.append(f"{lock}: no pin for {requirement} from pyproject.toml")
            for pin in found:
                version = next(iter(pin.specifier)).version
                if not requirement.specifier.contains(version, prereleases=True):
                    problems.append(f"{lock}: {pin} does not satisfy {requirement} from pyproject.toml")
    return problems


def lock_notes(path: Path) -> dict[str, set[str]]:
    """Each locked package (normalized name) with its "# via" notes: what needs it."""
    notes: dict[str, set[str]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text(encoding="utf-8")):
        if block[:1].isalnum():
            name = normalize(Requirement(block.split("\n", 1)[0].rstrip(" \\")).name)
            found = re.findall(r"#[ \t]+(?:via[ \t]+)?(\S.*)", block)
            notes.setdefault(name, set()).update(n for n in found if n != "via" and not n.startswith("-c "))
    return notes


def workflow(project: Path, name: str) -> dict:
    return yaml.safe_load((project / ".github" / "workflows" / name).read_text(encoding="utf-8"))


def plain(result: subprocess.CompletedProcess[str]) -> str:
    """A command's whole output without colours (deptry colours its report even into a pipe)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)


def git(project: Path, *args: str) -> str:
    return run(["git", *args], cwd=project).stdout


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


@pytest.fixture(scope="module")
def baked(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two read-only bakes: with the API (the default) and without."""
    root = tmp_path_factory.mktemp("workflow-bakes")
    return {
        "api": bake_project(root / "api"),
        "no-api": bake_project(root / "no-api", include_api="no"),
    }


@pytest.mark.parametrize("variant", ["api", "no-api"])
def test_workflows_validate_against_the_github_schema(baked: dict[str, Path], variant: str) -> None:
    project = baked[variant]
    files = sorted((project / ".github" / "workflows").glob("*.yml"))
    expected = (
        ["ci.yml", "publish.yml", "template-update.yml"] if variant == "api" else ["ci.yml", "template-update.yml"]
    )
    assert [f.name for f in files] == expected
    result = run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", *map(str, files)],
        cwd=project,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "${{ github." in text or "${{ env." in text or "${{ secrets." in text, (
            f"{path.name}: no GitHub expression survived"
        )
        assert "{%" not in text and "cookiecutter" not in text, f"{path.name}: template syntax left over"


@pytest.mark.parametrize("variant", ["api", "no-api"])
def test_ci_runs_lint_tests_pipeline_and_image_with_least_privilege(baked: dict[str, Path], variant: str) -> None:
    ci = workflow(baked[variant], "ci.yml")
    triggers = ci[True]  # YAML 1.1 reads the key `on` as a boolean
    assert set(triggers) >= {"push", "pull_request"}
    assert ci["permissions"] == {"contents": "read"}
    commands = {name: " ".join(step.get("run", "") for step in job["steps"]) for name, job in ci["jobs"].items()}
    assert "make lint" in commands["lint"] and "make repro" in commands["pipeline"]
    assert "make test-all" in commands["test"]  # the slow tests too
    assert ("image" in ci["jobs"]) == (variant == "api")
    for name, job in ci["jobs"].items():
        assert 0 < job["timeout-minutes"] <= 60, name
        uses = [step["uses"] for step in job["steps"] if "uses" in step]
        assert all(re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", use) for use in uses), uses
        setup_uv = [step for step in job["steps"] if step.get("uses", "").startswith("astral-sh/setup-uv@")]
        if "make init" in commands[name]:
            assert setup_uv and setup_uv[0]["with"]["enable-cache"] is True, f"{name}: no uv cache"


@pytest.mark.parametrize("variant", ["api", "no-api"])
def test_pull_requests_get_one_comment_from_a_job_running_no_branch_code(baked: dict[str, Path], variant: str) -> None:
    ci = workflow(baked[variant], "ci.yml")
    pipeline = ci["jobs"]["pipeline"]
    assert "permissions" not in pipeline, "the job that runs the branch's code must keep the read-only token"
    steps = {step.get("name", step.get("uses")): step for step in pipeline["steps"]}
    assert steps["results report"]["run"] == "make report"
    assert steps["keep the report"]["with"]["name"] == "report"
    compare = steps["compare with the base branch"]
    assert compare["if"] == "github.event_name == 'pull_request'"
    assert compare["env"]["BASE_REF"] == "${{ github.base_ref }}", "the branch name must not be spliced into the script"
    assert '-m iris_classifier.reports.pr_comment --base "origin/${BASE_REF}"' in compare["run"]
    assert "${{" not in compare["run"]
    comment = ci["jobs"]["pr-comment"]
    assert comment["needs"] == "pipeline" and comment["permissions"] == {"pull-requests": "write"}
    assert comment["if"].startswith("github.event_name == 'pull_request' && ")
    assert "head.repo.full_name == github.repository" in comment["if"], "fork PRs have no write token"
    assert all("run" not in step and step["uses"].startswith("actions/") for step in comment["steps"])
    script = comment["steps"][-1]["with"]["script"]
    assert "updateComment" in script and "createComment" in script and "startsWith(marker)" in script


@pytest.mark.parametrize(
    ("registry", "login"),
    [
        (
            "ghcr.io/acme",
            {"registry": "ghcr.io", "username": "${{ github.actor }}", "password": "${{ secrets.GITHUB_TOKEN }}"},
        ),
        (
            "registry.example.com:5000/team",
            {
                "registry": "registry.example.com:5000",
                "username": "${{ secrets.REGISTRY_USERNAME }}",
                "password": "${{ secrets.REGISTRY_PASSWORD }}",
            },
        ),
        ("acme", {"username": "${{ secrets.REGISTRY_USERNAME }}", "password": "${{ secrets.REGISTRY_PASSWORD }}"}),
    ],
    ids=["ghcr", "private-registry", "docker-hub"],
)
def test_publish_pushes_on_version_tags_to_the_chosen_registry(bake: Bake, registry: str, login: dict) -> None:
    project = bake(image_registry=registry)
    publish = workflow(project, "publish.yml")
    assert publish[True] == {"push": {"tags": ["v*"]}}
    expected_permissions = (
        {"contents": "read", "packages": "write"} if registry.startswith("ghcr.io") else {"contents": "read"}
    )
    assert publish["permissions"] == expected_permissions
    steps = publish["jobs"]["publish"]["steps"]
    assert next(s for s in steps if s.get("uses", "").startswith("docker/login-action@"))["with"] == login
    assert publish["env"]["IMAGE"] == f"{registry}/iris-classifier"
    assert next(s for s in steps if s.get("uses", "").startswith("docker/build-push-action@"))["with"]["push"] is True


def test_shipped_locks_are_not_stale(baked: dict[str, Path]) -> None:
    """Every requirement of pyproject.toml has hashed pins that satisfy it, in each lock that must hold it."""
    assert lock_problems(baked["api"], TEMPLATE_PROJECT) == []
    assert lock_problems(baked["api"]) == []
    assert lock_problems(baked["no-api"]) == []


def test_locks_installed_together_pin_shared_packages_alike(baked: dict[str, Path]) -> None:
    """`-c` chains the locks: a package two locks pin has the same versions in both (installed together)."""
    pins: dict[str, dict[str, set[str]]] = {}
    for lock in lock_sources(baked["api"]):
        for pin, _ in read_lock(TEMPLATE_PROJECT / lock):
            pins.setdefault(lock, {}).setdefault(normalize(pin.name), set()).add(str(next(iter(pin.specifier))))
    for first, second in itertools.combinations(pins, 2):
        differ = sorted(n for n in set(pins[first]) & set(pins[second]) if pins[first][n] != pins[second][n])
        assert differ == [], f"{first} and {second} pin {differ} differently"


def test_without_the_api_no_lock_installs_the_web_stack(baked: dict[str, Path]) -> None:
    """include_api=no: no api extra, no API or serving lock; fastapi and uvicorn only as mlflow's own needs."""
    project = baked["no-api"]
    locks = sorted(path.name for path in project.glob("requirements*.txt"))
    assert locks == ["requirements-dev.txt", "requirements.txt"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert "api" not in pyproject["project"]["optional-dependencies"]
    assert not {"serve", "serve-onnx"} & set(pyproject["dependency-groups"])
    for lock in project.glob("requirements*.txt"):
        notes = lock_notes(lock)
        assert API_ONLY.isdisjoint(notes), f"{lock.name}: {sorted(API_ONLY & set(notes))}"
        for name in ("fastapi", "uvicorn"):
            assert notes[name] == {"mlflow-skinny"}, f"{lock.name}: {name} is there for {notes[name]!r}"
    api_notes = lock_notes(baked["api"] / "requirements-api.txt")
    assert set(api_notes) >= API_ONLY and "iris-classifier (pyproject.toml)" in api_notes["fastapi"]


def test_serving_locks_hold_what_the_api_declares(baked: dict[str, Path]) -> None:
    """The image's locks: the api extra and the ONNX runtime, and scikit-learn only in the scikit-learn one."""
    pyproject = tomllib.loads((baked["api"] / "pyproject.toml").read_text(encoding="utf-8"))
    web_stack = {normalize(Requirement(r).name) for r in pyproject["project"]["optional-dependencies"]["api"]}
    onnx = set(lock_notes(TEMPLATE_PROJECT / "requirements-serve-onnx.txt"))
    sklearn = set(lock_notes(TEMPLATE_PROJECT / "requirements-serve.txt"))
    assert web_stack | {"onnxruntime", "numpy", "pydantic"} <= onnx <= sklearn
    assert {"scikit-learn", "scipy", "pandas", "joblib"} <= sklearn
    assert onnx.isdisjoint({"scikit-learn", "scipy", "pandas", "joblib", "skops", "mlflow", "dvc", "hydra-core"})


def test_lock_checker_catches_a_stale_lock(baked: dict[str, Path], tmp_path: Path) -> None:
    """The staleness check can fail: a raised lower bound, a new requirement and a pin edited by hand."""
    shutil.copytree(baked["api"], tmp_path / "project")
    project = tmp_path / "project"
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace("dependencies = [\n", 'dependencies = [\n  "scikit-learn>=99",\n  "left-pad-for-python>=1",\n', 1),
        encoding="utf-8",
    )
    dev_lock = project / "requirements-dev.txt"
    dev_lock.write_text(re.sub(r"^ruff==\S+", "ruff==0.0.1", dev_lock.read_text(encoding="utf-8"), flags=re.M))
    problems = "\n".join(lock_problems(project))
    assert "requirements.txt: " in problems and "does not satisfy scikit-learn>=99" in problems
    assert "requirements-serve.txt" not in problems  # the image's locks do not hold the pipeline
    assert "no pin for left-pad-for-python>=1" in problems
    assert "requirements-dev.txt: ruff==0.0.1 does not satisfy ruff>=0.8" in problems


def test_every_target_has_a_description(baked: dict[str, Path]) -> None:
    for variant, project in baked.items():
        missing = [t for t, d in makefile_targets(project / "Makefile").items() if not d and t != ".venv-ready"]
        assert missing == [], f"{variant}: targets without a `## ` description: {missing}"


def test_help_is_the_default_goal_and_lists_every_target(baked: dict[str, Path]) -> None:
    project = baked["api"]
    default = run(["make"], cwd=project).stdout
    assert default == run(["make", "help"], cwd=project).stdout
    default = re.sub(r"\x1b\[[0-9;]*m", "", default)  # colours
    for target, description in makefile_targets(project / "Makefile").items():
        if target != ".venv-ready":
            assert re.search(rf"^\s*{re.escape(target)}\s+{re.escape(description)}$", default, re.M), (
                f"`make help` lacks {target}"
            )


def test_every_target_is_run_by_a_test(baked: dict[str, Path]) -> None:
    targets = set(makefile_targets(baked["api"] / "Makefile")) - {".venv-ready"}
    uncovered = sorted(targets - set(TARGET_COVERAGE))
    assert uncovered == [], f"Make targets no template test runs (register them in TARGET_COVERAGE): {uncovered}"
    assert sorted(set(TARGET_COVERAGE) - targets) == [], "TARGET_COVERAGE names targets the Makefile no longer has"
    for target, test_id in TARGET_COVERAGE.items():
        file_name, _, function = test_id.partition("::")
        source = (TESTS_DIR / file_name).read_text(encoding="utf-8")
        body = next(
            (
                ast.get_source_segment(source, node) or ""
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.FunctionDef) and node.name == function
            ),
            None,
        )
        assert body is not None, f"{test_id} (registered for `make {target}`) does not exist"
        assert re.search(rf"[\"' ]{re.escape(target)}[\"' \]]", body), f"{test_id} never names `{target}`"


def test_make_init_compiles_bytecode_only_when_python_will_not(baked: dict[str, Path]) -> None:
    """With PYTHONDONTWRITEBYTECODE set, every process would recompile the packages it imports: make init
    compiles them once. Otherwise Python caches them as it goes, and init does not spend the time."""

    def sync_command(setting: str) -> str:
        dry_run = run(["make", "--dry-run", "init", "UV=uv", f"PYTHONDONTWRITEBYTECODE={setting}"], cwd=baked["api"])
        (sync,) = [line for line in dry_run.stdout.splitlines() if " pip sync " in line]
        return sync

    assert "--compile-bytecode" in sync_command("1")
    assert "--compile-bytecode" not in sync_command("")


def test_targets_before_init_say_to_run_make_init(baked: dict[str, Path]) -> None:
    """Without .venv every guarded target stops at the guard: one clear message, make's exit 2, no traceback."""
    project = baked["api"]
    targets = guarded_targets(project / "Makefile")
    assert {"lint", "format", "test", "docs"} <= set(targets)
    for target in targets:
        result = run(["make", target], cwd=project, check=False, timeout=120)
        assert result.returncode == 2, f"make {target}: {result.stdout}{result.stderr}"
        errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        assert errors == [f"ERROR: no virtual environment in .venv. {VENV_MESSAGE}"], f"make {target}: {result.stderr}"
        assert "Traceback" not in result.stdout + result.stderr
    assert not (project / ".venv").exists()


def test_make_init_refuses_an_unsupported_python(bake: Bake) -> None:
    old_python = find_python("3.9")
    if old_python is None:
        pytest.skip("no Python 3.9 here to try")
    project = bake(include_api="no")
    result = run(["make", "init", f"PYTHON={old_python}"], cwd=project, check=False, timeout=300)
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(errors) == 1 and "is not supported: use Python 3.10 to 3.13" in errors[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert not (project / ".venv").exists() and not (project / ".env").exists(), "make init left a half-made setup"


def test_docs_and_readme_only_mention_real_targets(baked: dict[str, Path]) -> None:
    for variant, project in baked.items():
        targets = set(makefile_targets(project / "Makefile"))
        nav_files = re.findall(r":\s*(\S+\.md)\s*$", (project / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
        # report.md is written by `make report` (git ignores it); docs/hooks/report_page.py stands in until then.
        shipped = [f for f in nav_files if f != "report.md"]
        assert "report.md" in nav_files and (project / "docs/hooks/report_page.py").is_file()
        assert shipped and all((project / "docs" / f).is_file() for f in shipped), f"{variant}: nav {nav_files}"
        assert ("serving.md" in nav_files) == (variant == "api")
        for doc in [project / "README.md", project / "experiments" / "README.md", *(project / "docs").glob("*.md")]:
            mentioned = set(re.findall(r"\bmake ([a-z][a-z-]+)", doc.read_text(encoding="utf-8")))
            assert mentioned <= targets, f"{variant}: {doc.name} mentions unknown targets {mentioned - targets}"


def test_example_notebook_ships_without_outputs(baked: dict[str, Path]) -> None:
    notebooks = sorted((baked["api"] / "experiments").glob("*.ipynb"))
    assert notebooks, "no example notebook"
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = [c for c in cells if c["cell_type"] == "code"]
        assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code), path.name


# ---------------------------------------------------------------------------------------------- full tier


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A default bake after `make init`, private to this module: tests here commit, format and clean it."""
    return make_init(bake_project(tmp_path_factory.mktemp("workflow-project")))


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


@pytest.mark.full
def test_make_pin_dependencies_leaves_the_locks_unchanged(project: Path) -> None:
    run(["make", "pin-dependencies"], cwd=project, timeout=600)
    assert git(project, "status", "--porcelain", "--", "requirements*.txt") == ""


@pytest.mark.full
def test_lock_commands_reproduce_the_shipped_locks(project: Path, tmp_path: Path) -> None:
    """The project's `make pin-dependencies`, run on every lock the template ships (each bucket remote's too),
    changes nothing: the locks are what pyproject.toml declares."""
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy(project / name, tmp_path / name)
    shipped = {
        lock.name: lock.read_text(encoding="utf-8").replace("{{ cookiecutter.project_slug }}", project.name)
        for lock in TEMPLATE_PROJECT.glob("requirements*.txt")
    }
    assert set(shipped) == set(lock_sources(project)), "the template ships a lock for every set pyproject.toml declares"
    for name, text in shipped.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    run(["make", "pin-dependencies"], cwd=tmp_path, timeout=900)
    for name, text in shipped.items():
        assert (tmp_path / name).read_text(encoding="utf-8") == text, (
            f"{name} is stale: `make lock-project` at the template root re-locks it"
        )


@pytest.mark.full
def test_make_upgrade_dependencies_writes_valid_locks(bake: Bake) -> None:
    """A throwaway bake: upgrading needs PyPI and may change the locks, which must stay valid and hashed."""
    throwaway = bake()
    run(["make", "upgrade-dependencies"], cwd=throwaway, timeout=900)
    assert lock_problems(throwaway) == []


@pytest.mark.full
def test_plain_pip_installs_from_the_locks(bake: Bake, tmp_path: Path) -> None:
    """No uv: the same lock files work with python -m venv and pip --require-hashes, then the tests run."""
    pip_project = bake()
    venv = tmp_path / "pip-venv"
    run([python_for("3.11"), "-m", "venv", str(venv)], cwd=pip_project)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    locks = ["-r", "requirements-dev.txt", "-r", "requirements-api.txt"]  # what `make init` installs
    run([*pip, "--require-hashes", *locks], cwd=pip_project, timeout=1200)
    run([*pip, "--no-deps", "--editable", "."], cwd=pip_project, timeout=600)
    parallel = ["-n", "auto", "--dist", "loadfile"]  # as `make test` runs them
    result = run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-m", "not slow", "-p", "no:cacheprovider", *parallel],
        cwd=pip_project,
        timeout=1200,
    )
    assert re.search(r"\d+ passed", result.stdout), result.stdout
