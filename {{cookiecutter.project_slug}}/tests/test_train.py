"""Training end to end on a shrunken config: data into tmp_path, a throwaway MLflow store."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import DictConfig

from {{ cookiecutter.module_name }}.artifacts import load_artifacts
from {{ cookiecutter.module_name }}.stages import prepare_data, run_evaluate
from {{ cookiecutter.module_name }}.train import train


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_train_logs_registers_and_writes_the_artifact(cfg: DictConfig, mlflow_store: str) -> None:
    import mlflow

    prepare_data(cfg)
    meta = train(cfg)

    model, saved = load_artifacts(Path(cfg.paths.model_dir))
    assert saved == meta and saved.run_id and saved.model_version == "1"
    assert saved.classes == ["setosa", "versicolor", "virginica"]
    assert saved.data_hash == digest(Path(cfg.paths.train))
    test_rows = pd.read_csv(cfg.paths.test)[list(cfg.data.features)]
    assert model.predict(test_rows).shape == (len(test_rows),)

    run = mlflow.MlflowClient(mlflow_store).get_run(meta.run_id)
    assert run.data.params["model.estimator.n_estimators"] == "5"
    assert run.data.metrics["accuracy"] == meta.metrics["accuracy"]
    assert run.data.tags["data_hash"] == meta.data_hash
    assert run.data.tags["config_name"] == "baseline"
    assert {"git_commit", "git_dirty"} <= set(run.data.tags)
    version = mlflow.MlflowClient(mlflow_store).get_model_version(cfg.mlflow.registered_model, "1")
    assert version.run_id == meta.run_id


def test_training_twice_gives_identical_model_and_metrics(cfg: DictConfig, tmp_path: Path) -> None:
    prepare_data(cfg)
    hashes = []
    for _ in range(2):
        train(cfg, track=False)
        run_evaluate(cfg)
        hashes.append(
            [digest(Path(cfg.paths.model_dir) / "model.joblib"), digest(Path(cfg.paths.metrics))]
        )
    assert hashes[0] == hashes[1]


def test_a_failed_data_stage_writes_nothing(cfg: DictConfig, tmp_path: Path) -> None:
    from {{ cookiecutter.module_name }}.errors import PipelineError

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    cfg.data.source = str(bad)
    with pytest.raises(PipelineError, match="lacks the column"):
        prepare_data(cfg)
    assert not Path(cfg.paths.raw).exists() and not Path(cfg.paths.train).exists()
