"""Train the model: `train(params)` is a plain function; `main` is the Hydra entry point around it.

    python -m {{ cookiecutter.module_name }}.train                                    # one run, outputs/<time>/
    python -m {{ cookiecutter.module_name }}.train model=logistic_regression model.estimator.C=0.5
    python -m {{ cookiecutter.module_name }}.train -m model=random_forest,logistic_regression   # a sweep
    python -m {{ cookiecutter.module_name }}.train -m hydra/launcher=parallel model.estimator.n_estimators=50,200

The DVC `train` stage calls train() on params.yaml (see stages/) and writes models/. A Hydra run
instead writes its data and model under its own output directory, so it never touches the files
DVC tracks; every run, in both cases, is logged to MLflow.
"""

from __future__ import annotations

import sys
import time
from contextlib import nullcontext
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import DictConfig

from .artifact.meta import MODEL_FILE, STAGING_DIR, ModelMeta, file_sha256
from .artifact.onnx_export import (
    OnnxExport,
    Rejected,
    export_onnx,
    export_skipped,
    parity_sample,
    runtime_line,
    with_export,
)
from .artifact.write import publish_artifacts, remove_model, stage_artifacts, write_lineage
from .config import check_group_choices, from_config
from .data import load_schema, prepare_data, read_split
from .evaluate import PRIMARY_METRIC, score
from .features import describe_features, split_xy
from .model import build_model
from .params import Params
from .stats.resampling import cross_validate, cv_json, interval_metrics, log_cv, test_intervals
from .utils import files
from .utils.errors import exit_on_error
from .utils.kinds import CategoryRule
from .utils.progress import progress

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def train(params: Params, *, track: bool = True) -> ModelMeta:
    """Fit on paths.train, score on paths.test, write paths.model_dir, log to MLflow (if track).

    The order is what keeps a killed training harmless. A tracking server that does not answer
    stops it first, in seconds, with nothing changed. The MLflow run starts before the fit (and
    ends FAILED on an error, its uploads deleted); then the previous model and its evaluation go:
    from then on they describe nothing current. The new model is written to a staging directory
    and checked, logged to the run, and only then registered; the lineage and the model files are
    published last. Killed at any point, the training leaves no model and no metrics that look
    valid, and at most a RUNNING run (and a version) that the next training marks FAILED (and
    deletes, with its uploads): see tracking/dead_runs.py.
    """
    from .tracking.server import check_before_training
    from .tracking.training_run import config_tags, git_state, training_run

    paths = params.paths
    schema = load_schema(Path(paths.schema_))
    model = build_model(params.model, params.preprocessing, schema)  # config mistakes first
    if track:
        check_before_training()
    train_frame = read_split(Path(paths.train), schema)
    test_frame = read_split(Path(paths.test), schema)
    model_dir = Path(paths.model_dir)
    commit, dirty = git_state()
    data_hash = file_sha256(Path(paths.train))
    tags = {
        "git_commit": str(commit),
        "git_dirty": str(dirty),
        "data_hash": data_hash,
        "task": schema.task,
        **config_tags(params),
    }
    with training_run(params, tags) if track else nullcontext() as run:
        retire_previous(params)
        x_train, y_train = split_xy(train_frame, schema.features, schema.target)
        # How much of the score is noise: the same model refitted on the training split's folds.
        started = time.perf_counter()
        cv = cross_validate(
            model, x_train, y_train, schema.task, params.evaluation, params.seed, data_hash
        )
        cv_seconds = time.perf_counter() - started
        started = time.perf_counter()
        model.fit(x_train, y_train)
        # The estimator's share of the stage (the template's benchmarks/bench_scale.py reads it).
        seconds = time.perf_counter() - started
        print(f"train: fitted {params.model.name} on {len(x_train)} rows in {seconds:.2f} s")
        x_test, y_test = split_xy(test_frame, schema.features, schema.target)
        metrics = score(model, x_test, y_test, schema.task)
        intervals = test_intervals(
            model, x_test, y_test, schema.task, params.evaluation, params.seed
        )
        primary = PRIMARY_METRIC[schema.task][0]
        summary = cv.summary()[primary]
        print(
            f"train: cross-validated {primary} {summary['mean']:.4g} ± {summary['std']:.4g}"
            f" ({params.evaluation.folds} folds x {params.evaluation.repeats})"
            f" in {cv_seconds:.2f} s"
        )
        features = describe_features(model, x_train, schema)
        classes = [str(c) for c in model.classes_] if schema.task == "classification" else None
        meta = ModelMeta(
            model_name=params.mlflow.registered_model or params.mlflow.experiment,
            features=features,
            target=schema.target,
            task=schema.task,
            classes=classes,
            git_commit=commit,
            git_dirty=dirty,
            data_hash=data_hash,
            config_name=params.name,
            metrics=metrics,
            normalize_categories=CategoryRule.from_dict(schema.normalize_categories),
        )
        # The fast serving runtime, checked against the model on the rows it has seen (a sample of
        # a large table), unseen categories and missing values; unless the onnx settings skip it.
        skipped = export_skipped(model, params.onnx.export, params.onnx.max_model_mb)
        exported: OnnxExport | Rejected
        if skipped is None:
            rows = parity_sample([x_train, test_frame[schema.features]])
            with progress(f"train: ONNX export of {params.model.name} (converting, checking)"):
                exported = export_onnx(model, rows, features)
        else:
            exported = Rejected(skipped)
        meta, onnx_model = with_export(meta, exported)
        try:
            meta = stage_artifacts(model, meta, model_dir, onnx_model)
            if run is not None:
                staged = model_dir / STAGING_DIR / MODEL_FILE
                meta = record_run(params, model, x_train, meta, onnx_model is not None, staged)
                log_cv(run.info.run_id, cv, interval_metrics(intervals))
            files.write_text(Path(paths.cv), cv_json(cv))
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            meta = replace(meta, trained_at=now)
            # The lineage first: it names the new model's hash, which no older model file has.
            write_lineage(meta, Path(paths.lineage))
            publish_artifacts(model_dir)
        except BaseException:
            # Not recorded, or interrupted: no model may look trained (the stage failed).
            remove_model(model_dir)
            raise
    # Last, so that it is not lost among MLflow's lines: which runtime will serve, and why.
    print(runtime_line(exported), file=sys.stderr if onnx_model is None else sys.stdout)
    return meta


