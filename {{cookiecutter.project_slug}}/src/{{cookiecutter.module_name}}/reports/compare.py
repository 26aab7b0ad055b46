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

import sys
from collections.abc import Sequence

from ..config import load_params
from ..utils.cli import command_parser
from ..utils.errors import exit_on_error
from .baseline import find_baseline
from .comparison_table import comparison_table
from .experiments import DEFAULT_RUNS, collect

# Its parts: experiments.py gathers the rows, baseline.py picks the baseline and tests the rows
# against it, comparison_table.py writes the table.


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
