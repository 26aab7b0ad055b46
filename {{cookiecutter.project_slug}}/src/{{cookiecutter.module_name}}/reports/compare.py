"""Compare experiments: the DVC experiments and the latest MLflow runs in one table, best first.

    python -m {{ cookiecutter.module_name }}.reports.compare            # `make compare`
    python -m {{ cookiecutter.module_name }}.reports.compare --runs 20

Rows come from `dvc exp show --json` (the workspace, the last commit and its experiments) and from
the MLflow experiment of params.yaml (finished runs of the same task, newest first). Columns: the
metrics, the cross-validated primary metric with its interval, the paired test against the
baseline, then only the parameters whose values differ between the rows (where files go,
`paths.*`, is left out). Rows are sorted by the task's primary metric (evaluate.PRIMARY_METRIC).

The baseline (--baseline: a run id, its first characters, or a row's name; by default the run of
the registered model's `champion` version, else the row with the best cross-validated score) is
compared with every row cross-validated on the same folds (the same data, folds and seed: equal
split ids) by the corrected resampled t-test (stats.paired_test).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import load_params
from ..evaluate import PRIMARY_METRIC
from ..params import Params
from ..stats.intervals import PairedTest, paired_test, verdict
from ..utils.cli import command_parser
from ..utils.errors import PipelineError, exit_on_error, first_line
from .tables import MAX_CELL, markdown_table

# Settings that say where files go, not what was tried: never a reason to list a column.
IGNORED_PARAMS = ("paths.",)
DEFAULT_RUNS = 10
# The significance level of the paired tests.
ALPHA = 0.05


@dataclass(frozen=True)
class Row:
    """One experiment or run: where it comes from, its name, its flat params and metrics."""

    source: str  # "DVC" or "MLflow"
    name: str
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    # The cross-validation: metric -> {mean, std, low, high}; metric -> fold scores; its folds.
    cv: dict[str, dict[str, float]] = field(default_factory=dict)
    folds: dict[str, list[float]] = field(default_factory=dict)
    split_id: str | None = None
    k: int | None = None
    run_id: str | None = None
    rev: str | None = None  # of a DVC row: "workspace" or a git revision


def flatten(value: Any, prefix: str = "") -> dict[str, str]:
    """Nested params as {"model.estimator.n_estimators": "100"}: spelt the way MLflow logs them."""
    if isinstance(value, Mapping):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: str(value)}


def dvc_rows(exp_show: Sequence[Mapping[str, Any]]) -> list[Row]:
    """The rows of `dvc exp show --json`: the workspace, each commit and its experiments.

    DVC leaves lists out of the metrics it shows: the fold scores are read by fold_scores_at.
    """
    rows = []

    def add(entry: Mapping[str, Any], name: str) -> None:
        data = entry.get("data") or {}
        if entry.get("error") or not data:
            return
        params: dict[str, str] = {}
        for content in (data.get("params") or {}).values():
            params.update(flatten(content.get("data") or {}))
        metrics: dict[str, float] = {}
        cv: dict[str, Any] = {}
        for content in (data.get("metrics") or {}).values():
            values = content.get("data") or {}
            metrics.update({k: v for k, v in values.items() if isinstance(v, int | float)})
            found = values.get("cv")
            cv = found if isinstance(found, dict) else cv
        summaries = {m: v for m, v in cv.items() if isinstance(v, dict) and "mean" in v}
        rows.append(
            Row(
                "DVC",
                name,
                params,
                metrics,
                cv={
                    m: {k: v[k] for k in ("mean", "std", "low", "high")}
                    for m, v in summaries.items()
                },
                folds={m: list(v.get("folds") or []) for m, v in summaries.items()},
                split_id=cv.get("split_id"),
                k=cv.get("k"),
                rev=str(entry.get("rev", "")) or None,
            )
        )

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


def fold_scores_at(rev: str, path: str) -> dict[str, list[float]]:
    """The fold scores in the cross-validation file (paths.cv) at a git revision (or the
    workspace); empty when it is not there."""
    if rev == "workspace":
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError:
            return {}
    else:
        shown = subprocess.run(
            ["git", "show", f"{rev}:{path}"], capture_output=True, text=True, check=False
        )
        if shown.returncode != 0:
            return {}
        text = shown.stdout
    try:
        cv = json.loads(text)
    except ValueError:
        return {}
    return {
        name: list(value["folds"])
        for name, value in cv.items()
        if isinstance(value, dict) and isinstance(value.get("folds"), list)
    }


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
    from ..tracking.training_run import use_tracking_store

    use_tracking_store()
    import mlflow

    found = mlflow.search_runs(
        experiment_names=[experiment],
        filter_string=f"attributes.status = 'FINISHED' and tags.task = '{task}'",
        order_by=["attributes.start_time DESC"],
        max_results=limit,
        output_format="list",
    )
    return [mlflow_row(run) for run in found]


def mlflow_row(run: Any) -> Row:
    """A run as a row; its fold scores are the history of each cv_<metric>_fold metric."""
    from mlflow import MlflowClient

    metrics = dict(run.data.metrics)
    cv: dict[str, dict[str, float]] = {}
    for key, value in metrics.items():
        if key.startswith("cv_") and key.rsplit("_", 1)[-1] in ("mean", "std", "low", "high"):
            name, part = key[3:].rsplit("_", 1)
            cv.setdefault(name, {})[part] = value
    client = MlflowClient()
    folds = {
        name: [
            m.value
            for m in sorted(
                client.get_metric_history(run.info.run_id, f"cv_{name}_fold"), key=lambda m: m.step
            )
        ]
        for name in cv
    }
    # The test metrics alone: the cross-validation and the intervals are columns of their own.
    plain = {
        k: v
        for k, v in metrics.items()
        if not k.startswith("cv_") and not k.endswith(("_low", "_high"))
    }
    k = run.data.tags.get("cv_folds")
    return Row(
        "MLflow",
        f"{run.info.run_name or 'run'} ({run.info.run_id[:8]})",
        dict(run.data.params),
        plain,
        cv=cv,
        folds=folds,
        split_id=run.data.tags.get("cv_split_id"),
        k=int(k) if k and k.isdigit() else None,
        run_id=run.info.run_id,
    )


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


def comparison_table(
    rows: Sequence[Row], task: str, baseline: Row | None = None, confidence: float = 0.95
) -> str:
    """The Markdown table: source, name, metrics (primary first), the cross-validated primary
    metric and the paired test against the baseline, differing params; then the tests in words."""
    if not rows:
        return "No DVC experiment or MLflow run to compare yet.\n"
    primary, higher = PRIMARY_METRIC[task]
    metrics = sorted({name for row in rows for name in row.metrics} - {primary, "n_test"})
    metrics = [primary, *metrics]
    params = differing_params(rows)
    headers = ["Source", "Name", *(f"**{primary}**" if m == primary else m for m in metrics)]
    # The cross-validation's columns once a row has one (runs from before it have none).
    validated = any(primary in row.cv for row in rows)
    if validated:
        headers += [f"CV {primary} [{100 * confidence:g} % CI]", "vs baseline"]
    headers += params
    tests = {id(row): paired(row, baseline, primary, confidence) for row in rows}
    body = [
        [row.source, row.name, *(row.metrics.get(m) for m in metrics)]
        + ([cv_cell(row, primary), versus_cell(row, baseline, tests[id(row)])] if validated else [])
        + [row.params.get(p) for p in params]
        for row in sort_rows(rows, primary, higher)
    ]
    order = "highest" if higher else "lowest"
    note = (
        f"Sorted by {primary} ({order} first). Parameters listed: those that differ between rows."
    )
    text = markdown_table(headers, body, limit=MAX_CELL) + f"\n{note}\n"
    return text + (tests_text(rows, baseline, tests, primary, higher) if validated else "")


def cv_cell(row: Row, metric: str) -> str | None:
    summary = row.cv.get(metric)
    if not summary or "mean" not in summary:
        return None
    return f"{summary['mean']:.4g} [{summary.get('low', 0):.4g}, {summary.get('high', 0):.4g}]"


def paired(row: Row, baseline: Row | None, metric: str, confidence: float) -> PairedTest | None:
    """The paired test of row against the baseline on their common folds, when they share them."""
    if baseline is None or row is baseline or not row.split_id or row.split_id != baseline.split_id:
        return None
    mine, theirs = row.folds.get(metric) or [], baseline.folds.get(metric) or []
    if len(mine) != len(theirs) or len(mine) < 2 or not row.k or row.k < 2:
        return None
    return paired_test(mine, theirs, 1 / (row.k - 1), confidence)


def versus_cell(row: Row, baseline: Row | None, test: PairedTest | None) -> str | None:
    if baseline is None:
        return None
    if row is baseline:
        return "baseline"
    if test is None:
        return "other folds" if row.folds else None
    mark = "*" if test.p_value < ALPHA else ""
    return f"{test.difference:+.4g}, p = {test.p_value:.3g}{mark}"


def tests_text(
    rows: Sequence[Row],
    baseline: Row | None,
    tests: Mapping[int, PairedTest | None],
    metric: str,
    higher: bool,
) -> str:
    if baseline is None:
        return "\nNo baseline: no row has a cross-validated score.\n"
    lines = [
        f"\nPaired tests against the baseline `{baseline.name}` ({baseline.source}):"
        " the corrected resampled t-test (Nadeau and Bengio) on the same cross-validation folds;"
        f" `*`: significant at the {100 * ALPHA:g} % level.\n"
    ]
    for row in rows:
        test = tests[id(row)]
        if test is not None:
            lines.append(
                f"- `{row.name}` ({row.source}): {metric} {test.difference:+.4g}"
                f" [{test.low:.4g}, {test.high:.4g}], {verdict(test, metric, higher, ALPHA)}."
            )
    if len(lines) == 1:
        lines.append("- No other row was cross-validated on the baseline's folds.")
    return "\n".join(lines) + "\n"


def find_baseline(rows: list[Row], params: Params, wanted: str | None) -> Row | None:
    """The row named by `wanted`; else the registered champion's run; else the best CV score."""
    primary, higher = PRIMARY_METRIC[params.data.task]
    if wanted:
        for row in rows:
            if wanted in (row.name, row.run_id) or (row.run_id or "").startswith(wanted):
                return row
            if row.name.startswith(f"{wanted} (") or row.name == wanted:
                return row
        raise PipelineError(f"no experiment or run named {wanted!r} to compare against.")
    champion = champion_run(params)
    if champion is not None:
        for row in rows:
            if row.run_id == champion:
                return row
        from mlflow import MlflowClient

        row = mlflow_row(MlflowClient().get_run(champion))
        rows.append(row)
        return row
    scored = [row for row in rows if "mean" in row.cv.get(primary, {})]
    if not scored:
        return None
    best = max if higher else min
    return best(scored, key=lambda row: row.cv[primary]["mean"])


