"""The ONNX export: the whole pipeline (imputation, one-hot of text columns included), kept only
when it answers like the scikit-learn model, on seen rows, unseen categories and gaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import support
from sklearn.base import BaseEstimator, ClassifierMixin

from {{ cookiecutter.module_name }}.artifact.meta import ONNX_FILE, ArtifactError, ModelMeta
from {{ cookiecutter.module_name }}.artifact.onnx_export import (
    MAX_CHECK_ROWS,
    TOLERANCE,
    UNSEEN_CATEGORY,
    OnnxExport,
    Rejected,
    export_onnx,
    onnx_inputs,
    parity_sample,
    runtime_line,
)
from {{ cookiecutter.module_name }}.artifact.onnx_runtime import (
    SMALL_BATCH,
    load_onnx,
    onnx_probabilities,
    onnx_session,
)
from {{ cookiecutter.module_name }}.artifact.write import save_artifacts


def kept(exported: OnnxExport | Rejected) -> OnnxExport:
    assert isinstance(exported, OnnxExport), exported
    return exported


def held_out(frame: pd.DataFrame, rows: int = 5000) -> pd.DataFrame:
    """Unseen records on the data's own 0.1 grid, where tree thresholds are easiest to cross."""
    rng = np.random.default_rng(7)
    values = rng.uniform(
        frame.min().to_numpy(), frame.max().to_numpy(), size=(rows, frame.shape[1])
    )
    return pd.DataFrame(values.round(1), columns=frame.columns)


@pytest.mark.parametrize("model", ["random_forest", "logistic_regression"])
def test_iris_export_matches_the_model_on_training_and_unseen_rows(
    tmp_path: Path, model: str
) -> None:
    fitted, features, x, _ = support.fit_pipeline(
        tmp_path, support.iris_frame(), "species", "classification", f"model={model}"
    )
    exported = kept(export_onnx(fitted, x, features))
    assert exported.checked_rows >= len(x)
    unseen = held_out(x)
    dtype = np.dtype(exported.numeric_dtype).type
    labels, raw = onnx_session(exported.model).run(
        None, onnx_inputs(unseen, features, dtype, exported.inputs)
    )
    probabilities = np.asarray(onnx_probabilities(raw))
    assert labels.tolist() == fitted.predict(unseen).tolist()
    assert np.max(np.abs(probabilities - fitted.predict_proba(unseen))) <= TOLERANCE
    assert np.allclose(probabilities.sum(axis=1), 1.0, rtol=0, atol=1e-12)


def test_a_mixed_table_exports_with_unseen_categories_and_gaps(tmp_path: Path) -> None:
    frame = support.mixed_frame(300)
    fitted, features, x, _ = support.fit_pipeline(tmp_path, frame.drop(columns="price"), "label")
    exported = kept(export_onnx(fitted, x, features))
    strange = x.head(20).assign(city=UNSEEN_CATEGORY, member="", age=np.nan)
    dtype = np.dtype(exported.numeric_dtype).type
    labels, raw = onnx_session(exported.model).run(
        None, onnx_inputs(strange, features, dtype, exported.inputs)
    )
    assert labels.tolist() == fitted.predict(strange).tolist()
    assert (
        np.max(np.abs(np.asarray(onnx_probabilities(raw)) - fitted.predict_proba(strange)))
        <= TOLERANCE
    )


def test_a_regression_export_is_kept_only_within_the_tolerance(tmp_path: Path) -> None:
    frame = support.mixed_frame(300).drop(columns="label")
    fitted, features, x, _ = support.fit_pipeline(
        tmp_path, frame, "price", "regression", "model=ridge"
    )
    exported = export_onnx(fitted, x, features)
    if isinstance(exported, Rejected):  # float32 missed 1e-5 on these magnitudes: said, not served
        assert "differ by up to" in exported.reason
        return
    values = onnx_session(exported.model).run(
        None, onnx_inputs(x, features, np.dtype(exported.numeric_dtype).type, exported.inputs)
    )[0]
    assert np.max(np.abs(values.ravel() - fitted.predict(x))) <= TOLERANCE


