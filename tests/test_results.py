"""Results that hold up: intervals in the metrics, `make tune` (resumed, killed, two workers, its preset
reproduced), `make compare`'s paired test and `make paper-table`, run the way a user runs them.

This module's own bake, reproduced once and committed; the tests run in file order (later ones use the
runs of earlier ones).
"""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import pytest
from helpers import SLUG, mlflow_query, reproduced_project, run, sh, start_in_background, wait_for

pytestmark = pytest.mark.full

# Small forests: each trial (5 folds) takes about a second.
TINY_SPACE = "model:\n  estimator:\n    n_estimators: {int: [5, 20]}\n    max_depth: {choice: [null, 2, 3]}\n"
# Forests large enough that a trial is still running when the test kills the search.
SLOW_SPACE = "model:\n  estimator:\n    n_estimators: {int: [400, 500]}\n"
# Trials of tens of seconds: the test that kills one mid-flight sees it running, whatever the load.
SLOWER_SPACE = "model:\n  estimator:\n    n_estimators: {int: [3000, 3500]}\n"


def write_search_spaces(project: Path) -> None:
    for name, space in (("tiny", TINY_SPACE), ("slow", SLOW_SPACE), ("slower", SLOWER_SPACE)):
        (project / f"configs/search/{name}.yaml").write_text(space, encoding="utf-8")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return reproduced_project(tmp_path_factory.mktemp("results"), prepare=write_search_spaces)


def metrics(project: Path) -> dict:
    return json.loads((project / "reports/metrics.json").read_text(encoding="utf-8"))


def study_runs(project: Path, study: str) -> list[dict[str, str]]:
    """The MLflow runs of a study: id, status, tags and the cross-validated metrics."""
    return mlflow_query(
        project,
        f"exp = client.get_experiment_by_name({SLUG!r}).experiment_id\n"
        f"found = client.search_runs([exp], filter_string=\"tags.tune_study = '{study}'\",\n"
        "                            max_results=1000)\n"
        "result = [{'id': r.info.run_id, 'status': r.info.status, **r.data.tags,\n"
        "           **{'param.' + k: v for k, v in r.data.params.items()},\n"
        "           **{k: str(v) for k, v in r.data.metrics.items()}} for r in found]",
    )


def trials_run(output: str) -> list[int]:
    """The numbers of the trials a `make tune` ran (finished or pruned), from its output."""
    return [int(n) for n in re.findall(r"^tune: trial (\d+)(?::| pruned)", output, re.M)]


def check_study(project: Path, study: str, trials: int) -> list[dict[str, str]]:
    """One parent run; one finished (or pruned) child per trial, none twice; returns the children."""
    runs = study_runs(project, study)
    parents = [r for r in runs if r["tune_trial"] == "parent"]
    assert len(parents) == 1, parents
    children = [r for r in runs if r["tune_trial"] != "parent"]
    assert all(r["mlflow.parentRunId"] == parents[0]["id"] for r in children)
    done = [r for r in children if r["status"] in ("FINISHED", "KILLED")]
    numbers = sorted(int(r["tune_trial"]) for r in done)
    assert len(numbers) == len(set(numbers)) == trials, numbers
    return done


def test_metrics_hold_intervals_and_the_same_config_gives_the_same_folds(project: Path) -> None:
    first = metrics(project)
    for name in ("accuracy", "f1_macro"):
        test, cv = first["test_interval"][name], first["cv"][name]
        assert test["low"] <= first[name] <= test["high"]
        assert cv["low"] <= cv["mean"] <= cv["high"] and len(cv["folds"]) == 5
        assert cv["mean"] == round(sum(cv["folds"]) / 5, 6)
    assert "cv.accuracy.mean" in sh("dvc metrics show", project).stdout
    sh("dvc repro --force train evaluate", project)
    assert metrics(project) == first  # the same folds (split_id), the same figures
    sh("git checkout -- reports dvc.lock", project)


def test_make_tune_resumes_a_study_under_one_parent_run(project: Path) -> None:
    first = sh("make tune TRIALS=3 SEARCH=tiny STUDY=grow", project).stdout
    assert trials_run(first) == [0, 1, 2], first
    check_study(project, "grow", 3)
    # Asked for more: the first three are kept, only the rest run, under the same parent.
    second = sh("make tune TRIALS=5 SEARCH=tiny STUDY=grow", project).stdout
    assert trials_run(second) == [3, 4], second
    assert "tune: study grow: " in second and "wrote configs/experiment/tuned-grow.yaml" in second
    check_study(project, "grow", 5)
    # Reached: nothing runs.
    assert trials_run(sh("make tune TRIALS=5 SEARCH=tiny STUDY=grow", project).stdout) == []
    # The search never kept the test split.
    assert sorted(p.name for p in (project / "tune/grow/data").iterdir()) == ["schema.json", "train.csv"]


