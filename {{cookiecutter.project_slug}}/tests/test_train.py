"""Training end to end on small data: files under tmp_path, a throwaway MLflow store."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import urlparse

import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.artifact.meta import STAGING_DIR
from {{ cookiecutter.module_name }}.artifact.read import load_artifacts, load_meta
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

    from {{ cookiecutter.module_name }}.tracking import training_run

    params = tracked_params
    model_dir = Path(params.paths.model_dir)
    seen = {}

    def register(name: str, model_uri: str) -> str:
        # The model's files are written and check out, but not yet published; the run is live.
        _, staged = load_artifacts(model_dir / STAGING_DIR)
        seen.update(staged=staged, published=(model_dir / "model.joblib").exists())
        seen["run"] = mlflow.active_run().info.run_id
        return real_register(name, model_uri)

    real_register = training_run.register
    monkeypatch.setattr(training_run, "register", register)
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
    from {{ cookiecutter.module_name }}.utils.errors import PipelineError

    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", encoding="utf-8")
    broken = params.model_copy(update={"data": params.data.model_copy(update={"source": str(bad)})})
    with pytest.raises(PipelineError, match="lacks the column"):
        prepare_data(broken)
    assert not Path(params.paths.raw).exists() and not Path(params.paths.train).exists()


def with_onnx(params: Params, export: str, max_model_mb: float = 25.0) -> Params:
    onnx = params.onnx.model_copy(update={"export": export, "max_model_mb": max_model_mb})
    return params.model_copy(update={"onnx": onnx})


@pytest.mark.parametrize(
    ("export", "bound", "exported", "line"),
    [
        ("never", 25.0, False, "ONNX export off (onnx.export=never)"),
        # The forest is about 50 kB: over a bound of 0.01 MB.
        ("auto", 0.01, False, "over onnx.max_model_mb=0.01"),
        ("auto", 25.0, True, None),
        ("always", 0.01, True, None),
    ],
)
def test_the_onnx_settings_choose_whether_the_model_is_exported(
    params: Params,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    export: str,
    bound: float,
    exported: bool,
    line: str | None,
) -> None:
    from {{ cookiecutter.module_name }} import train as train_module

    converted = []
    real_export = train_module.export_onnx

    def export_onnx(*args: object) -> object:
        converted.append(True)
        return real_export(*args)

    monkeypatch.setattr(train_module, "export_onnx", export_onnx)
    prepare_data(params)
    meta = train(with_onnx(params, export, bound), track=False)
    out, err = capsys.readouterr()
    model_dir = Path(params.paths.model_dir)
    assert (model_dir / "model.onnx").exists() == exported == (meta.onnx_parity is not None)
    assert bool(converted) == exported  # a skipped export costs no conversion
    # One line says which runtime will serve: for a skipped export, why, and for a model over the
    # bound how to export it anyway (the same reason as model_meta.json's onnx_skipped).
    (said,) = [text for text in (out + err).splitlines() if "ONNX export" in text]
    if line is None:
        assert said.startswith("train: ONNX export kept")
    else:
        assert said.startswith("WARNING: no ONNX export") and line in said
        assert meta.onnx_skipped is not None and line in meta.onnx_skipped
        if export == "auto":
            assert "the model is 0." in said and "onnx.export=always" in said


def test_the_measured_model_size_is_the_size_of_model_joblib(tmp_path: Path) -> None:
    """What onnx.max_model_mb compares with: model.joblib's size, but for joblib's framing of each
    array (about 10 % of a forest of 100 tiny trees, nothing of a large one)."""
    from {{ cookiecutter.module_name }}.artifact.onnx_export import serialised_mb

    params = support.params(tmp_path, "model.estimator.n_estimators=100", "onnx.export=never")
    prepare_data(params)
    train(params, track=False)
    model, _ = load_artifacts(Path(params.paths.model_dir))
    on_disk = (Path(params.paths.model_dir) / "model.joblib").stat().st_size / 1e6
    assert serialised_mb(model) == pytest.approx(on_disk, rel=0.1)


def test_a_full_disk_while_writing_the_model_is_one_line_naming_it(
    params: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import pickle
    from typing import BinaryIO

    from {{ cookiecutter.module_name }}.utils.errors import PipelineError

    def disk_full(model: object, handle: BinaryIO, *args: object, **kwargs: object) -> None:
        handle.write(b"the first half of a model")
        raise OSError(errno.ENOSPC, "No space left on device", handle.name)

    prepare_data(params)
    monkeypatch.setattr(pickle, "dump", disk_full)
    model_file = Path(params.paths.model_dir) / "model.joblib"
    written = re.escape(f"no space left on the device to write {model_file}:")
    with pytest.raises(PipelineError, match=f"^{written}"):
        train(params, track=False)
    # Nothing half-written, nothing staged.
    assert list(Path(params.paths.model_dir).iterdir()) == []


def test_a_full_disk_while_writing_the_metrics_leaves_no_partial_file(
    params: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from {{ cookiecutter.module_name }}.utils.errors import PipelineError

    prepare_data(params)
    train(params, track=False)
    real_to_csv = pd.DataFrame.to_csv

    def disk_full(frame: pd.DataFrame, path: object, *args: object, **kwargs: object) -> None:
        real_to_csv(frame.head(3), path, *args, **kwargs)  # a part, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device")

    reports = Path(params.paths.metrics).parent
    before = set(reports.iterdir())  # what training wrote there (lineage, cross-validation)
    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    written = re.escape(f"no space left on the device to write {params.paths.predictions}:")
    with pytest.raises(PipelineError, match=f"^{written}"):
        evaluate.run(params)
    assert set(reports.iterdir()) == before  # no partial or temporary file
    assert not Path(params.paths.metrics).exists()


def test_one_training_adds_one_copy_of_the_model_to_the_mlflow_store(
    tracked_params: Params, mlflow_store: str
) -> None:
    """The model serialised once: the store holds the very bytes of model.joblib (pickled: MLflow's
    skops format was 15 times the size of this forest), MLflow loads them, and the registry
    makes no copy."""
    import mlflow
    import mlflow.sklearn

    params = tracked_params.model_copy(
        update={"model": support.params(Path(), "model.estimator.n_estimators=100").model}
    )
    prepare_data(params)
    meta = train(params)
    client = mlflow.MlflowClient(mlflow_store)
    experiment = client.get_experiment_by_name(params.mlflow.experiment)
    store = Path(urlparse(experiment.artifact_location).path)
    stored = sum(path.stat().st_size for path in store.rglob("*") if path.is_file())
    model_file = Path(params.paths.model_dir) / "model.joblib"
    model = model_file.stat().st_size
    # One copy, plus MLmodel, the requirements, the input example and model_meta.json: a few kB.
    assert model <= stored <= model + 16_000
    (logged,) = list(store.rglob("model.pkl"))
    assert logged.read_bytes() == model_file.read_bytes()
    assert client.get_model_version(params.mlflow.registered_model, meta.model_version)
    uri = f"models:/{params.mlflow.registered_model}/{meta.model_version}"
    rows = pd.read_csv(params.paths.test)[[f.name for f in meta.features]].head(3)
    loaded, _ = load_artifacts(Path(params.paths.model_dir))
    expected = loaded.predict(rows)
    assert list(mlflow.sklearn.load_model(uri).predict(rows)) == list(expected)
