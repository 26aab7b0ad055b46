"""The results report of the current model: `make report`.

    python -m {{ cookiecutter.module_name }}.report
    python -m {{ cookiecutter.module_name }}.report --no-compare    # without the experiments table

Reads what the pipeline wrote (params.yaml, the test split, models/, reports/metrics.json,
reports/predictions.csv, reports/lineage.json) and your model card notes (docs/model-card.md), and
writes:

    docs/report.md        the page of the docs site (`make docs` builds it), images beside it in
    docs/report/*.png     (confusion matrix or predicted-vs-actual and residuals; importance)
    reports/report.html   the same page in one file, images inlined: it opens offline, anywhere

It is not a DVC stage on purpose: it shows the MLflow run and compares experiments, which are
outside the pipeline, and drawing plots would slow every `dvc repro`. It changes no file DVC tracks.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import files, plots
from .artifacts import ArtifactError, ModelMeta, load_artifacts
from .config import load_params
from .data import TableSchema, load_schema, read_split
from .errors import PipelineError, exit_on_error
from .evaluate import PRIMARY_METRIC
from .features import split_xy
from .importance import feature_importance
from .kinds import MISSING_CATEGORY, NUMERIC
from .model_card import MODEL_CARD, read_user_sections, render
from .params import Params
from .tables import markdown_table

REPORT_MD = Path("docs/report.md")
REPORT_HTML = Path("reports/report.html")
TITLE = "Results report"


@dataclass(frozen=True)
class Inputs:
    """Everything the report shows, read from the pipeline's files."""

    params: Params
    schema: TableSchema
    meta: ModelMeta
    model: Any
    metrics: dict[str, float]
    predictions: pd.DataFrame
    train: pd.DataFrame
    test: pd.DataFrame


def read_json(path: Path, what: str) -> Any:
    if not path.is_file():
        raise PipelineError(f"no {what} at {path}: run `make repro` first.")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise PipelineError(f"{path} is not valid JSON ({error}): run `make repro`.") from error


def read_inputs(params: Params) -> Inputs:
    paths = params.paths
    schema = load_schema(Path(paths.schema_))
    try:
        model, meta = load_artifacts(Path(paths.model_dir), Path(paths.lineage))
    except ArtifactError as error:
        raise PipelineError(str(error)) from error
    metrics = read_json(Path(paths.metrics), "metrics")
    if not Path(paths.predictions).is_file():
        raise PipelineError(f"no predictions at {paths.predictions}: run `make repro` first.")
    text = schema.task == "classification"
    predictions = pd.read_csv(
        paths.predictions, dtype=str if text else None, keep_default_na=not text
    )
    return Inputs(
        params=params,
        schema=schema,
        meta=meta,
        model=model,
        metrics=metrics,
        predictions=predictions,
        train=read_split(Path(paths.train), schema),
        test=read_split(Path(paths.test), schema),
    )


# --- figures -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    name: str  # file name, without .png
    title: str
    png: bytes
    caption: str = ""


def figures(inputs: Inputs) -> tuple[list[Figure], str]:
    """The task's plots, then feature importance when there is one; plus the importance note."""
    actual, predicted = inputs.predictions["actual"], inputs.predictions["predicted"]
    if inputs.schema.task == "classification":
        shown = [
            Figure(
                "confusion_matrix",
                "Confusion matrix",
                plots.confusion_matrix(actual, predicted, inputs.meta.classes or []),
                "Rows: the true class; columns: the predicted class. The diagonal is correct.",
            )
        ]
    else:
        shown = [
            Figure(
                "predicted_vs_actual",
                "Predicted against actual",
                plots.predicted_vs_actual(actual, predicted),
                "On the dashed line, the prediction is exact.",
            ),
            Figure(
                "residuals",
                "Residuals",
                plots.residuals(actual, predicted),
                "A trend or a funnel here means an error the model makes systematically.",
            ),
        ]
    x, y = split_xy(inputs.test, inputs.schema.features, inputs.schema.target)
    importance, note = feature_importance(inputs.model, x, y, inputs.params.seed)
    if importance is not None:
        shown.append(
            Figure(
                "feature_importance",
                "Feature importance",
                plots.feature_importance(importance.values),
                note,
            )
        )
    return shown, note


# --- sections ------------------------------------------------------------------------------------


def metrics_section(inputs: Inputs) -> str:
    primary, higher = PRIMARY_METRIC[inputs.schema.task]
    better = "higher" if higher else "lower"
    rows = [
        [f"**{name}** (primary, {better} is better)" if name == primary else name, value]
        for name, value in sorted(inputs.metrics.items(), key=lambda item: item[0] != primary)
    ]
    text = f"## Metrics\n\nOn the test split, from `{inputs.params.paths.metrics}`.\n\n"
    text += markdown_table(["Metric", "Value"], rows)
    if inputs.meta.metrics and inputs.meta.metrics != inputs.metrics:
        text += (
            '\n!!! warning "Out of date"\n    The metrics file does not describe the model in'
            f" `{inputs.params.paths.model_dir}/`: run `make repro`, then `make report`.\n"
        )
    return text


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %"


