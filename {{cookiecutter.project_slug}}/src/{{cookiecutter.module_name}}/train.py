"""Train the model: `train(params)` is a plain function; `main` is the Hydra entry point around it.

    python -m {{ cookiecutter.module_name }}.train                                    # one run, outputs/<time>/
    python -m {{ cookiecutter.module_name }}.train model=logistic_regression model.estimator.C=0.5
    python -m {{ cookiecutter.module_name }}.train -m model=random_forest,logistic_regression   # a sweep
    python -m {{ cookiecutter.module_name }}.train -m hydra/launcher=parallel model.estimator.n_estimators=50,200

The DVC `train` stage calls train() on params.yaml (see stages.py) and writes models/. A Hydra run
instead writes its data and model under its own output directory, so it never touches the files
DVC tracks; every run, in both cases, is logged to MLflow.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import hydra
import pandas as pd
from omegaconf import DictConfig

from .artifacts import (
    META_FILE,
    MODEL_FILE,
    ONNX_FILE,
    ModelMeta,
    file_sha256,
    save_artifacts,
    write_lineage,
)
from .config import from_config
from .data import load_schema, prepare_data, read_split
from .errors import exit_on_error
from .evaluate import PRIMARY_METRIC, score
from .features import describe_features, split_xy
from .model import build_model
from .onnx_export import export_onnx
from .params import Params

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def train(params: Params, *, track: bool = True) -> ModelMeta:
    """Fit on paths.train, score on paths.test, write paths.model_dir, log to MLflow (if track)."""
    from .tracking import git_state

    paths = params.paths
    schema = load_schema(Path(paths.schema_))
    model = build_model(params.model, params.preprocessing, schema)  # config mistakes first
    train_frame = read_split(Path(paths.train), schema)
    test_frame = read_split(Path(paths.test), schema)
    x_train, y_train = split_xy(train_frame, schema.features, schema.target)
    started = time.perf_counter()
    model.fit(x_train, y_train)
    # The estimator's own share of the stage (benchmarks/bench_scale.py of the template reads it).
    seconds = time.perf_counter() - started
    print(f"train: fitted {params.model.name} on {len(x_train)} rows in {seconds:.2f} s")
    metrics = score(model, *split_xy(test_frame, schema.features, schema.target), schema.task)
    features = describe_features(model, x_train, schema)
    commit, dirty = git_state()
    classes = [str(c) for c in model.classes_] if schema.task == "classification" else None
    meta = ModelMeta(
        model_name=params.mlflow.registered_model or params.mlflow.experiment,
        features=features,
        target=schema.target,
        task=schema.task,
        classes=classes,
        git_commit=commit,
        git_dirty=dirty,
        data_hash=file_sha256(Path(paths.train)),
        config_name=params.name,
        metrics=metrics,
    )
    # The fast serving runtime, checked against the model on every row it has seen and more.
    exported = export_onnx(model, pd.concat([x_train, test_frame[schema.features]]), features)
    if exported is not None:
        parity = {
            "checked_rows": exported.checked_rows,
            "max_difference": exported.max_difference,
            "numeric_dtype": exported.numeric_dtype,
        }
        meta = replace(meta, onnx_parity=parity)
    model_dir = Path(paths.model_dir)
    meta = save_artifacts(model, meta, model_dir, exported.model if exported else None)
    try:
        if track:
            meta = track_run(params, model, x_train, meta, exported is not None)
        meta = replace(meta, trained_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
        write_lineage(meta, Path(paths.lineage))
    except BaseException:
        # Registered nowhere, or interrupted: no model may look trained (the stage failed).
        for name in (MODEL_FILE, ONNX_FILE, META_FILE):
            (model_dir / name).unlink(missing_ok=True)
        raise
    return meta


def track_run(
    params: Params, model: Any, x_train: pd.DataFrame, meta: ModelMeta, onnx: bool
) -> ModelMeta:
    """Log the run to MLflow and register the model (after its files are written)."""
    from .tracking import log_training_run

    tags = {
        "git_commit": str(meta.git_commit),
        "git_dirty": str(meta.git_dirty),
        "data_hash": str(meta.data_hash),
        "config_name": params.name,
        "model": params.model.name,
        "data": params.data.name,
        "task": meta.task,
        "onnx_export": "checked" if onnx else "none",
    }
    run_id, version = log_training_run(params, model, x_train.head(5), meta, tags)
    return replace(meta, run_id=run_id, model_version=version)


@hydra.main(config_path=str(PROJECT_ROOT / "configs"), config_name="config", version_base=None)
@exit_on_error
def main(cfg: DictConfig) -> float:
    """Prepare data and train in the Hydra output directory; return the primary metric."""
    from hydra.core.hydra_config import HydraConfig

    params = from_config(cfg)  # checked before anything runs, paths still relative
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
    return meta.metrics[PRIMARY_METRIC[meta.task][0]]


if __name__ == "__main__":
    main()
