"""The pull request comment: params and metrics of this branch against the base branch.

    python -m {{ cookiecutter.module_name }}.reports.pr_comment --base origin/main --output comment.md

Runs `dvc params diff <base> --json` and `dvc metrics diff <base> --json --all` (the workspace,
after `make repro`, against the base commit's committed params.yaml and reports/metrics.json) and
writes one Markdown comment. Its first line is a hidden marker, so CI finds the comment it posted
before and updates it instead of adding another (.github/workflows/ci.yml).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..evaluate import PRIMARY_METRIC
from ..utils.cli import command_parser
from ..utils.errors import PipelineError, exit_on_error
from .tables import markdown_table

MARKER = "<!-- {{ cookiecutter.project_slug }}: pipeline results -->"


def dvc_diff(kind: str, base: str) -> dict[str, Any]:
    """`dvc <kind> diff <base> --json` as parsed JSON; PipelineError with DVC's own message."""
    command = [sys.executable, "-m", "dvc", kind, "diff", base, "--json"]
    if kind == "metrics":
        command.append("--all")  # unchanged metrics too: the table shows the whole picture
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or ["no output"])[-1].removeprefix("ERROR: ")
        raise PipelineError(f"`dvc {kind} diff {base}` failed: {reason}")
    try:
        diff: dict[str, Any] = json.loads(result.stdout or "{}")
    except ValueError as error:
        raise PipelineError(f"`dvc {kind} diff --json` printed no JSON: {error}") from error
    return diff


def signed(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "—"
    return f"{value:+.6g}" if value else "0"


def rows_of(
    diff: Mapping[str, Mapping[str, Mapping[str, Any]]],
) -> list[tuple[str, Mapping[str, Any]]]:
    """(name, {old, new, diff}) for every entry; names carry the file when there are several."""
    several = len(diff) > 1
    return [
        (f"{path}: {name}" if several else name, change)
        for path, entries in sorted(diff.items())
        for name, change in entries.items()
    ]


def metrics_table(diff: Mapping[str, Any], base: str, primary: str | None) -> str:
    rows = rows_of(diff)
    if not rows:
        return "No metrics in either commit.\n"
    rows.sort(key=lambda row: (row[0] != primary, row[0]))
    return markdown_table(
        ["Metric", f"`{base}`", "this branch", "change"],
        [
            [
                f"**{name}** (primary)" if name == primary else name,
                c.get("old"),
                c.get("new"),
                signed(c.get("diff")),
            ]
            for name, c in rows
        ],
    )


def params_table(diff: Mapping[str, Any], base: str) -> str:
    rows = sorted(rows_of(diff))
    if not rows:
        return "No parameter changed.\n"
    return markdown_table(
        ["Parameter", f"`{base}`", "this branch"],
        [[name, c.get("old"), c.get("new")] for name, c in rows],
        limit=80,
    )


def build_body(
    params_diff: Mapping[str, Any],
    metrics_diff: Mapping[str, Any],
    base: str,
    task: str | None = None,
    report_url: str | None = None,
) -> str:
    """The comment's Markdown, starting with MARKER."""
    primary = PRIMARY_METRIC[task][0] if task in PRIMARY_METRIC else None
    where = (
        f"[the `report` artifact of this run]({report_url})"
        if report_url
        else "the `report` artifact of this workflow run"
    )
    return (
        f"{MARKER}\n## Pipeline results against `{base}`\n\n"
        "This branch reproduced with `make repro`, compared with the base branch's committed"
        " `params.yaml` and metrics.\n\n"
        f"### Metrics\n\n{metrics_table(metrics_diff, base, primary)}\n"
        f"### Parameters that changed\n\n{params_table(params_diff, base)}\n"
        "### Plots and the full report\n\n"
        f"The plots, data summary, lineage and model card are in {where}: download it and open"
        " `reports/report.html` (GitHub comments cannot show images from a workflow run).\n"
    )


def current_task(params_file: Path = Path("params.yaml")) -> str | None:
    from ..config import read_params

    try:
        task = (read_params(params_file).get("data") or {}).get("task")
    except PipelineError:
        return None
    return str(task) if task else None


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("reports.pr_comment", __doc__)
    parser.add_argument("--base", required=True, help="the git revision to compare against")
    parser.add_argument("--report-url", help="where the uploaded report can be downloaded")
    parser.add_argument("--output", type=Path, help="write the body here (default: stdout)")
    args = parser.parse_args(argv)
    body = build_body(
        dvc_diff("params", args.base),
        dvc_diff("metrics", args.base),
        args.base,
        current_task(),
        args.report_url,
    )
    if args.output is None:
        print(body, end="")
    else:
        args.output.write_text(body, encoding="utf-8")
        print(f"pr_comment: wrote {args.output}")


if __name__ == "__main__":
    main()
