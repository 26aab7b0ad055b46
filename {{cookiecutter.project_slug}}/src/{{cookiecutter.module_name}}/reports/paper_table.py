"""The compared runs as a results table for a paper: LaTeX (booktabs) and Markdown.

    python -m {{ cookiecutter.module_name }}.reports.paper_table          # `make paper-table`
    python -m {{ cookiecutter.module_name }}.reports.paper_table --runs 20 --baseline 3f2a9c

One row per MLflow training run with a cross-validated score (the newest --runs, as `make compare`
lists them; a configuration trained twice shows once), one column per metric: the cross-validated
mean ± standard deviation over the folds. The best value of each column is in bold; a dagger marks
a value that differs significantly from the baseline's (the paired test of `make compare`, at the
5 % level, on the same folds). Writes reports/paper/results.tex (\\usepackage{booktabs}) and
reports/paper/results.md, and prints the Markdown.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import load_params
from ..evaluate import PRIMARY_METRIC, higher_is_better
from ..utils import files
from ..utils.cli import command_parser
from ..utils.errors import PipelineError, exit_on_error
from .baseline import ALPHA, find_baseline, paired
from .experiments import Row, collect

OUTPUT_DIR = Path("reports/paper")
LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}


@dataclass(frozen=True)
class Cell:
    mean: float
    std: float
    best: bool
    significant: bool


@dataclass(frozen=True)
class Table:
    metrics: list[str]
    labels: list[str]
    cells: list[list[Cell | None]]  # [row][metric]
    baseline: str | None
    folds: str  # "5 folds x 1", for the caption


def latex_escape(text: str) -> str:
    return "".join(LATEX_SPECIAL.get(char, char) for char in text)


def rows_for_paper(rows: Sequence[Row]) -> list[Row]:
    """MLflow runs with a cross-validation, newest first, one per configuration."""
    seen: set[tuple[tuple[str, str], ...]] = set()
    kept = []
    for row in rows:
        if row.source != "MLflow" or not row.cv:
            continue
        key = tuple(sorted(row.params.items()))
        if key in seen:
            continue
        seen.add(key)
        kept.append(row)
    return kept


def labels_of(rows: Sequence[Row]) -> list[str]:
    """The run name alone when it is unique, else with the run id's start."""
    names = [row.name.rsplit(" (", 1)[0] for row in rows]
    return [
        name if names.count(name) == 1 else row.name for name, row in zip(names, rows, strict=True)
    ]


def build_table(rows: Sequence[Row], baseline: Row | None, task: str, confidence: float) -> Table:
    primary, _ = PRIMARY_METRIC[task]
    metrics = [primary, *sorted({m for row in rows for m in row.cv} - {primary})]
    best: dict[str, float] = {}
    for metric in metrics:
        values = [row.cv[metric]["mean"] for row in rows if metric in row.cv]
        if values:
            best[metric] = max(values) if higher_is_better(metric) else min(values)
    cells: list[list[Cell | None]] = []
    for row in rows:
        line: list[Cell | None] = []
        for metric in metrics:
            summary = row.cv.get(metric)
            if not summary:
                line.append(None)
                continue
            test = paired(row, baseline, metric, confidence)
            line.append(
                Cell(
                    summary["mean"],
                    summary.get("std", 0.0),
                    summary["mean"] == best.get(metric),
                    test is not None and test.p_value < ALPHA,
                )
            )
        cells.append(line)
    ks = sorted({f"{row.k} folds" for row in rows if row.k})
    labels = labels_of(rows)
    base = labels[list(rows).index(baseline)] if baseline is not None and baseline in rows else None
    return Table(metrics, labels, cells, base, ", ".join(ks) or "cross-validation")


def number(value: float) -> str:
    return f"{value:.3f}"


@dataclass(frozen=True)
class Spelling:
    """How one output format writes a table's cells and names."""

    absent: str
    plain: Callable[[str, str], str]  # mean, std
    bold: Callable[[str, str], str]
    dagger: str
    name: Callable[[str], str]


