"""Compare experiments: the DVC experiments and the latest MLflow runs in one table, best first.

    python -m {{ cookiecutter.module_name }}.compare            # `make compare`
    python -m {{ cookiecutter.module_name }}.compare --runs 20

Rows come from `dvc exp show --json` (the workspace, the last commit and its experiments) and from
the MLflow experiment of params.yaml (finished runs of the same task, newest first). Columns: the
metrics, then only the parameters whose values differ between the rows (where files go, `paths.*`,
is left out). Rows are sorted by the task's primary metric (evaluate.PRIMARY_METRIC).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .config import load_params
from .errors import PipelineError, exit_on_error, first_line
from .evaluate import PRIMARY_METRIC
from .params import Params
from .tables import MAX_CELL, markdown_table

# Settings that say where files go, not what was tried: never a reason to list a column.
IGNORED_PARAMS = ("paths.",)
DEFAULT_RUNS = 10


@dataclass(frozen=True)
class Row:
    """One experiment or run: where it comes from, its name, its flat params and metrics."""

    source: str  # "DVC" or "MLflow"
    name: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested params as {"model.estimator.n_estimators": "100"}: spelt the way MLflow logs them."""
    if isinstance(value, Mapping):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: str(value)}


def dvc_rows(exp_show: Sequence[Mapping[str, Any]]) -> list[Row]:
    """The rows of `dvc exp show --json`: the workspace, each commit and its experiments."""
    rows = []

    def add(entry: Mapping[str, Any], name: str) -> None:
        data = entry.get("data") or {}
        if entry.get("error") or not data:
            return
        params: dict[str, str] = {}
        for content in (data.get("params") or {}).values():
            params.update(flatten(content.get("data") or {}))
        metrics: dict[str, float] = {}
        for content in (data.get("metrics") or {}).values():
            values = content.get("data") or {}
            metrics.update({k: v for k, v in values.items() if isinstance(v, int | float)})
        rows.append(Row("DVC", name, params, metrics))

    for commit in exp_show:
        rev = str(commit.get("rev", ""))
        add(commit, "workspace" if rev == "workspace" else commit.get("name") or rev[:7])
        for experiment in commit.get("experiments") or []:
            for entry in experiment.get("revs") or []:
                add(entry, entry.get("name") or str(entry.get("rev", ""))[:7])
    # An unchanged workspace repeats the last commit: one row is enough.
    if len(rows) > 1 and rows[0].name == "workspace" and same(rows[0], rows[1]):
        rows.pop(0)
    return rows


def same(one: Row, other: Row) -> bool:
    return one.params == other.params and one.metrics == other.metrics


def dvc_experiments() -> list[Row]:
    """`dvc exp show --json` in the current directory, as rows."""
    try:
        result = subprocess.run(
            [sys.executable, "-m", "dvc", "exp", "show", "--json"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError as error:
        raise PipelineError(f"could not run dvc: {error}") from error
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1].removeprefix("ERROR: ")
        raise PipelineError(f"`dvc exp show` failed: {reason}")
    try:
        return dvc_rows(json.loads(result.stdout or "[]"))
    except ValueError as error:
        raise PipelineError(f"`dvc exp show --json` printed no JSON: {error}") from error


def mlflow_runs(experiment: str, task: str, limit: int = DEFAULT_RUNS) -> list[Row]:
    """The newest finished runs of the MLflow experiment that trained a model for this task.

    A tracking server that does not answer raises TrackingServerDown within seconds."""
    from .tracking import use_tracking_store

    use_tracking_store()
    import mlflow

    found = mlflow.search_runs(
        experiment_names=[experiment],
        filter_string=f"attributes.status = 'FINISHED' and tags.task = '{task}'",
        order_by=["attributes.start_time DESC"],
        max_results=limit,
        output_format="list",
    )
    return [
        Row(
            "MLflow",
            f"{run.info.run_name or 'run'} ({run.info.run_id[:8]})",
            dict(run.data.params),
            dict(run.data.metrics),
        )
        for run in found
    ]


def differing_params(rows: Sequence[Row]) -> list[str]:
    """Parameter names whose values are not the same in every row (absent counts as a value)."""
    names = sorted({name for row in rows for name in row.params})
    return [
        name
        for name in names
        if not name.startswith(IGNORED_PARAMS) and len({row.params.get(name) for row in rows}) > 1
    ]


def sort_rows(rows: Sequence[Row], metric: str, higher_is_better: bool) -> list[Row]:
    """Best first by `metric`; rows without it last, in their original order."""
    with_metric = [row for row in rows if metric in row.metrics]
    without = [row for row in rows if metric not in row.metrics]
    ranked = sorted(with_metric, key=lambda row: row.metrics[metric], reverse=higher_is_better)
    return ranked + without


def comparison_table(rows: Sequence[Row], task: str) -> str:
    """The Markdown table: source, name, metrics (primary first), differing params."""
    if not rows:
        return "No DVC experiment or MLflow run to compare yet.\n"
    primary, higher = PRIMARY_METRIC[task]
    metrics = sorted({name for row in rows for name in row.metrics} - {primary, "n_test"})
    metrics = [primary, *metrics]
    params = differing_params(rows)
    headers = ["Source", "Name", *(f"**{primary}**" if m == primary else m for m in metrics)]
    headers += params
    body = [
        [row.source, row.name, *(row.metrics.get(m) for m in metrics)]
        + [row.params.get(p) for p in params]
        for row in sort_rows(rows, primary, higher)
    ]
    order = "highest" if higher else "lowest"
    note = (
        f"Sorted by {primary} ({order} first). Parameters listed: those that differ between rows."
    )
    return markdown_table(headers, body, limit=MAX_CELL) + f"\n{note}\n"


def collect(params: Params, runs: int = DEFAULT_RUNS) -> tuple[list[Row], list[str]]:
    """All rows, and a note for each source that could not be read (so the rest still shows)."""
    rows: list[Row] = []
    problems: list[str] = []
    try:
        rows += dvc_experiments()
    except PipelineError as error:
        problems.append(f"DVC experiments: {error}")
    if runs > 0:
        try:
            rows += mlflow_runs(params.mlflow.experiment, params.data.task, runs)
        except Exception as error:  # an unreachable tracking server must not stop the report
            problems.append(f"MLflow runs: {first_line(error)}")
    return rows, problems


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.module_name }}.compare",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, help="newest MLflow runs to list (0: none)"
    )
    args = parser.parse_args(argv)
    if args.runs < 0:
        parser.error("--runs must be 0 or more")
    params = load_params()
    rows, problems = collect(params, args.runs)
    print(comparison_table(rows, params.data.task), end="")
    for problem in problems:
        print(f"WARNING: {problem}", file=sys.stderr)


if __name__ == "__main__":
    main()
