"""The report's other Markdown sections: metrics, uncertainty, plots, lineage, the model card's
generated facts, the experiments compared and the hyperparameter searches."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import yaml

from ..evaluate import PRIMARY_METRIC
from ..params import Params
from .figures import Figure
from .inputs import Inputs
from .tables import markdown_table

TOP_TRIALS = 5


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


def plots_section(shown: Sequence[Figure], note: str, source: Callable[[Figure], str]) -> str:
    text = "## Plots\n\n"
    for figure in shown:
        text += f"### {figure.title}\n\n![{figure.title}]({source(figure)})\n\n"
        if figure.caption:
            text += f"{figure.caption}\n\n"
    if not any(f.name == "feature_importance" for f in shown):
        text += f"### Feature importance\n\n{note}\n\n"
    return text


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


def comparison_section(params: Params, runs: int) -> str:
    from .baseline import find_baseline
    from .comparison_table import comparison_table
    from .experiments import collect

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