LATEX = Spelling(
    absent="--",
    plain=lambda mean, std: f"${mean} \\pm {std}$",
    bold=lambda mean, std: "$\\mathbf{" + f"{mean} \\pm {std}" + "}$",
    dagger=r"\textsuperscript{\dag}",
    name=latex_escape,
)
MARKDOWN = Spelling(
    absent="—",
    plain=lambda mean, std: f"{mean} ± {std}",
    bold=lambda mean, std: f"**{mean} ± {std}**",
    dagger=" †",
    name=lambda label: label.replace("|", "\\|"),
)


def spelt_rows(table: Table, spelling: Spelling) -> list[tuple[str, list[str]]]:
    """Each row's name and cell texts in one output format."""
    rows = []
    for label, line in zip(table.labels, table.cells, strict=True):
        texts = []
        for cell in line:
            if cell is None:
                texts.append(spelling.absent)
                continue
            write = spelling.bold if cell.best else spelling.plain
            texts.append(
                write(number(cell.mean), number(cell.std))
                + (spelling.dagger if cell.significant else "")
            )
        name = spelling.name(label) + (" (baseline)" if label == table.baseline else "")
        rows.append((name, texts))
    return rows


def to_latex(table: Table) -> str:
    """A booktabs table; needs \\usepackage{booktabs} in the preamble."""
    lines = [
        r"\begin{table}[t]",
        r"  \centering",
        "  \\begin{tabular}{l" + "c" * len(table.metrics) + "}",
        r"    \toprule",
        "    Model & " + " & ".join(latex_escape(m) for m in table.metrics) + r" \\",
        r"    \midrule",
    ]
    lines += [
        f"    {name} & " + " & ".join(texts) + r" \\" for name, texts in spelt_rows(table, LATEX)
    ]
    caption = (
        f"Cross-validated mean $\\pm$ standard deviation ({latex_escape(table.folds)} of the"
        " training split). Best per column in bold."
    )
    if table.baseline:
        caption += (
            r" \dag: significantly different from the baseline (corrected resampled t-test,"
            f" $p < {ALPHA:g}$)."
        )
    lines += [
        r"    \bottomrule",
        r"  \end{tabular}",
        "  \\caption{" + caption + "}",
        r"  \label{tab:results}",
        r"\end{table}",
    ]
    return "\n".join(lines) + "\n"


def to_markdown(table: Table) -> str:
    header = "| Model | " + " | ".join(table.metrics) + " |"
    lines = [header, "|---|" + "---:|" * len(table.metrics)]
    lines += [
        f"| {name} | " + " | ".join(texts) + " |" for name, texts in spelt_rows(table, MARKDOWN)
    ]
    note = (
        f"\nCross-validated mean ± standard deviation ({table.folds} of the training split)."
        " Best per column in bold."
    )
    if table.baseline:
        note += f" †: significantly different from the baseline (p < {ALPHA:g})."
    return "\n".join(lines) + "\n" + note + "\n"


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("reports.paper_table", __doc__)
    parser.add_argument("--runs", type=int, default=10, help="newest MLflow runs to consider")
    parser.add_argument("--baseline", help="run id (or its start) or name to test against")
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR, help="where the files go")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be 1 or more")
    params = load_params()
    found, problems = collect(params, args.runs)
    for problem in problems:
        print(f"WARNING: {problem}", file=sys.stderr)
    rows = rows_for_paper(found)
    if not rows:
        raise PipelineError("no MLflow run with a cross-validated score: run `make repro` first.")
    baseline = find_baseline(rows, params, args.baseline)
    if baseline is not None and baseline not in rows:
        rows.append(baseline)
    table = build_table(rows, baseline, params.data.task, params.evaluation.confidence)
    markdown = to_markdown(table)
    files.write_text(args.output / "results.tex", to_latex(table))
    files.write_text(args.output / "results.md", markdown)
    print(markdown, end="")
    print(f"paper-table: wrote {args.output / 'results.tex'} and {args.output / 'results.md'}")


if __name__ == "__main__":
    main()
