"""Fixtures for the pipeline tests: tiny frames, checked params pointed at tmp_path, a throwaway
MLflow store. Shared data and helpers live in support.py; API fixtures in tests/api/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.params import Params


@pytest.fixture
def tiny_frame() -> pd.DataFrame:
    return support.tiny_frame()


@pytest.fixture
def mixed_frame() -> pd.DataFrame:
    return support.mixed_frame()


@pytest.fixture
def params(tmp_path: Path) -> Params:
    """The default composition with every path under tmp_path and a small, fast forest."""
    return support.params(tmp_path)


@pytest.fixture
def mlflow_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A throwaway sqlite tracking store; artifacts go under tmp_path too."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.chdir(tmp_path)  # MLflow puts the artifacts of a new sqlite store in ./mlruns
    return uri