def champion_run(params: Params) -> str | None:
    """The run id of the registered model's `champion` version, if there is one."""
    name = params.mlflow.registered_model
    if not name:
        return None
    try:
        from mlflow import MlflowClient

        from ..tracking.training_run import use_tracking_store

        use_tracking_store()
        return str(MlflowClient().get_model_version_by_alias(name, "champion").run_id)
    except Exception:  # no such model or alias, or no server: fall back to the best row
        return None


def collect(params: Params, runs: int = DEFAULT_RUNS) -> tuple[list[Row], list[str]]:
    """All rows, and a note for each source that could not be read (so the rest still shows)."""
    rows: list[Row] = []
    problems: list[str] = []
    try:
        found = dvc_experiments()
        for row in found:
            if row.rev and row.cv:
                row.folds.update(fold_scores_at(row.rev, params.paths.cv))
        rows += found
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
    parser = command_parser("reports.compare", __doc__)
    parser.add_argument(
        "--runs", type=int, default=DEFAULT_RUNS, help="newest MLflow runs to list (0: none)"
    )
    parser.add_argument("--baseline", help="run id (or its start) or name to test against")
    args = parser.parse_args(argv)
    if args.runs < 0:
        parser.error("--runs must be 0 or more")
    params = load_params()
    rows, problems = collect(params, args.runs)
    baseline = find_baseline(rows, params, args.baseline)
    table = comparison_table(rows, params.data.task, baseline, params.evaluation.confidence)
    print(table, end="")
    for problem in problems:
        print(f"WARNING: {problem}", file=sys.stderr)


if __name__ == "__main__":
    main()
