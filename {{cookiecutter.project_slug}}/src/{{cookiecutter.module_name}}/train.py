"""Train the model: `train(cfg)` is a plain function; `main` is the Hydra entry point around it.

    python -m {{ cookiecutter.module_name }}.train                                    # one run, outputs/<time>/
    python -m {{ cookiecutter.module_name }}.train model=logistic_regression model.estimator.C=0.5
    python -m {{ cookiecutter.module_name }}.train -m model=random_forest,logistic_regression   # a sweep
    python -m {{ cookiecutter.module_name }}.train -m hydra/launcher=parallel model.estimator.n_estimators=50,200

The DVC `train` stage calls train() on params.yaml (see stages.py) and writes models/. A Hydra run
instead writes its data and model under its own output directory, so it never touches the files
DVC tracks; every run, in both cases, is logged to MLflow.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import hydra
import pandas as pd
from omegaconf import DictConfig, OmegaConf
from sklearn.pipeline import Pipeline

from .artifacts import ModelMeta, save_artifacts
from .data import read_csv, validate
from .errors import exit_on_error
from .evaluate import score
from .features import describe_features, split_xy
from .model import build_model
from .onnx_export import export_onnx

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def fit(model_cfg: DictConfig, frame: pd.DataFrame, features: list[str], target: str) -> Pipeline:
    """Build the configured Pipeline and fit it on frame."""
    model = build_model(model_cfg)
    x, y = split_xy(frame, features, target)
    return model.fit(x, y)


def load_split(path: Path, features: list[str], target: str) -> pd.DataFrame:
    return validate(read_csv(str(path)), features, target)


def train(cfg: DictConfig, *, track: bool = True) -> ModelMeta:
    """Fit on paths.train, score on paths.test, log to MLflow (if track), write paths.model_dir."""
    from .tracking import file_sha256, git_state

    features, target = list(cfg.data.features), cfg.data.target
    train_path, test_path = Path(cfg.paths.train), Path(cfg.paths.test)
    train_frame = load_split(train_path, features, target)
    test_frame = load_split(test_path, features, target)
    model = fit(cfg.model, train_frame, features, target)
    metrics = score(model, *split_xy(test_frame, features, target))
    commit, dirty = git_state()
    meta = ModelMeta(
        model_name=cfg.mlflow.registered_model,
        features=describe_features(train_frame, features),
        target=target,
        classes=[str(label) for label in model.classes_],
        git_commit=commit,
        git_dirty=dirty,
        data_hash=file_sha256(train_path),
        config_name=cfg.name,
        trained_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        metrics=metrics,
    )
    # The fast serving runtime, checked against the model on every row it has seen.
    exported = export_onnx(model, pd.concat([train_frame, test_frame])[features])
    if exported is not None:
        parity = {
            "checked_rows": exported.checked_rows,
            "max_probability_diff": exported.max_probability_diff,
            "input_dtype": exported.input_dtype,
        }
        meta = replace(meta, onnx_parity=parity)
    if track:
        from .tracking import log_training_run

        tags = {
            "git_commit": str(commit),
            "git_dirty": str(dirty),
            "data_hash": str(meta.data_hash),
            "config_name": cfg.name,
            "model": cfg.model.name,
            "data": cfg.data.name,
            "onnx_export": "checked" if exported is not None else "none",
        }
        example = split_xy(train_frame.head(5), features, target)[0]
        run_id, version = log_training_run(cfg, model, example, metrics, tags)
        meta = replace(meta, run_id=run_id, model_version=version)
    onnx_model = exported.model if exported is not None else None
    save_artifacts(model, meta, Path(cfg.paths.model_dir), onnx_model)
    return meta


def in_output_dir(cfg: DictConfig, output_dir: Path) -> DictConfig:
    """A copy of cfg whose data and model paths live under output_dir (a Hydra run directory)."""
    relocated = OmegaConf.to_container(cfg, resolve=True)
    relocated["paths"] = {key: str(output_dir / value) for key, value in cfg.paths.items()}
    return OmegaConf.create(relocated)


@hydra.main(config_path=str(PROJECT_ROOT / "configs"), config_name="config", version_base=None)
@exit_on_error
def main(cfg: DictConfig) -> float:
    """Prepare data and train in the Hydra output directory; return accuracy (for sweepers)."""
    from hydra.core.hydra_config import HydraConfig

    from .stages import prepare_data

    cfg = in_output_dir(cfg, Path(HydraConfig.get().runtime.output_dir))
    prepare_data(cfg)
    meta = train(cfg)
    print(f"{cfg.name}: {meta.metrics} (MLflow run {meta.run_id}, model in {cfg.paths.model_dir})")
    return meta.metrics["accuracy"]


if __name__ == "__main__":
    main()
