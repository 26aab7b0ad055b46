"""The command-line entry points: clear one-line errors, exit 1, no half-written output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from omegaconf import DictConfig, OmegaConf

from {{ cookiecutter.module_name }}.artifacts import Feature, ModelMeta, save_artifacts
from {{ cookiecutter.module_name }}.files import write_text
from {{ cookiecutter.module_name }}.predict import predict_frame

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def run_module(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"{{ cookiecutter.module_name }}.{module}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("ERROR: ") and fragment in result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture
def trained_dir(tmp_path: Path, tiny_frame: pd.DataFrame) -> Path:
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(max_iter=200).fit(tiny_frame[FEATURES], tiny_frame.species)
    meta = ModelMeta(
        model_name="m",
        features=[Feature(name, "float") for name in FEATURES],
        target="species",
        classes=[str(c) for c in model.classes_],
    )
    save_artifacts(model, meta, tmp_path / "models")
    return tmp_path / "models"


def test_data_stage_reports_a_missing_file_and_writes_nothing(
    cfg: DictConfig, tmp_path: Path
) -> None:
    cfg.data.source = str(tmp_path / "missing.csv")
    params = tmp_path / "params.yaml"
    params.write_text(OmegaConf.to_yaml(cfg), encoding="utf-8")
    result = run_module("stages", "data", "--params", str(params), cwd=tmp_path)
    assert_one_line_error(result, "data file not found")
    assert not Path(cfg.paths.train).exists()


def test_predict_cli_writes_predictions(trained_dir: Path, tiny_frame: pd.DataFrame) -> None:
    rows = trained_dir.parent / "rows.csv"
    tiny_frame[FEATURES].to_csv(rows, index=False)
    out = trained_dir.parent / "out.csv"
    result = run_module(
        "predict", str(rows), str(out), "--model-dir", str(trained_dir), cwd=trained_dir
    )
    assert result.returncode == 0, result.stderr
    predictions = pd.read_csv(out)
    assert len(predictions) == len(tiny_frame)
    assert {"prediction", "proba_a", "proba_b", "proba_c"} <= set(predictions.columns)


def test_predict_cli_without_a_model_says_to_train(
    tmp_path: Path, tiny_frame: pd.DataFrame
) -> None:
    rows = tmp_path / "rows.csv"
    tiny_frame.to_csv(rows, index=False)
    result = run_module("predict", str(rows), str(tmp_path / "out.csv"), cwd=tmp_path)
    assert_one_line_error(result, "train a model first")
    assert not (tmp_path / "out.csv").exists()


def test_predict_frame_names_missing_and_non_numeric_columns(
    trained_dir: Path, tiny_frame: pd.DataFrame
) -> None:
    from {{ cookiecutter.module_name }}.artifacts import load_artifacts
    from {{ cookiecutter.module_name }}.errors import PipelineError

    model, meta = load_artifacts(trained_dir)
    with pytest.raises(PipelineError, match="lacks the feature column\\(s\\) petal_width"):
        predict_frame(model, meta, tiny_frame.drop(columns="petal_width"))
    with pytest.raises(PipelineError, match="non-numeric"):
        predict_frame(model, meta, tiny_frame.assign(sepal_width="wide"))


def test_atomic_write_leaves_nothing_when_writing_fails(tmp_path: Path) -> None:
    from {{ cookiecutter.module_name }}.files import atomic_write

    def explode(path: Path) -> None:
        path.write_text("half", encoding="utf-8")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "out.txt", explode)
    assert list(tmp_path.iterdir()) == []
    write_text(tmp_path / "out.txt", "whole")
    assert (tmp_path / "out.txt").read_text(encoding="utf-8") == "whole"


def test_tracking_uri_prefers_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from {{ cookiecutter.module_name }}.tracking import DEFAULT_TRACKING_URI, flatten, tracking_uri

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri() == DEFAULT_TRACKING_URI
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking:5000")
    assert tracking_uri() == "http://tracking:5000"
    assert flatten(OmegaConf.create({"a": {"b": 1}, "c": [1, 2]})) == {"a.b": "1", "c": "[1, 2]"}
