"""The results report of the current model: `make report`.

    python -m {{ cookiecutter.module_name }}.reports.report
    python -m {{ cookiecutter.module_name }}.reports.report --no-compare    # without the experiments table

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

import base64
import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from ..artifact.model_dir import ArtifactError, ModelMeta, load_artifacts
from ..config import load_params
from ..data import TableSchema, load_schema, read_split
from ..evaluate import PRIMARY_METRIC
from ..features import split_xy
from ..params import Params
from ..utils import files
from ..utils.cli import command_parser
from ..utils.errors import PipelineError, exit_on_error
from ..utils.kinds import MISSING_CATEGORY, NUMERIC
from . import plots
from .importance import feature_importance
from .model_card import MODEL_CARD, read_user_sections, render
from .tables import literal, markdown_table

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
    # The metrics file's nested entries: `cv` and `test_interval` (see stages/evaluate.py).
    estimates: dict[str, Any] = field(default_factory=dict)


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
    written = read_json(Path(paths.metrics), "metrics")
    metrics = {k: v for k, v in written.items() if isinstance(v, int | float)}
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
        estimates={k: v for k, v in written.items() if isinstance(v, dict)},
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
    if "cv" in inputs.estimates:
        shown.append(fold_scores_figure(inputs))
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
            [kind, len(names), ", ".join(map(literal, names)) or "—"]
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
            missing_rows.append([literal(name), schema.kinds[name], count, share(count, len(both))])
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


def rows_note(schema: TableSchema) -> str:
    """What the data stage did with the rows, as it recorded it in the schema."""
    if schema.rows_read is None or schema.rows_without_target is None:
        return ""  # a schema from before the data stage recorded it: say nothing rather than guess
    if not schema.rows_without_target:
        return f" The data stage read {schema.rows_read:,} rows, each with a target."
    return (
        f" The data stage read {schema.rows_read:,} rows and dropped the"
        f" {schema.rows_without_target:,} without a target."
    )


def data_section(inputs: Inputs, summary: Mapping[str, str]) -> str:
    kind = "Classes" if inputs.schema.task == "classification" else "Range"
    return (
        f"## Data\n\n`{inputs.params.data.name}` (`{inputs.params.data.source}`), target"
        f" `{inputs.schema.target}`, {inputs.schema.task}.{rows_note(inputs.schema)}\n\n"
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
    evaluation += uncertainty_card_text(inputs, primary)
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
    from .compare import collect, comparison_table, find_baseline

    rows, problems = collect(params, runs)
    text = (
        "## Experiments compared\n\nThe DVC experiments (`dvc exp show`) and the newest MLflow"
        " runs of this task (`make compare` prints the same table).\n\n"
    )
    try:
        baseline = find_baseline(rows, params, None)
    except Exception as error:  # an unreachable tracking server must not stop the report
        baseline = None
        problems.append(f"the baseline: {error}")
    text += comparison_table(rows, params.data.task, baseline, params.evaluation.confidence)
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
    search: Callable[[Callable[[Figure], str]], str] | None = None,
) -> str:
    parts = [
        f"# {TITLE}\n\n"
        f"The model in `{inputs.params.paths.model_dir}/`, written by `make report` from the"
        " pipeline's files. Edit the model card's own sections in"
        f" `{MODEL_CARD}`; everything else here is generated.\n",
        metrics_section(inputs),
        uncertainty_section(inputs),
        plots_section(shown, note, source),
        data_section(inputs, summary),
        lineage_section(inputs),
        card,
    ]
    if comparison is not None:
        parts.append(comparison)
    if search is not None:
        parts.append(search(source))
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


# --- uncertainty ---------------------------------------------------------------------------------


def fold_scores_figure(inputs: Inputs) -> Figure:
    cv = inputs.estimates["cv"]
    scores = {name: value["folds"] for name, value in cv.items() if isinstance(value, dict)}
    return Figure(
        "cv_folds",
        "Cross-validation fold scores",
        plots.fold_scores(scores, {name: cv[name]["mean"] for name in scores}),
        f"One point per fold ({cv.get('k')} folds x {cv.get('repeats')} repeats, seed"
        f" {cv.get('seed')}) of the training split; the bar is the mean. Spread here is noise"
        " that a single split hides.",
    )


def uncertainty_section(inputs: Inputs) -> str:
    """Each metric's test value with its bootstrap interval, and its cross-validated estimate."""
    cv = inputs.estimates.get("cv")
    test = inputs.estimates.get("test_interval")
    if cv is None and test is None:
        return "## Uncertainty\n\nThe metrics file has no intervals: run `make repro`.\n"
    confidence = f"{100 * float((test or {}).get('confidence', 0.95)):g} %"
    rows = []
    for name in [m for m in inputs.metrics if m != "n_test"]:
        bounds = (test or {}).get(name) or {}
        fold = (cv or {}).get(name) or {}
        rows.append(
            [
                name,
                inputs.metrics[name],
                f"[{bounds['low']:.4g}, {bounds['high']:.4g}]" if bounds else None,
                f"{fold['mean']:.4g} ± {fold['std']:.4g}" if fold else None,
                f"[{fold['low']:.4g}, {fold['high']:.4g}]" if fold else None,
            ]
        )
    text = (
        "## Uncertainty\n\nThe test split gives one number per metric; how far it could move"
        f" is its bootstrap interval ({confidence}, {(test or {}).get('resamples')} resamples of"
        " the test rows). The cross-validation refits the same model on"
        f" {cv.get('k') if cv else '?'} folds of the training split"
        f" ({cv.get('repeats') if cv else '?'} repeat(s), seed {cv.get('seed') if cv else '?'}):"
        " mean ± standard deviation over the folds, and a t interval corrected for the overlap of"
        " the folds' training rows (Nadeau and Bengio). See docs/evaluation.md.\n\n"
    )
    headers = [
        "Metric",
        "Test split",
        f"Test {confidence} interval",
        "Cross-validated",
        f"CV {confidence} interval",
    ]
    return text + markdown_table(headers, rows)


