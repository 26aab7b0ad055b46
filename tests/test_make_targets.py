"""The generated project's Makefile as a user meets it: every target described in `make help` (the default goal),
run by some template test, named correctly in the docs; the `.venv-ready` guard before `make init`, and what
`make init` refuses or chooses (fast tier: bake and inspect).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from helpers import Bake, find_python, run

TESTS_DIR = Path(__file__).resolve().parent

# Which template test runs which Make target of the generated project: "<test file>::<test function>".
# test_every_target_is_run_by_a_test fails on a target missing here, on an entry for a target that no longer
# exists, and on an entry whose test does not exist or never names the target. Add a line with every new target.
TARGET_COVERAGE: dict[str, str] = {
    "help": "test_make_targets.py::test_help_is_the_default_goal_and_lists_every_target",
    "init": "test_dev_tools.py::test_make_init_installs_env_and_git_hooks",
    "test": "test_project.py::test_non_default_project_passes_its_own_tests",
    "test-all": "test_project.py::test_default_project_passes_its_own_tests",
    "lint": "test_dev_tools.py::test_lint_and_format_leave_a_fresh_project_unchanged",
    "format": "test_dev_tools.py::test_lint_and_format_leave_a_fresh_project_unchanged",
    "typecheck": "test_dev_tools.py::test_make_lint_and_the_hook_fail_on_a_type_error",
    "pin-dependencies": "test_locks.py::test_make_pin_dependencies_leaves_the_locks_unchanged",
    "upgrade-dependencies": "test_locks.py::test_make_upgrade_dependencies_writes_valid_locks",
    "docs": "test_dev_tools.py::test_make_docs_builds_the_site_strictly",
    "docs-serve": "test_dev_tools.py::test_make_docs_serve_serves_the_site",
    "clean": "test_dev_tools.py::test_make_clean_removes_build_leftovers_only",
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


def test_every_target_has_a_description(variants: dict[str, Path]) -> None:
    for variant, project in variants.items():
        missing = [t for t, d in makefile_targets(project / "Makefile").items() if not d and t != ".venv-ready"]
        assert missing == [], f"{variant}: targets without a `## ` description: {missing}"


def test_help_is_the_default_goal_and_lists_every_target(variants: dict[str, Path]) -> None:
    project = variants["api"]
    default = run(["make"], cwd=project).stdout
    assert default == run(["make", "help"], cwd=project).stdout
    default = re.sub(r"\x1b\[[0-9;]*m", "", default)  # colours
    for target, description in makefile_targets(project / "Makefile").items():
        if target != ".venv-ready":
            assert re.search(rf"^\s*{re.escape(target)}\s+{re.escape(description)}$", default, re.M), (
                f"`make help` lacks {target}"
            )


def test_every_target_is_run_by_a_test(variants: dict[str, Path]) -> None:
    targets = set(makefile_targets(variants["api"] / "Makefile")) - {".venv-ready"}
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


def test_make_init_compiles_bytecode_only_when_python_will_not(variants: dict[str, Path]) -> None:
    """With PYTHONDONTWRITEBYTECODE set, every process would recompile the packages it imports: make init
    compiles them once. Otherwise Python caches them as it goes, and init does not spend the time."""

    def sync_command(setting: str) -> str:
        dry_run = run(["make", "--dry-run", "init", "UV=uv", f"PYTHONDONTWRITEBYTECODE={setting}"], cwd=variants["api"])
        (sync,) = [line for line in dry_run.stdout.splitlines() if " pip sync " in line]
        return sync

    assert "--compile-bytecode" in sync_command("1")
    assert "--compile-bytecode" not in sync_command("")


def test_targets_before_init_say_to_run_make_init(variants: dict[str, Path]) -> None:
    """Without .venv every guarded target stops at the guard: one clear message, make's exit 2, no traceback."""
    project = variants["api"]
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


def test_docs_and_readme_only_mention_real_targets(variants: dict[str, Path]) -> None:
    for variant, project in variants.items():
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
