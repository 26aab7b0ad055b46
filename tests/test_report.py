"""The results report, `make compare` and the pull request comment, run the way a user runs them.

One git + DVC repository of two commits: the shared trained project as it is (copied, so the shared
one stays untouched, and committed), then the same with a smaller forest, reproduced and committed.
Only the second commit trains.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
from pathlib import Path

import pytest
from helpers import ENV, MODULE, make_init, mlflow_query, run, sh

pytestmark = pytest.mark.full

# What the copy leaves behind: the environment (rebuilt by make init) and the MLflow store, whose
# runs point at the shared project's artifact directory.
NOT_COPIED = (".venv", ".git", "mlflow.db", "mlruns", "site", ".pytest_cache", ".ruff_cache")


def python(project: Path, code: str) -> str:
    return run([str(project / ".venv/bin/python"), "-c", code], cwd=project, env=ENV).stdout


@pytest.fixture(scope="module")
def project(trained_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("report") / "iris-classifier"
    shutil.copytree(trained_project, path, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
    sh("git init --quiet --initial-branch=main && git add -A && git commit --quiet --no-verify -m base", path)
    make_init(path)
    forest = path / "configs" / "model" / "random_forest.yaml"
    text = forest.read_text(encoding="utf-8")
    assert "n_estimators: 100\n" in text
    forest.write_text(text.replace("n_estimators: 100\n", "n_estimators: 7\n"), encoding="utf-8")
    sh("make repro", path)
    sh("git add -A && git commit --quiet --no-verify -m 'A smaller forest'", path)
    return path


def metrics_of(project: Path, rev: str | None = None) -> dict:
    if rev is None:
        return json.loads((project / "reports/metrics.json").read_text(encoding="utf-8"))
    return json.loads(sh(f"git show {rev}:reports/metrics.json", project).stdout)


def table_value(markdown: str, label: str) -> str:
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and (cells[0] == label or cells[0].startswith(f"**{label}**")):
            return cells[-1]
    raise AssertionError(f"no table row for {label!r} in\n{markdown}")


def test_the_pr_comment_shows_the_changed_param_and_the_metrics(project: Path) -> None:
    body = sh(f".venv/bin/python -m {MODULE}.reports.pr_comment --base HEAD~1", project).stdout
    old, new = metrics_of(project, "HEAD~1"), metrics_of(project)
    assert body.startswith("<!-- iris-classifier: pipeline results -->\n## Pipeline results against `HEAD~1`")
    params_table = "| Parameter | `HEAD~1` | this branch |\n|---|---:|---:|\n"
    assert params_table + "| model.estimator.n_estimators | 100 | 7 |\n\n" in body
    metric_rows = [line for line in body.splitlines() if re.match(r"\| (\*\*)?(accuracy|f1_macro|n_test)", line)]
    assert metric_rows[0].startswith("| **accuracy** (primary) |"), metric_rows
    for row in metric_rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        name = cells[0].replace("**", "").replace(" (primary)", "")
        assert cells[1:3] == [f"{old[name]:.6g}", f"{new[name]:.6g}"], row
        change = new[name] - old[name]
        assert cells[3] == ("0" if change == 0 else f"{change:+.6g}"), row
    assert [line.split("|")[1].strip() for line in metric_rows] == ["**accuracy** (primary)", "f1_macro", "n_test"]
    bad = sh(f".venv/bin/python -m {MODULE}.reports.pr_comment --base no-such-branch", project, check=False)
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip() == "ERROR: `dvc params diff no-such-branch` failed: unknown Git revision 'no-such-branch'"


def test_make_report_shows_the_models_metrics_plots_and_mlflow_run(project: Path) -> None:
    result = run(["make", "report"], cwd=project, env=ENV)
    assert "report: wrote docs/report.md" in result.stdout
    page = (project / "docs/report.md").read_text(encoding="utf-8")
    metrics = metrics_of(project)
    lineage = json.loads((project / "reports/lineage.json").read_text(encoding="utf-8"))
    logged = mlflow_query(project, f"result = client.get_run({lineage['run_id']!r}).data.metrics")
    for name in ("accuracy", "f1_macro", "n_test"):
        assert table_value(page, name) == f"{metrics[name]:.6g}", name
        assert logged[name] == metrics[name], name
    # The intervals, as metrics.json holds them, in the MLflow run too.
    for name in ("accuracy", "f1_macro"):
        assert logged[f"cv_{name}_mean"] == metrics["cv"][name]["mean"], name
        assert logged[f"{name}_low"] == metrics["test_interval"][name]["low"], name
    assert table_value(page, "MLflow run") == lineage["run_id"]
    assert table_value(page, "Git commit").startswith(sh("git rev-parse HEAD~1", project).stdout.strip())
    # The images decode (every pixel), in the docs and inlined in the one-file page.
    images = sorted(p.name for p in (project / "docs/report").glob("*.png"))
    assert images == ["confusion_matrix.png", "cv_folds.png", "feature_importance.png"]
    sizes = python(
        project,
        "import base64, io, re, pathlib\nfrom PIL import Image\n"
        "html = pathlib.Path('reports/report.html').read_text()\n"
        "blobs = [base64.b64decode(b) for b in re.findall(r'data:image/png;base64,([^\"]+)', html)]\n"
        "files = [p.read_bytes() for p in sorted(pathlib.Path('docs/report').glob('*.png'))]\n"
        "assert blobs == files, 'the HTML does not inline the same images'\n"
        "for blob in blobs:\n    image = Image.open(io.BytesIO(blob)); image.load(); print(*image.size)",
    )
    assert all(int(w) > 200 and int(h) > 150 for w, h in (line.split() for line in sizes.splitlines())), sizes
    # The experiments compared: this commit in DVC and its MLflow run, with the same accuracy.
    compared = page.split("## Experiments compared", 1)[1]
    assert f"| MLflow | baseline ({lineage['run_id'][:8]}) | {metrics['accuracy']:.6g} |" in compared
    assert f"| DVC | main | {metrics['accuracy']:.6g} |" in compared
    # Writing the report leaves the lineage clean and changes no tracked file (the page is git-ignored).
    dirty = python(project, f"from {MODULE}.tracking.training_run import git_state; print(git_state()[1])")
    assert dirty.strip() == "False"
    assert sh("git status --porcelain --untracked-files=all", project).stdout == ""
    # Its files get the permissions any file of the user gets (the umask's), not a private 0600.
    umask = os.umask(0)
    os.umask(umask)
    written = [project / "docs/report.md", project / "reports/report.html", *(project / "docs/report").glob("*.png")]
    assert {path.name: stat.S_IMODE(path.stat().st_mode) for path in written} == {
        path.name: 0o666 & ~umask for path in written
    }


def test_make_docs_includes_the_report(project: Path) -> None:
    if not (project / "reports/report.html").exists():
        run(["make", "report"], cwd=project, env=ENV)
    run(["make", "docs"], cwd=project, env=ENV)
    site = project / "site" / "report"
    html = (site / "index.html").read_text(encoding="utf-8")
    assert "Results report" in html and "Model card" in html
    assert f"{metrics_of(project)['accuracy']:.6g}" in html
    for name in ("confusion_matrix.png", "cv_folds.png", "feature_importance.png"):
        assert f'src="../report/{name}"' in html or f'src="{name}"' in html, name
        assert (site / name).read_bytes() == (project / "docs/report" / name).read_bytes()
    assert not (project / "site" / "model-card").exists(), "the card's source became a page"


def test_make_compare_lists_dvc_and_mlflow_best_first(project: Path) -> None:
    table = run(["make", "compare", "RUNS=5"], cwd=project, env=ENV).stdout
    accuracy = f"{metrics_of(project)['accuracy']:.6g}"
    assert "| Source | Name | **accuracy** | f1_macro |" in table
    assert f"| DVC | main | {accuracy} |" in table and "| MLflow | baseline (" in table
    assert "Sorted by accuracy (highest first)" in table