def data_summary(inputs: Inputs) -> dict[str, str]:
    """Markdown blocks: rows, features by kind, missing values, target balance or range."""
    schema = inputs.schema
    rows = markdown_table(
        ["Split", "Rows"],
        [
            ["training", len(inputs.train)],
            ["test", len(inputs.test)],
            ["total", len(inputs.train) + len(inputs.test)],
        ],
    )
    kinds = markdown_table(
        ["Kind", "Count", "Features"],
        [
            [kind, len(names), ", ".join(names) or "—"]
            for kind, names in (("numeric", schema.numeric), ("categorical", schema.categorical))
        ],
    )
    both = pd.concat([inputs.train, inputs.test], ignore_index=True)
    missing_rows = []
    for name in schema.features:
        column = both[name]
        count = int(
            column.isna().sum()
            if schema.kinds[name] == NUMERIC
            else (column == MISSING_CATEGORY).sum()
        )
        if count:
            missing_rows.append([name, schema.kinds[name], count, share(count, len(both))])
    missing = (
        markdown_table(["Feature", "Kind", "Missing", "Share"], missing_rows)
        if missing_rows
        else "No feature has missing values.\n"
    )
    target = both[schema.target]
    if schema.task == "classification":
        counts = target.value_counts().sort_index()
        balance = markdown_table(
            ["Class", "Rows", "Share"],
            [[str(label), int(n), share(n, len(target))] for label, n in counts.items()],
        )
    else:
        values = target.astype(float)
        balance = markdown_table(
            ["Statistic", "Value"],
            [
                ["minimum", values.min()],
                ["median", values.median()],
                ["mean", values.mean()],
                ["standard deviation", values.std()],
                ["maximum", values.max()],
            ],
        )
    return {"rows": rows, "kinds": kinds, "missing": missing, "target": balance}


def data_section(inputs: Inputs, summary: Mapping[str, str]) -> str:
    kind = "Classes" if inputs.schema.task == "classification" else "Range"
    return (
        f"## Data\n\n`{inputs.params.data.name}` (`{inputs.params.data.source}`), target"
        f" `{inputs.schema.target}`, {inputs.schema.task}. Rows without a target were dropped"
        " by the data stage.\n\n"
        f"### Rows\n\n{summary['rows']}\n### Features by kind\n\n{summary['kinds']}\n"
        f"### Missing values\n\n{summary['missing']}\n"
        f"### Target: {kind.lower()}\n\n{summary['target']}"
    )


def lineage_section(inputs: Inputs) -> str:
    meta, params = inputs.meta, inputs.params
    commit = meta.git_commit or "not a git repository"
    if meta.git_commit and meta.git_dirty:
        commit += " (with uncommitted changes)"
    run = meta.run_id or "not recorded (reports/lineage.json is missing or of another model)"
    rows: list[list[Any]] = [
        ["Git commit", commit],
        ["Data hash (sha256 of the training split)", meta.data_hash],
        ["Configuration", params.name],
        ["Model", f"{params.model.name} ({params.model.estimator['_target_']})"],
        ["Data", f"{params.data.name} ({params.data.source})"],
        ["MLflow experiment", params.mlflow.experiment],
        ["MLflow run", run],
        ["Registered model version", meta.model_version],
        ["Trained at (UTC)", meta.trained_at],
    ]
    settings = yaml.safe_dump(
        {"model": params.model.model_dump(), "seed": params.seed}, sort_keys=False
    )
    return (
        "## Lineage\n\n"
        + markdown_table(["", "Value"], [[f"**{k}**", v] for k, v in rows])
        + f"\nThe model's settings (from `params.yaml`):\n\n```yaml\n{settings}```\n"
    )


def card_facts(inputs: Inputs) -> dict[str, str]:
    """The generated sections of the model card."""
    schema, params = inputs.schema, inputs.params
    total = len(inputs.train) + len(inputs.test)
    primary, _ = PRIMARY_METRIC[schema.task]
    training = (
        f"`{params.data.name}` from `{params.data.source}`: {total:,} rows with a target,"
        f" {len(schema.features)} features ({len(schema.numeric)} numeric,"
        f" {len(schema.categorical)} categorical), split {len(inputs.train):,} for training and"
        f" {len(inputs.test):,} for testing (seed {params.seed}"
        + (", stratified by class" if schema.task == "classification" else "")
        + f"). Data hash `{(inputs.meta.data_hash or '')[:12]}`; see [Data](#data)."
    )
    scores = ", ".join(
        f"{name} {value:.4g}" for name, value in inputs.metrics.items() if name != "n_test"
    )
    evaluation = (
        f"On the held-out test split ({inputs.metrics.get('n_test', len(inputs.test))} rows):"
        f" {scores}. The primary metric is {primary}. See [Metrics](#metrics) and"
        " [Plots](#plots)."
    )
    return {"Training data": training, "Evaluation": evaluation}


