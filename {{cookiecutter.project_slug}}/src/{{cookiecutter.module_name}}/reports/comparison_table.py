"""The comparison table of `make compare` and the report, in Markdown: the metrics, the
cross-validated primary metric, the paired test against the baseline and the differing params,
best first; then the paired tests in words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..evaluate import PRIMARY_METRIC
from ..stats.intervals import PairedTest, verdict
from .baseline import ALPHA, paired
from .experiments import Row
from .tables import MAX_CELL, markdown_table

# Settings that say where files go, not what was tried: never a reason to list a column.
IGNORED_PARAMS = ("paths.",)


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