def test_small_and_large_batches_renormalise_alike() -> None:
    # Few rows take a plain-Python path, many rows numpy: a record must not score differently
    # depending on the size of the batch it came in.
    raw = np.random.default_rng(0).dirichlet(np.ones(3), SMALL_BATCH * 4).astype(np.float32)
    raw[0] = 0.0  # a row of zeros is left as it is, not divided by zero
    together = onnx_probabilities(raw)
    one_by_one = [onnx_probabilities(raw[i : i + 1])[0] for i in range(len(raw))]
    assert together == one_by_one
    assert together[0] == [0.0, 0.0, 0.0]
    assert all(abs(sum(row) - 1.0) <= 1e-12 for row in together[1:])


class Unconvertible(ClassifierMixin, BaseEstimator):
    """A user's own estimator, which skl2onnx has no converter for."""

    def fit(self, x: pd.DataFrame, y: np.ndarray) -> Unconvertible:
        self.classes_ = np.unique(y)
        return self

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        return np.full(len(x), self.classes_[0])


def test_an_unconvertible_model_gets_no_export_and_says_so(tmp_path: Path) -> None:
    _, features, x, y = support.fit_pipeline(tmp_path, support.iris_frame(), "species")
    model = Unconvertible().fit(x, y)
    exported = export_onnx(model, x, features)
    assert isinstance(exported, Rejected) and "Unconvertible" in exported.reason
    line = runtime_line(exported)
    assert line.startswith("WARNING: no ONNX export, serving will use the scikit-learn model")
    assert "\n" not in line and exported.reason in line


def test_any_failure_of_the_export_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    fitted, features, x, _ = support.fit_pipeline(tmp_path, support.iris_frame(), "species")
    exported = export_onnx(fitted, x.drop(columns=features[0].name), features)  # a bug's effect
    assert isinstance(exported, Rejected) and exported.reason.startswith("the ONNX export failed")


def test_training_ends_with_one_line_saying_why_there_is_no_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from {{ cookiecutter.module_name }}.data import prepare_data
    from {{ cookiecutter.module_name }}.train import train

    def unconvertible(*args: object) -> None:
        raise RuntimeError("no converter for this estimator")

    params = support.params(tmp_path)
    prepare_data(params)
    monkeypatch.setattr("{{ cookiecutter.module_name }}.artifact.onnx_export.convert", unconvertible)
    meta = train(params, track=False)
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("WARNING: no ONNX export, serving will use the scikit-learn model")
    assert "no converter for this estimator" in last and meta.onnx_skipped in last
    assert meta.onnx_parity is None and not (Path(params.paths.model_dir) / ONNX_FILE).exists()


# Column names a CSV or Parquet file may hold and skl2onnx rewrites as input names: spaces, dots,
# dashes, slashes, brackets, quotes, unicode, a leading digit, a Python keyword, a JSON Schema
# keyword, the names of the export's own outputs, two names it cleans alike, a very long name.
AWKWARD_NAMES = {
    "age": "age (years)",
    "income": "income.usd/yr",
    "city": "home city",
    "member": "class",
    "grade": "1st-grade é",
}
MORE_AWKWARD_NAMES = {
    "age": "label",
    "income": "probabilities",
    "city": "$ref",
    "member": "a b",
    "grade": "a_b",
}


