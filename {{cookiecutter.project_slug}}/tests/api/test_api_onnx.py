"""The API serves the checked ONNX export when there is one, else falls back to scikit-learn."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import support
from fastapi.testclient import TestClient
from support import IRIS_FEATURES, SavedModel, iris_xy, settings_for

from {{ cookiecutter.module_name }}.artifact.meta import ONNX_FILE, ArtifactError
from {{ cookiecutter.module_name }}.artifact.onnx_export import TOLERANCE
from {{ cookiecutter.module_name }}.artifact.write import save_artifacts

from api.main import create_app
from api.sources.directory import load_from_dir


def records(rows: np.ndarray) -> list[dict[str, float]]:
    return [dict(zip(IRIS_FEATURES, map(float, row), strict=True)) for row in rows]


def copy_of(saved: SavedModel, tmp_path: Path) -> Path:
    shutil.copytree(saved.model_dir, tmp_path / "models")
    return tmp_path / "models"


def test_onnx_answers_like_the_model(forest_model: SavedModel) -> None:
    rng = np.random.default_rng(3)
    unseen = rng.uniform([4.3, 2.0, 1.0, 0.1], [7.9, 4.4, 6.9, 2.5], size=(200, 4)).round(1)
    settings = settings_for(forest_model.model_dir, max_batch_size=500, max_body_bytes=100_000)
    with TestClient(create_app(settings)) as client:
        assert client.get("/metadata").json()["runtime"] == "onnx"
        body = client.post("/predict", json={"records": records(unseen)}).json()
    frame = pd.DataFrame(unseen, columns=IRIS_FEATURES)
    assert body["predictions"] == forest_model.estimator.predict(frame).tolist()
    difference = np.abs(
        np.array(body["probabilities"]) - forest_model.estimator.predict_proba(frame)
    )
    assert difference.max() <= TOLERANCE


def test_an_unloadable_export_falls_back_to_scikit_learn(
    forest_model: SavedModel, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An export ONNX Runtime cannot load (its hash unrecorded, say an older training)."""
    model_dir = copy_of(forest_model, tmp_path)
    save_artifacts(forest_model.estimator, replace(forest_model.meta, artifacts={}), model_dir)
    (model_dir / ONNX_FILE).write_bytes(b"not an onnx model")
    with TestClient(create_app(settings_for(model_dir))) as client:
        metadata = client.get("/metadata").json()
        sample = iris_xy()[0].iloc[[0, 75]]
        body = client.post("/predict", json={"records": records(sample.to_numpy())}).json()
    assert metadata["runtime"] == "scikit-learn"
    assert metadata["runtime_reason"].startswith("model.onnx could not be loaded")
    assert body["predictions"] == forest_model.estimator.predict(sample).tolist()
    assert "Serving the scikit-learn model" in caplog.text


def test_an_export_that_is_not_the_checked_one_is_refused(
    forest_model: SavedModel, tmp_path: Path
) -> None:
    """A model.onnx whose hash differs from the metadata's: 503 with the reason, never served."""
    model_dir = copy_of(forest_model, tmp_path)
    (model_dir / ONNX_FILE).write_bytes((model_dir / ONNX_FILE).read_bytes() + b"\0")
    with TestClient(create_app(settings_for(model_dir))) as client:
        ready = client.get("/ready")
        assert (
            ready.status_code == 503 and "is not the file model_meta.json describes" in ready.text
        )
        assert str(tmp_path) not in ready.text  # no absolute server paths in answers


def test_an_unchecked_export_is_not_served(forest_model: SavedModel, tmp_path: Path) -> None:
    """model.onnx without a parity record in the metadata (say, copied by hand) is ignored."""
    model_dir = copy_of(forest_model, tmp_path)
    save_artifacts(forest_model.estimator, replace(forest_model.meta, onnx_parity=None), model_dir)
    (model_dir / ONNX_FILE).write_bytes((forest_model.model_dir / ONNX_FILE).read_bytes())
    with TestClient(create_app(settings_for(model_dir))) as client:
        assert client.get("/metadata").json()["runtime"] == "scikit-learn"