def uncertainty_card_text(inputs: Inputs, primary: str) -> str:
    cv = inputs.estimates.get("cv") or {}
    test = (inputs.estimates.get("test_interval") or {}).get(primary)
    text = ""
    if test:
        text += f" The {primary}'s bootstrap interval: [{test['low']:.4g}, {test['high']:.4g}]."
    if isinstance(cv.get(primary), dict):
        fold = cv[primary]
        text += (
            f" Cross-validated on the training split ({cv.get('k')} folds x {cv.get('repeats')}):"
            f" {primary} {fold['mean']:.4g} ± {fold['std']:.4g}, interval"
            f" [{fold['low']:.4g}, {fold['high']:.4g}]; see [Uncertainty](#uncertainty)."
        )
    return text


# --- the hyperparameter searches (make tune) ------------------------------------------------------

TOP_TRIALS = 5


def read_studies(root: Path = Path("tune")) -> list[tuple[str, Any, list[Figure]]]:
    """Each study of `make tune` (its journal in tune/<study>/) with its figures."""
    journals = sorted(root.glob("*/journal.log"))
    if not journals:
        return []
    import optuna

    from ..tuning.study import open_storage, quiet_optuna

    quiet_optuna()
    found = []
    for journal in journals:
        name = journal.parent.name
        try:
            study = optuna.load_study(study_name=name, storage=open_storage(str(journal)))
        except (KeyError, ValueError):  # a journal of another name, or an empty one
            continue
        found.append((name, study, study_figures(name, study)))
    return found


def study_figures(name: str, study: Any) -> list[Figure]:
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances
    from optuna.trial import TrialState

    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        return []
    maximize = study.direction.name == "MAXIMIZE"
    shown = [
        Figure(
            f"search_{name}_history",
            f"Search {name}: optimisation history",
            plots.optimisation_history(
                [t.number for t in complete], [float(t.value) for t in complete], maximize
            ),
            "Each finished trial's cross-validated score, and the best so far.",
        )
    ]
    try:
        importances = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
    except (RuntimeError, ValueError):  # too few trials, or nothing varies
        importances = {}
    if importances:
        values = pd.Series(importances, dtype=float).sort_values(ascending=False)
        shown.append(
            Figure(
                f"search_{name}_importances",
                f"Search {name}: parameter importances",
                plots.feature_importance(values, "Parameter importance (fANOVA)"),
                "How much of the score's variation across trials each setting explains.",
            )
        )
    return shown


def search_section(
    searches: Sequence[tuple[str, Any, list[Figure]]], source: Callable[[Figure], str]
) -> str:
    from optuna.trial import TrialState

    text = (
        "## Hyperparameter search\n\nThe studies of `make tune` (in `tune/`): each trial is"
        " scored by cross-validation on the training split only; the test split is never seen.\n"
    )
    for name, study, shown in searches:
        trials = study.get_trials(deepcopy=False)
        complete = [t for t in trials if t.state == TrialState.COMPLETE]
        pruned = sum(t.state == TrialState.PRUNED for t in trials)
        maximize = study.direction.name == "MAXIMIZE"
        best = sorted(complete, key=lambda t: float(t.value), reverse=maximize)[:TOP_TRIALS]
        text += (
            f"\n### Study `{name}`\n\n{len(complete)} finished and {pruned} pruned trials;"
            f" preset `configs/experiment/tuned-{name}.yaml`. The best trials:\n\n"
        )
        keys = sorted({key for t in best for key in t.params})
        text += markdown_table(
            ["Trial", "Score", *keys],
            [[t.number, float(t.value), *(t.params.get(k) for k in keys)] for t in best],
        )
        for figure in shown:
            text += f"\n![{figure.title}]({source(figure)})\n\n{figure.caption}\n"
    return text


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
    # The searches of `make tune`, like the comparison, come from outside the pipeline's files.
    searches = read_studies() if runs is not None else []
    search_figures = [f for _, _, figs in searches for f in figs]
    search = (lambda source: search_section(searches, source)) if searches else None
    page = build_markdown(
        inputs,
        summary,
        shown,
        note,
        lambda f: f"{image_dir.name}/{f.name}.png",
        card,
        comparison,
        search,
    )
    inline = build_markdown(
        inputs,
        summary,
        shown,
        note,
        lambda f: "data:image/png;base64," + base64.b64encode(f.png).decode("ascii"),
        card,
        comparison,
        search,
    )
    written = []
    image_dir.mkdir(parents=True, exist_ok=True)
    for old in image_dir.glob("*.png"):  # a plot of another task must not linger
        if old.stem not in {f.name for f in [*shown, *search_figures]}:
            old.unlink()
    for figure in [*shown, *search_figures]:
        path = image_dir / f"{figure.name}.png"
        files.write_bytes(path, figure.png)
        written.append(path)
    files.write_text(markdown_path, page)
    files.write_text(html_path, to_html(inline))
    return [markdown_path, *written, html_path]


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("reports.report", __doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--markdown", type=Path, default=REPORT_MD, help="the docs page")
    parser.add_argument("--html", type=Path, default=REPORT_HTML, help="the one-file page")
    parser.add_argument("--model-card", type=Path, default=MODEL_CARD, help="your card sections")
    parser.add_argument("--runs", type=int, default=10, help="newest MLflow runs to compare")
    parser.add_argument(
        "--no-compare", action="store_true", help="leave out the comparison and the searches"
    )
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
