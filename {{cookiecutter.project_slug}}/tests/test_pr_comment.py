"""The pull request comment body and the experiments table, from fake DVC and MLflow output."""

from __future__ import annotations

from {{ cookiecutter.module_name }}.reports.comparison_table import comparison_table, differing_params
from {{ cookiecutter.module_name }}.reports.experiments import Row, dvc_rows
from {{ cookiecutter.module_name }}.reports.pr_comment import MARKER, build_body

PARAMS_DIFF = {
    "params.yaml": {"model.estimator.n_estimators": {"old": 100, "new": 10, "diff": -90}}
}
METRICS_DIFF = {
    "reports/metrics.json": {
        "n_test": {"old": 30, "new": 30, "diff": 0},
        "f1_macro": {"old": 0.899749, "new": 0.966583, "diff": 0.06683399999999995},
        "accuracy": {"old": 0.9, "new": 0.966667, "diff": 0.06666700000000003},
    }
}


def test_the_body_starts_with_the_marker_and_holds_both_tables() -> None:
    body = build_body(
        PARAMS_DIFF, METRICS_DIFF, "origin/main", "classification", "https://example.com/a/1"
    )
    assert body.startswith(MARKER + "\n")
    expected_metrics = (
        "| Metric | `origin/main` | this branch | change |\n"
        "|---|---:|---:|---|\n"
        "| **accuracy** (primary) | 0.9 | 0.966667 | +0.066667 |\n"
        "| f1_macro | 0.899749 | 0.966583 | +0.066834 |\n"
        "| n_test | 30 | 30 | 0 |\n"
    )
    expected_params = (
        "| Parameter | `origin/main` | this branch |\n"
        "|---|---:|---:|\n"
        "| model.estimator.n_estimators | 100 | 10 |\n"
    )
    assert expected_metrics in body and expected_params in body
    assert "[the `report` artifact of this run](https://example.com/a/1)" in body


def test_nothing_changed_and_a_new_metric_are_said_plainly() -> None:
    metrics = {"reports/metrics.json": {"rmse": {"old": None, "new": 52.1}}}
    body = build_body({}, metrics, "main", "regression")
    assert "No parameter changed." in body
    assert "| **rmse** (primary) | — | 52.1 | — |" in body
    assert "No metrics in either commit." in build_body({}, {}, "main")


def test_several_metric_files_name_the_file() -> None:
    metrics = {
        "a.json": {"x": {"old": 1, "new": 2, "diff": 1}},
        "b.json": {"x": {"old": 1, "new": 1, "diff": 0}},
    }
    body = build_body({}, metrics, "main")
    assert "| a.json: x | 1 | 2 | +1 |" in body and "| b.json: x | 1 | 1 | 0 |" in body


def exp(rev: str, name: str | None, n_estimators: int, accuracy: float, experiments=None):
    params = {"model": {"estimator": {"n_estimators": n_estimators}}, "paths": {"raw": rev}}
    return {
        "rev": rev,
        "name": name,
        "error": None,
        "data": {
            "params": {"params.yaml": {"data": params}},
            "metrics": {"reports/metrics.json": {"data": {"accuracy": accuracy, "n_test": 30}}},
        },
        "experiments": experiments,
    }


def test_dvc_rows_read_commits_and_their_experiments() -> None:
    show = [
        exp("workspace", None, 10, 0.9),
        exp("abc1234def", "main", 10, 0.9, [{"revs": [exp("e1", "quick-fox", 5, 0.95)]}]),
    ]
    rows = dvc_rows(show)
    # The workspace equals the last commit only up to paths.raw here: it stays.
    assert [row.name for row in rows] == ["workspace", "main", "quick-fox"]
    assert rows[2].params["model.estimator.n_estimators"] == "5"
    assert rows[2].metrics == {"accuracy": 0.95, "n_test": 30}
    assert differing_params(rows) == ["model.estimator.n_estimators"]  # paths.* left out


def test_the_table_puts_the_best_first_for_the_task() -> None:
    rows = [
        Row("DVC", "main", {"model.name": "ridge"}, {"rmse": 60.0, "r2": 0.3}),
        Row("MLflow", "run (1)", {"model.name": "forest"}, {"rmse": 52.0, "r2": 0.5}),
        Row("MLflow", "failed (2)", {"model.name": "forest"}, {}),
    ]
    table = comparison_table(rows, "regression")
    lines = table.splitlines()
    assert lines[0] == "| Source | Name | **rmse** | r2 | model.name |"
    assert lines[2:5] == [
        "| MLflow | run (1) | 52 | 0.5 | forest |",
        "| DVC | main | 60 | 0.3 | ridge |",
        "| MLflow | failed (2) | — | — | forest |",
    ]
    assert "Sorted by rmse (lowest first)" in table
    assert comparison_table([], "regression").startswith("No DVC experiment or MLflow run")
