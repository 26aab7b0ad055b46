"""The generated project's GitHub workflows: valid, least privilege, what CI runs, the pull request's comment
and the image's publication (fast tier: bake and inspect; the template-update workflow is test_template_update.py's).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from helpers import Bake, run


def workflow(project: Path, name: str) -> dict:
    return yaml.safe_load((project / ".github" / "workflows" / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("variant", ["api", "no-api"])
def test_workflows_validate_against_the_github_schema(variants: dict[str, Path], variant: str) -> None:
    project = variants[variant]
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
def test_ci_runs_lint_tests_pipeline_and_image_with_least_privilege(variants: dict[str, Path], variant: str) -> None:
    ci = workflow(variants[variant], "ci.yml")
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
def test_pull_requests_get_one_comment_from_a_job_running_no_branch_code(
    variants: dict[str, Path], variant: str
) -> None:
    ci = workflow(variants[variant], "ci.yml")
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
