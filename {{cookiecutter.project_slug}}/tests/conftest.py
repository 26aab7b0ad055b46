"""Fixtures for the pipeline tests: tiny frames, checked params pointed at tmp_path, a throwaway
MLflow store. Shared data and helpers live in support.py; API fixtures in tests/api/conftest.py."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
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


@pytest.fixture(scope="session")
def tracking_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mlflow")


@pytest.fixture(scope="session")
def tracking_uri(tracking_dir: Path, pytestconfig: pytest.Config) -> str:
    """One throwaway sqlite tracking store for the session, its artifacts beside it. Tests keep
    apart by names of their own: see `tracked_params`."""
    database = tracking_dir / "mlflow.db"
    new_store(database, pytestconfig)
    return f"sqlite:///{database}"


def new_store(database: Path, config: pytest.Config) -> None:
    """An empty MLflow sqlite store at `database`.

    Making one runs MLflow's schema migrations (about a second per test process), so the first
    session keeps an empty store in pytest's cache (.pytest_cache, per MLflow version) and later
    ones copy it. The copy's Default experiment is pointed at this store's own artifacts.
    """
    import mlflow
    from mlflow import MlflowClient

    cache = getattr(config, "cache", None)  # None under -p no:cacheprovider
    kept = cache.mkdir("mlflow-store") / f"empty-{mlflow.__version__}.db" if cache else None
    if kept is None or not kept.exists():
        MlflowClient(f"sqlite:///{database}").search_experiments()  # creates and migrates it
        if kept is not None:  # other test processes may be writing it too: replace atomically
            partial = kept.with_name(f"{kept.name}.{os.getpid()}")
            shutil.copyfile(database, partial)
            os.replace(partial, kept)
        return
    shutil.copyfile(kept, database)
    with contextlib.closing(sqlite3.connect(database)) as db, db:
        db.execute(
            "UPDATE experiments SET artifact_location = ? WHERE experiment_id = 0",
            (str(database.parent / "mlruns" / "0"),),
        )


@pytest.fixture
def mlflow_store(tracking_uri: str, tracking_dir: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The session's tracking store, named by MLFLOW_TRACKING_URI for this test."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri)
    monkeypatch.chdir(tracking_dir)  # MLflow puts the artifacts of a new experiment in ./mlruns
    return tracking_uri


@pytest.fixture
def tracked_params(params: Params, mlflow_store: str, request: pytest.FixtureRequest) -> Params:
    """`params` logging to an experiment and a registered model named after the test."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name)
    mlflow = params.mlflow.model_copy(update={"experiment": name, "registered_model": name})
    return params.model_copy(update={"mlflow": mlflow})