@pytest.mark.parametrize("names", [AWKWARD_NAMES, MORE_AWKWARD_NAMES], ids=["cleaned", "clashing"])
def test_awkward_column_names_export_and_pass_the_check(
    tmp_path: Path, names: dict[str, str]
) -> None:
    frame = support.mixed_frame(300).drop(columns="price").rename(columns={"label": "target"})
    frame = frame.rename(columns=names)
    if "a_b" in names.values():
        frame["x" * 300] = frame["a_b"] * 2.0  # and a very long name
    fitted, features, x, _ = support.fit_pipeline(tmp_path, frame, "target")
    exported = kept(export_onnx(fitted, x, features))
    # One input per feature, each under the name the mapping records for it.
    session = onnx_session(exported.model)
    assert sorted(exported.inputs) == sorted(f.name for f in features)
    assert sorted(i.name for i in session.get_inputs()) == sorted(exported.inputs.values())
    dtype = np.dtype(exported.numeric_dtype).type
    labels, raw = session.run(None, onnx_inputs(x, features, dtype, exported.inputs))
    assert labels.tolist() == fitted.predict(x).tolist()
    probabilities = np.asarray(onnx_probabilities(raw))
    assert np.max(np.abs(probabilities - fitted.predict_proba(x))) <= TOLERANCE


def test_saving_without_an_export_removes_a_stale_one_and_a_swapped_file_is_refused(
    tmp_path: Path,
) -> None:
    fitted, features, x, _ = support.fit_pipeline(tmp_path, support.iris_frame(), "species")
    exported = kept(export_onnx(fitted, x, features))
    meta = ModelMeta("m", features, "species")
    with_export = ModelMeta(**{**meta.__dict__, "onnx_parity": {"checked_rows": 150}})
    model_dir = tmp_path / "models"

    saved = save_artifacts(fitted, with_export, model_dir, exported.model)
    assert load_onnx(model_dir, saved) is not None
    (model_dir / ONNX_FILE).write_bytes(exported.model + b"\0")  # another export, same name
    with pytest.raises(ArtifactError, match=r"is not the file model_meta\.json describes"):
        load_onnx(model_dir, saved)

    saved = save_artifacts(fitted, meta, model_dir)
    assert not (model_dir / ONNX_FILE).exists() and load_onnx(model_dir, saved) is None


EXPORT_SCRIPT = """
import hashlib, sys
from pathlib import Path
sys.path.insert(0, "tests")
import support
from {{ cookiecutter.module_name }}.artifact.onnx_export import export_onnx
frame = support.mixed_frame(120).drop(columns="price")
model, features, x, _ = support.fit_pipeline(Path(sys.argv[1]), frame, "label")
print(hashlib.sha256(export_onnx(model, x, features).model).hexdigest())
"""


@pytest.mark.slow
def test_the_export_is_the_same_bytes_in_every_process(tmp_path: Path) -> None:
    """String hashing differs between processes (PYTHONHASHSEED); the exported bytes must not.

    This process and two others export the same pipeline. The others run side by side (each spends
    a second or more importing scikit-learn and skl2onnx), with hash seeds under which skl2onnx
    lists its two opset domains in opposite orders.
    """
    import hashlib
    import os
    import subprocess
    import sys

    children = [
        subprocess.Popen(
            [sys.executable, "-c", EXPORT_SCRIPT, str(tmp_path / seed)],
            cwd=support.PROJECT_ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "3")
    ]
    frame = support.mixed_frame(120).drop(columns="price")
    model, features, x, _ = support.fit_pipeline(tmp_path / "here", frame, "label")
    exported = kept(export_onnx(model, x, features))
    digests = {hashlib.sha256(exported.model).hexdigest()}
    for child in children:
        out, err = child.communicate(timeout=300)
        assert child.returncode == 0, err
        digests.add(out.split()[-1])
    assert len(digests) == 1


def test_the_parity_sample_of_a_large_table_is_bounded_seeded_and_from_every_part() -> None:
    train = pd.DataFrame({"x": np.arange(MAX_CHECK_ROWS * 3, dtype=float)})
    test = pd.DataFrame({"x": -np.arange(1, MAX_CHECK_ROWS + 1, dtype=float)})
    sample = parity_sample([train, test])
    assert len(sample) == MAX_CHECK_ROWS
    assert (sample["x"] < 0).sum() == MAX_CHECK_ROWS // 4  # held-out rows in proportion
    pd.testing.assert_frame_equal(sample, parity_sample([train, test]))
    small = parity_sample([train.head(10), test.head(5)])
    assert small["x"].tolist() == [*train["x"].head(10), *test["x"].head(5)]
