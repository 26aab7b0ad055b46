"""Fixtures for the pipeline tests: tiny frames, composed configs pointed at tmp_path, a throwaway
MLflow store. The API tests have their own fixtures in tests/api/."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf

from {{ cookiecutter.module_name }}.config import compose

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


@pytest.fixture
def tiny_frame() -> pd.DataFrame:
    """Twelve rows, three classes, four numeric features: enough to split and fit."""
    rows = []
    for index, label in enumerate(["a", "b", "c"] * 4):
        base = ["a", "b", "c"].index(label) * 2.0
        rows.append([base + 0.1 * index, base + 1.0, base + 0.5, base + 0.2 * index, label])
    return pd.DataFrame(rows, columns=[*FEATURES, "species"])


@pytest.fixture
def cfg(tmp_path: Path) -> DictConfig:
    """The default composition with every path under tmp_path and a small, fast forest."""
    cfg = compose(["model.estimator.n_estimators=5"], config_dir=CONFIG_DIR)
    OmegaConf.update(cfg, "paths", {k: str(tmp_path / v) for k, v in cfg.paths.items()})
    return cfg


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway sqlite tracking store; artifacts go under tmp_path too."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)  # MLflow puts the artifacts of a new sqlite store in ./mlruns
    return uri
