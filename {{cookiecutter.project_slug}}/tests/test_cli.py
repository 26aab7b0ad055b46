"""The command-line entry points: clear one-line errors, exit 1, no half-written output."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.artifact.meta import ArtifactError, ModelMeta
from {{ cookiecutter.module_name }}.artifact.read import load_artifacts
from {{ cookiecutter.module_name }}.artifact.write import save_artifacts
from {{ cookiecutter.module_name }}.predict import predict_frame
from {{ cookiecutter.module_name }}.utils.errors import PipelineError
from {{ cookiecutter.module_name }}.utils.files import write_text


def run_module(module: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", f"{{ cookiecutter.module_name }}.{module}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith("ERROR: ") and fragment in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def saved_mixed_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier on the mixed table, saved the way training saves it (fitted once)."""
    tmp_path = tmp_path_factory.mktemp("mixed")
    frame = support.mixed_frame().drop(columns="price")
    model, features, _, _ = support.fit_pipeline(tmp_path, frame, "label")
    meta = ModelMeta("m", features, "label", classes=[str(c) for c in model.classes_])
    save_artifacts(model, meta, tmp_path / "models")
    return tmp_path / "models"


@pytest.fixture
def mixed_model(saved_mixed_model: Path, tmp_path: Path) -> Path:
    """This test's own copy of the saved model's directory (tests damage its files)."""
    return shutil.copytree(saved_mixed_model, tmp_path / "models")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw["data"].update(source="missing.csv"), "data file not found"),
        (
            lambda raw: raw["data"].update(test_sise=0.3),
            "params.yaml: data.test_sise: unknown setting",
        ),
    ],
    ids=["missing-file", "misspelt-key"],
)
def test_the_data_stage_reports_a_mistake_and_writes_nothing(
    tmp_path: Path, change, message: str
) -> None:
    raw = support.composed()
    change(raw)
    support.write_params(tmp_path / "params.yaml", raw)
    result = run_module("stages", "data", cwd=tmp_path)
    assert_one_line_error(result, message)
    assert not (tmp_path / "data").exists()


@pytest.mark.slow
def test_promote_without_a_registered_model_asks_for_a_name(tmp_path: Path) -> None:
    raw = support.composed()
    raw["mlflow"]["registered_model"] = None
    support.write_params(tmp_path / "params.yaml", raw)
    result = run_module("tracking.promote", "3", cwd=tmp_path)
    assert_one_line_error(result, "no registered model to promote")
    assert "--name" in result.stderr


@pytest.mark.slow
def test_predict_cli_writes_predictions(mixed_model: Path) -> None:
    rows = mixed_model.parent / "rows.csv"
    support.mixed_frame(30, seed=3).drop(columns=["label", "price"]).to_csv(rows, index=False)
    out = mixed_model.parent / "out.csv"
    result = run_module(
        "predict", str(rows), str(out), "--model-dir", str(mixed_model), cwd=mixed_model
    )
    assert result.returncode == 0, result.stderr
    predictions = pd.read_csv(out)
    assert len(predictions) == 30 and {"prediction", "proba_high", "proba_low"} <= set(
        predictions.columns
    )


@pytest.mark.slow
def test_predict_cli_without_a_model_says_to_train(tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    support.tiny_frame().to_csv(rows, index=False)
    result = run_module("predict", str(rows), str(tmp_path / "out.csv"), cwd=tmp_path)
    assert_one_line_error(result, "train a model first")
    assert not (tmp_path / "out.csv").exists()


def test_predict_frame_names_missing_and_non_numeric_columns(mixed_model: Path) -> None:
    model, meta = load_artifacts(mixed_model)
    rows = support.mixed_frame(5, seed=4)
    with pytest.raises(PipelineError, match=r"lacks the feature column\(s\) city"):
        predict_frame(model, meta, rows.drop(columns="city"))
    with pytest.raises(PipelineError, match="'income' must hold numbers, not 'lots'"):
        predict_frame(model, meta, rows.assign(income=["lots", 1, 2, 3, 4]))
    answered = predict_frame(model, meta, rows.assign(city="Marseille", age=None))  # unseen, gap
    assert len(answered) == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[]", "expected a JSON object"),
        ("null", "expected a JSON object"),
        ("{}", "missing field(s)"),
    ],
)
def test_damaged_metadata_is_named(mixed_model: Path, content: str, message: str) -> None:
    (mixed_model / "model_meta.json").write_text(content, encoding="utf-8")
    with pytest.raises(ArtifactError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_artifacts(mixed_model)


def test_a_damaged_model_file_is_refused_with_a_reason(mixed_model: Path) -> None:
    (mixed_model / "model.joblib").write_bytes(b"not a pickle")
    with pytest.raises(ArtifactError, match=r"is not the file model_meta\.json describes"):
        load_artifacts(mixed_model)


def test_atomic_write_leaves_nothing_when_writing_fails(tmp_path: Path) -> None:
    from {{ cookiecutter.module_name }}.utils.files import atomic_write

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
    from {{ cookiecutter.module_name }}.tracking.server import DEFAULT_TRACKING_URI, tracking_uri
    from {{ cookiecutter.module_name }}.tracking.training_run import flatten

    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert tracking_uri() == DEFAULT_TRACKING_URI
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking:5000")
    assert tracking_uri() == "http://tracking:5000"
    assert flatten({"a": {"b": 1}, "c": [1, 2]}) == {"a.b": "1", "c": "[1, 2]"}