def retire_previous(params: Params) -> None:
    """Delete the model this training replaces and its evaluation (the evaluate stage's outputs):
    should this training fail or be killed, neither may pass for current; `dvc repro` reruns train
    and evaluate, which write them anew. The lineage file stays: it names its model's hash, so it
    never describes another model (and DVC may check that model out again from its cache)."""
    paths = params.paths
    remove_model(Path(paths.model_dir))
    removed = [Path(p) for p in (paths.metrics, paths.predictions) if Path(p).is_file()]
    for path in removed:
        path.unlink()
    if removed:
        names = " and ".join(str(path) for path in removed)
        print(f"train: removed {names}: they described the model being replaced")


def record_run(
    params: Params,
    model: Any,
    x_train: pd.DataFrame,
    meta: ModelMeta,
    onnx: bool,
    model_file: Path,
) -> ModelMeta:
    """Log the model (model_file: staged and checked) to the active MLflow run, then register it."""
    import mlflow

    from .tracking.training_run import log_training_run, register, tracking_errors

    active = mlflow.active_run()
    if active is None:  # train() opens the run before it calls this
        raise RuntimeError("record_run needs an active MLflow run")
    with tracking_errors("logging the model"):
        mlflow.set_tag("onnx_export", "checked" if onnx else "none")
        model_uri = log_training_run(params, model, x_train.head(5), meta, model_file)
    name = params.mlflow.registered_model
    with tracking_errors("registering the model"):
        version = register(name, model_uri) if name else None
    return replace(meta, run_id=active.info.run_id, model_version=version)


@hydra.main(config_path=str(PROJECT_ROOT / "configs"), config_name="config", version_base=None)
@exit_on_error
def main(cfg: DictConfig) -> float:
    """Prepare data and train in the Hydra output directory; return the primary metric.

    In a sweep, a point that already has a finished run under the sweep's parent run (an
    interrupted sweep run again, see tracking/sweep.py) is skipped, and that run's metric returned.
    """
    from hydra.core.hydra_config import HydraConfig

    from .tracking.sweep import current_point, finished_run
    from .tracking.training_run import config_hash

    params = from_config(cfg)  # checked before anything runs, paths still relative
    primary = PRIMARY_METRIC[params.data.task][0]
    point = current_point()
    if point is not None:
        done = finished_run(point, config_hash(params))
        values = point.describe()
        if done is not None:
            where = f" ({values})" if values else ""
            print(f"sweep: {point} skipped: finished run {done.info.run_id}{where}")
            return float(done.data.metrics.get(primary, float("nan")))
        print(f"sweep: {point}{': ' + values if values else ''}")
    output_dir = Path(HydraConfig.get().runtime.output_dir)
    params = params.model_copy(
        update={
            "paths": params.paths.model_copy(
                update={k: str(output_dir / v) for k, v in params.paths}
            )
        }
    )
    prepare_data(params)
    meta = train(params)
    where = f"MLflow run {meta.run_id}, model in {params.paths.model_dir}"
    print(f"{params.name}: {meta.metrics} ({where})")
    return meta.metrics[primary]


@exit_on_error
def run_command_line() -> None:
    """`python -m {{ cookiecutter.module_name }}.train ...`: a misspelt config group choice stops in one line
    before Hydra starts (Hydra's own message spans a dozen)."""
    check_group_choices(sys.argv[1:], PROJECT_ROOT / "configs")
    main()


if __name__ == "__main__":
    run_command_line()