def plots_section(shown: Sequence[Figure], note: str, source: Callable[[Figure], str]) -> str:
    text = "## Plots\n\n"
    for figure in shown:
        text += f"### {figure.title}\n\n![{figure.title}]({source(figure)})\n\n"
        if figure.caption:
            text += f"{figure.caption}\n\n"
    if not any(f.name == "feature_importance" for f in shown):
        text += f"### Feature importance\n\n{note}\n\n"
    return text


def comparison_section(params: Params, runs: int) -> str:
    from .compare import collect, comparison_table

    rows, problems = collect(params, runs)
    text = (
        "## Experiments compared\n\nThe DVC experiments (`dvc exp show`) and the newest MLflow"
        " runs of this task (`make compare` prints the same table).\n\n"
    )
    text += comparison_table(rows, params.data.task)
    for problem in problems:
        text += f'\n!!! note "Not shown"\n    {problem}\n'
        print(f"WARNING: {problem}", file=sys.stderr)  # the page says it; the terminal too
    return text


def build_markdown(
    inputs: Inputs,
    summary: Mapping[str, str],
    shown: Sequence[Figure],
    note: str,
    source: Callable[[Figure], str],
    card: str,
    comparison: str | None,
) -> str:
    parts = [
        f"# {TITLE}\n\n"
        f"The model in `{inputs.params.paths.model_dir}/`, written by `make report` from the"
        " pipeline's files. Edit the model card's own sections in"
        f" `{MODEL_CARD}`; everything else here is generated.\n",
        metrics_section(inputs),
        plots_section(shown, note, source),
        data_section(inputs, summary),
        lineage_section(inputs),
        card,
    ]
    if comparison is not None:
        parts.append(comparison)
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


# --- output --------------------------------------------------------------------------------------

STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
tr:nth-child(even) { background: #f6f6f6; }
img { max-width: 100%; }
pre { background: #f4f4f4; padding: 0.75rem; overflow-x: auto; }
.admonition { border-left: 4px solid #e0a800; background: #fff8e1; padding: 0.25rem 1rem; }
.admonition-title { font-weight: bold; }
"""


def to_html(markdown_text: str) -> str:
    """One self-contained page: the Markdown rendered, the styles inline, no external reference."""
    import markdown

    body = markdown.markdown(
        markdown_text, extensions=["tables", "fenced_code", "admonition", "toc"]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{TITLE}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n"
        "</html>\n"
    )


def write_report(
    params: Params,
    markdown_path: Path = REPORT_MD,
    html_path: Path = REPORT_HTML,
    card_path: Path = MODEL_CARD,
    runs: int | None = 10,
) -> list[Path]:
    """Write the page, its images and the HTML file; return the paths written.

    runs=None leaves out the comparison of experiments (DVC and MLflow are not asked).
    """
    inputs = read_inputs(params)
    shown, note = figures(inputs)
    image_dir = markdown_path.with_suffix("")
    summary = data_summary(inputs)
    card = render(card_facts(inputs), read_user_sections(card_path), card_path)
    comparison = None if runs is None else comparison_section(params, runs)
    page = build_markdown(
        inputs, summary, shown, note, lambda f: f"{image_dir.name}/{f.name}.png", card, comparison
    )
    inline = build_markdown(
        inputs,
        summary,
        shown,
        note,
        lambda f: "data:image/png;base64," + base64.b64encode(f.png).decode("ascii"),
        card,
        comparison,
    )
    written = []
    image_dir.mkdir(parents=True, exist_ok=True)
    for old in image_dir.glob("*.png"):  # a plot of another task must not linger
        if old.stem not in {f.name for f in shown}:
            old.unlink()
    for figure in shown:
        path = image_dir / f"{figure.name}.png"
        files.write_bytes(path, figure.png)
        written.append(path)
    files.write_text(markdown_path, page)
    files.write_text(html_path, to_html(inline))
    return [markdown_path, *written, html_path]


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m {{ cookiecutter.module_name }}.report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--markdown", type=Path, default=REPORT_MD, help="the docs page")
    parser.add_argument("--html", type=Path, default=REPORT_HTML, help="the one-file page")
    parser.add_argument("--model-card", type=Path, default=MODEL_CARD, help="your card sections")
    parser.add_argument("--runs", type=int, default=10, help="newest MLflow runs to compare")
    parser.add_argument("--no-compare", action="store_true", help="leave out the comparison")
    args = parser.parse_args(argv)
    if args.runs < 0:
        parser.error("--runs must be 0 or more")
    written = write_report(
        load_params(args.params),
        args.markdown,
        args.html,
        args.model_card,
        None if args.no_compare else args.runs,
    )
    print("report: wrote " + ", ".join(str(path) for path in written))


if __name__ == "__main__":
    sys.exit(main())