def test_the_best_preset_reproduces_the_best_trials_score(project: Path) -> None:
    runs = study_runs(project, "grow")
    (parent,) = [r for r in runs if r["tune_trial"] == "parent"]
    best = float(parent["best_cv_accuracy_mean"])
    best_trial = next(r for r in runs if r["tune_trial"] == parent["tune_best_trial"])
    assert float(best_trial["cv_accuracy_mean"]) == best
    config = project / "configs/config.yaml"
    shipped = config.read_text(encoding="utf-8")
    config.write_text(shipped.replace("  - experiment: null", "  - experiment: tuned-grow"), encoding="utf-8")
    try:
        sh("make repro", project)
        assert metrics(project)["cv"]["accuracy"]["mean"] == best
    finally:
        config.write_text(shipped, encoding="utf-8")
        sh("make repro", project)


def test_a_killed_tune_resumes_without_running_a_trial_twice(project: Path, tmp_path: Path) -> None:
    command = "make tune TRIALS=3 SEARCH=slower STUDY=killed"
    make = start_in_background(command, project, tmp_path / "tune.log")

    def second_trial_running() -> bool:
        return any(r["tune_trial"] == "1" and r["status"] == "RUNNING" for r in study_runs(project, "killed"))

    wait_for(second_trial_running, "the second trial's run", make, 600)
    os.killpg(make.pid, signal.SIGKILL)  # trial 1 in flight
    make.wait(timeout=60)
    resumed = sh(command, project).stdout
    assert "tune: trial 1 was killed: queued again with the same values" in resumed, resumed
    assert 0 not in trials_run(resumed) and 1 not in trials_run(resumed)
    done = check_study(project, "killed", 3)
    failed = [r for r in study_runs(project, "killed") if r["status"] == "FAILED"]
    assert [r["tune_trial"] for r in failed] == ["1"]
    # The killed trial ran again with its values, once.
    trees = failed[0]["param.model.estimator.n_estimators"]
    assert [r["param.model.estimator.n_estimators"] for r in done].count(trees) >= 1


def test_two_workers_finish_the_asked_trials_between_them(project: Path) -> None:
    # Trials of seconds: the second worker has started (imports) before the first is done with them.
    output = sh("make tune TRIALS=4 WORKERS=2 SEARCH=slow STUDY=pair", project).stdout
    assert sorted(trials_run(output)) == list(range(4)), output
    done = check_study(project, "pair", 4)
    assert len({r["pipeline.pid"] for r in done}) == 2, "the trials did not run in two processes"


def test_submitit_jobs_share_one_study_as_slurm_jobs_would(project: Path) -> None:
    """LAUNCHER=slurm's machinery, without a cluster: submitit's local executor. Another model, so
    the preset also chooses its config group."""
    command = "make tune TRIALS=3 WORKERS=2 LAUNCHER=submitit_local STUDY=jobs ARGS=model=logistic_regression"
    output = sh(command, project).stdout
    assert "tune: 2 submitit_local jobs submitted" in output, output
    check_study(project, "jobs", 3)
    preset = (project / "configs/experiment/tuned-jobs.yaml").read_text(encoding="utf-8")
    assert "- override /model: logistic_regression\n" in preset and "    C: " in preset


def test_make_compare_shows_the_paired_test(project: Path) -> None:
    sh("make train ARGS='experiment=linear'", project)  # the same folds, another model
    default = sh("make compare RUNS=5", project).stdout  # against the best cross-validated row
    accuracy = metrics(project)["cv"]["accuracy"]
    assert f"| {accuracy['mean']:.4g} [{accuracy['low']:.4g}, {accuracy['high']:.4g}] |" in default
    assert "Paired tests against the baseline `" in default and "corrected resampled t-test" in default
    # Against the pipeline's model: the linear model's run is tested on the same folds.
    pipeline_run = json.loads((project / "reports/lineage.json").read_text(encoding="utf-8"))["run_id"]
    table = sh(f"make compare RUNS=5 BASELINE={pipeline_run[:8]}", project).stdout
    assert f"Paired tests against the baseline `baseline ({pipeline_run[:8]})` (MLflow)" in table
    line = r"^- `linear \(\w+\)` \(MLflow\): accuracy [-+][\d.e-]+ \[.*\], (.*)\.$"
    tested = re.findall(line, table, re.M)
    verdict = r"(no significant difference|significantly (better|worse)) in accuracy \(p = "
    assert tested and re.match(verdict, tested[0]), table
    missing = sh("make compare BASELINE=no-such-run", project, check=False)
    assert missing.returncode != 0 and "ERROR: no experiment or run named 'no-such-run'" in missing.stderr