def test_metadata_says_why_the_scikit_learn_model_serves(
    forest_model: SavedModel, tmp_path: Path
) -> None:
    """The reason training recorded for keeping no export, or the file that went missing."""
    reason = "the ONNX export was rejected (float32: 3 of 160 predictions differ)"
    rejected = replace(forest_model.meta, onnx_parity=None, onnx_inputs=None, onnx_skipped=reason)
    save_artifacts(forest_model.estimator, rejected, tmp_path / "rejected")
    missing = copy_of(forest_model, tmp_path)
    (missing / ONNX_FILE).unlink()
    expectations = [(tmp_path / "rejected", reason), (missing, "model.onnx is missing")]
    for model_dir, expected in expectations:
        with TestClient(create_app(settings_for(model_dir))) as client:
            metadata = client.get("/metadata").json()
        assert metadata["runtime"] == "scikit-learn"
        assert metadata["runtime_reason"].startswith(expected)


# The ONNX-only serving image (requirements-serve-onnx.txt): these modules are not installed there.
HEAVY_MODULES = ("sklearn", "scipy", "pandas", "joblib", "skops", "mlflow")
ONNX_ONLY_SERVER = """
import sys, json
for name in {heavy!r}:
    sys.modules[name] = None  # `import name` now raises ImportError, as where it is not installed
from fastapi.testclient import TestClient
from api.main import create_app
from api.settings import Settings
settings = Settings(_env_file=None, model_dir={model_dir!r})
with TestClient(create_app(settings)) as client:
    answers = [client.get("/ready"), client.get("/metadata")]
    answers.append(client.post("/predict", json={body!r}))
print(json.dumps([[a.status_code, a.json()] for a in answers]))
"""


@pytest.mark.slow
def test_the_onnx_runtime_serves_without_scikit_learn_pandas_or_joblib(
    forest_model: SavedModel,
) -> None:
    """What the ONNX image holds is enough: the API, its model and ONNX Runtime, nothing else."""
    body = {"records": records(forest_model.sample.to_numpy()[:2])}
    script = ONNX_ONLY_SERVER.format(
        heavy=HEAVY_MODULES, model_dir=str(forest_model.model_dir), body=body
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    ready, metadata, predict = json.loads(result.stdout.strip().splitlines()[-1])
    assert ready[0] == 200 and metadata == [200, metadata[1]] and metadata[1]["runtime"] == "onnx"
    assert predict[0] == 200
    assert (
        predict[1]["predictions"]
        == forest_model.estimator.predict(forest_model.sample[:2]).tolist()
    )


def test_without_scikit_learn_a_model_without_export_says_what_to_do(
    forest_model: SavedModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ONNX image given a models/ without model.onnx: one message, not an import error."""
    model_dir = copy_of(forest_model, tmp_path)
    (model_dir / ONNX_FILE).unlink()
    monkeypatch.setattr("api.sources.directory.SKLEARN_RUNTIME", ("sklearn", "no_such_module_here"))
    with pytest.raises(
        ArtifactError, match="no no_such_module_here: it holds the ONNX runtime only"
    ):
        load_from_dir(model_dir)


@pytest.mark.parametrize(
    ("settings", "runtime"),
    [
        (["onnx.export=never"], "scikit-learn"),
        # The 5-tree forest is about 50 kB: over a bound of 0.01 MB.
        (["onnx.export=auto", "onnx.max_model_mb=0.01"], "scikit-learn"),
        (["onnx.export=always", "onnx.max_model_mb=0.01"], "onnx"),
    ],
    ids=["never", "auto-over-the-bound", "always"],
)
def test_the_onnx_settings_choose_the_runtime_the_api_serves(
    tmp_path: Path, settings: list[str], runtime: str
) -> None:
    from {{ cookiecutter.module_name }}.data import prepare_data
    from {{ cookiecutter.module_name }}.train import train

    params = support.params(tmp_path, *settings)
    prepare_data(params)
    train(params, track=False)
    model_dir = Path(params.paths.model_dir)
    assert (model_dir / ONNX_FILE).exists() == (runtime == "onnx")
    with TestClient(create_app(settings_for(model_dir))) as client:
        assert client.get("/metadata").json()["runtime"] == runtime
        sample = iris_xy()[0].iloc[[0, 75, 149]]
        body = client.post("/predict", json={"records": records(sample.to_numpy())}).json()
        assert len(body["predictions"]) == 3
