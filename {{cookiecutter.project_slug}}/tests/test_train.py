"""Training end to end on small data: files under tmp_path, a throwaway MLflow store."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.artifacts import STAGING_DIR, load_artifacts, load_meta
from {{ cookiecutter.module_name }}.data import prepare_data
from {{ cookiecutter.module_name }}.params import Params
from {{ cookiecutter.module_name }}.stages import evaluate
from {{ cookiecutter.module_name }}.train import train


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_train_logs_registers_and_writes_the_artifact(
    tracked_params: Params, mlflow_store: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow

    from {{ cookiecutter.module_name }} import tracking

    params = tracked_params
    model_dir = Path(params.paths.model_dir)
    seen = {}

    def register(name: str, model_uri: str) -> str:
        # The model's files are written and check out, but not yet published; the run is live.
        _, staged = load_artifacts(model_dir / STAGING_DIR)
        seen.update(staged=staged, published=(model_dir / "model.joblib").exists())
        seen["run"] = mlflow.active_run().info.run_id
        return real_register(name, model_uri)

    real_register = tracking.register
    monkeypatch.setattr(tracking, "register", register)
    prepare_data(params)
    meta = train(params)

    model, saved = load_artifacts(model_dir, Path(params.paths.lineage))
    assert saved == meta and saved.run_id and saved.model_version == "1"
    assert seen["staged"].artifacts == saved.artifacts and not seen["published"]
    assert seen["run"] == meta.run_id and not (model_dir / STAGING_DIR).exists()
    assert saved.classes == support.IRIS_CLASSES and saved.task == "classification"
    assert saved.data_hash == digest(Path(params.paths.train))
    assert saved.onnx_parity is not None and set(saved.artifacts) == {"model.joblib", "model.onnx"}
    test_rows = pd.read_csv(params.paths.test)[support.IRIS_FEATURES]
    assert model.predict(test_rows).shape == (len(test_rows),)

    client = mlflow.MlflowClient(mlflow_store)
    run = client.get_run(meta.run_id)
    assert run.info.status == "FINISHED"
    assert run.data.params["model.estimator.n_estimators"] == "5"
    assert run.data.metrics["accuracy"] == meta.metrics["accuracy"]
    assert (
        run.data.tags["data_hash"] == meta.data_hash and run.data.tags["task"] == "classification"
    )
    assert {"git_commit", "git_dirty", "config_hash", "pipeline.host", "pipeline.pid"} <= set(
        run.data.tags
    )
    assert client.get_model_version(params.mlflow.registered_model, "1").run_id == meta.run_id


def test_training_twice_gives_identical_model_files(params: Params) -> None:
    """The volatile lineage lives beside the model, so models/ hashes the same every time."""
    prepare_data(params)
    model_dir = Path(params.paths.model_dir)
    hashes = []
    for _ in range(2):
        train(params, track=False)
        evaluate.run(params)
        hashes.append(
            {p.name: digest(p) for p in [*model_dir.iterdir(), Path(params.paths.metrics)]}
        )
    assert hashes[0] == hashes[1] and "model_meta.json" in hashes[0]
    lineage = json.loads(Path(params.paths.lineage).read_text(encoding="utf-8"))
    assert lineage["model_sha256"] == hashes[0]["model.joblib"] and lineage["trained_at"]
    assert load_meta(model_dir, Path(params.paths.lineage)).trained_at == lineage["trained_at"]
    # The commit is lineage too: committing after training must not change models/.
    stable = json.loads((model_dir / "model_meta.json").read_text(encoding="utf-8"))
    assert {"git_commit", "git_dirty", "run_id"} <= set(lineage) and not set(lineage) & set(stable)


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_a_mixed_table_with_gaps_trains_and_exports_checked_onnx(tmp_path: Path, task: str) -> None:
    source = tmp_path / "mixed.csv"
    support.mixed_frame(300).to_csv(source, index=False)
    overrides = [
        f"data.source={source}",
        "data.features=[age,income,city,member,grade]",
        "+data.kinds.grade=categorical",
    ]
    if task == "regression":
        overrides += ["data.target=price", "data.task=regression", "model=random_forest_regressor"]
    else:
        overrides += ["data.target=label"]
    p = support.params(tmp_path, "data=csv", *overrides)
    prepare_data(p)
    meta = train(p, track=False)
    evaluate.run(p)
    metrics = json.loads(Path(p.paths.metrics).read_text(encoding="utf-8"))
    assert {"cv", "test_interval"} <= set(metrics)  # the intervals (test_estimates.py)
    assert set(metrics) - {"cv", "test_interval"} == (
        {"accuracy", "f1_macro", "n_test"}
        if task == "classification"
        else {"rmse", "mae", "r2", "n_test"}
    )
    kinds = {f.name: (f.kind, f.dtype, f.nullable) for f in meta.features}
    assert kinds["city"] == ("categorical", "str", True) and kinds["member"] == (
        "categorical",
        "bool",
        True,
    )
    assert kinds["grade"] == ("categorical", "int", True) and kinds["age"] == (
        "numeric",
        "float",
        True,
    )
    if (
        task == "classification"
    ):  # float32 sums of a regression forest may miss 1e-5: then no export
        assert meta.onnx_parity is not None and meta.onnx_parity["checked_rows"] > 300


def test_a_failed_data_stage_writes_nothing(params: Params, tmp_path: Path) -> None:
    from {{ cookiecutter.module_name }}.errors import PipelineError

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    broken = params.model_copy(update={"data": params.data.model_copy(update={"source": str(bad)})})
    with pytest.raises(PipelineError, match="lacks the column"):
        prepare_data(broken)
    assert not Path(params.paths.raw).exists() and not Path(params.paths.train).exists()