def test_make_paper_table_parses_and_holds_the_runs_numbers(project: Path) -> None:
    sh("make paper-table RUNS=5", project)
    latex = (project / "reports/paper/results.tex").read_text(encoding="utf-8")
    markdown = (project / "reports/paper/results.md").read_text(encoding="utf-8")
    check_latex(latex)
    found = mlflow_query(
        project,
        f"exp = client.get_experiment_by_name({SLUG!r}).experiment_id\n"
        "runs = client.search_runs(\n"
        "    [exp], filter_string=\"tags.task = 'classification' and attributes.status = 'FINISHED'\")\n"
        "result = {r.info.run_name: [r.data.metrics['cv_accuracy_mean'], r.data.metrics['cv_accuracy_std']]\n"
        "          for r in runs if 'cv_accuracy_mean' in r.data.metrics}",
    )
    assert {"baseline", "linear"} <= set(found)
    for name, (mean, std) in found.items():
        row = next(line for line in markdown.splitlines() if line.startswith(f"| {name}"))
        assert f"{mean:.3f} ± {std:.3f}" in row, row
        tex_name = name.replace("_", r"\_")
        tex_row = next(line for line in latex.splitlines() if line.strip().startswith(tex_name))
        assert f"{mean:.3f} \\pm {std:.3f}" in tex_row, tex_row
    best = max(mean for mean, _ in found.values())
    assert f"**{best:.3f} ±" in markdown and r"\mathbf{" + f"{best:.3f}" in latex


def check_latex(text: str) -> None:
    """What a TeX run would refuse, without TeX: unbalanced groups or environments, and a tabular row
    whose cells do not match the column specification."""
    depth = 0
    for char in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "an unclosed {"
    begins = re.findall(r"\\begin\{(\w+)\}", text)
    assert begins == ["table", "tabular"]
    assert re.findall(r"\\end\{(\w+)\}", text) == ["tabular", "table"]
    spec = re.search(r"\\begin\{tabular\}\{([lcr]+)\}", text)
    assert spec is not None
    columns = len(spec.group(1))
    assert text.index(r"\toprule") < text.index(r"\midrule") < text.index(r"\bottomrule")
    table = text.split(r"\toprule")[1].split(r"\bottomrule")[0].replace(r"\midrule", "")
    rows = [row for row in table.splitlines() if row.strip()]
    assert len(rows) >= 3, "a header and at least two rows"
    for row in rows:
        assert row.strip().endswith(r"\\"), row
        assert len(re.split(r"(?<!\\)&", row)) == columns, row
        assert row.count("$") % 2 == 0, f"unbalanced math in {row}"


def test_make_report_shows_the_studies(project: Path) -> None:
    sh("make report RUNS=5", project)
    page = (project / "docs/report.md").read_text(encoding="utf-8")
    search = page.split("## Hyperparameter search", 1)[1]
    assert "### Study `grow`" in search and "preset `configs/experiment/tuned-grow.yaml`" in search
    best = max(float(r["cv_accuracy_mean"]) for r in study_runs(project, "grow") if "cv_accuracy_mean" in r)
    assert f"| {best:.6g} |" in search.split("### Study `grow`", 1)[1]
    for name in ("search_grow_history.png", "search_grow_importances.png", "cv_folds.png"):
        assert f"](report/{name})" in page, name
    sizes = run(
        [str(project / ".venv/bin/python"), "-c", DECODE],
        cwd=project,
    ).stdout.split()
    assert sizes and all(int(size) > 150 for size in sizes), sizes


DECODE = (
    "import pathlib\nfrom PIL import Image\n"
    "for path in sorted(pathlib.Path('docs/report').glob('*.png')):\n"
    "    image = Image.open(path); image.load(); print(*image.size)"
)
