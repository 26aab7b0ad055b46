"""Export the fitted pipeline to ONNX for fast serving, and prove that the export answers the same.

ONNX Runtime scores one record in microseconds where scikit-learn needs milliseconds, so the API
serves `model.onnx` when training wrote one. The whole pipeline is exported, preprocessing included:
one input per feature (a float column for numeric features, a string column for categorical ones).
An export is kept only if it passes a parity check on the training and held-out rows plus rows
with a category never seen in training and rows with each feature missing: the same class for
every row and probabilities within TOLERANCE (classifiers), or values within TOLERANCE
(regressors). Anything else (an estimator skl2onnx cannot convert, a mismatch) is logged and the
API serves the scikit-learn model instead: slower, never different.

Converting costs time in proportion to the model's size (about 0.25 s per MB for a forest, and the
check half as much again): the `onnx` settings (params.py) skip the export of a model over
onnx.max_model_mb, or always or never export.
"""

from __future__ import annotations

import pickle
import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .artifacts import onnx_probabilities, onnx_session
from .errors import first_line
from .kinds import CATEGORICAL, MISSING_CATEGORY, Feature

TOLERANCE = 1e-5
ONNX_OPSET = {"": 17, "ai.onnx.ml": 3}
# The parity check scores at most this many data rows (a seeded sample beyond it), plus edge rows.
MAX_CHECK_ROWS = 50_000
UNSEEN_CATEGORY = "\x00never-seen-in-training"


@dataclass(frozen=True)
class OnnxExport:
    """A checked export: the serialised model and what the parity check measured."""

    model: bytes
    checked_rows: int
    max_difference: float  # largest |probability| or |value| difference seen
    numeric_dtype: str  # "float32" or "float64": what the API must feed numeric inputs


def serialised_mb(model: Any) -> float:
    """The model's size pickled, in MB: model.joblib's size but for joblib's framing of each array
    (a few %). Measured without a copy: the arrays are counted, never written (milliseconds)."""
    buffers: list[pickle.PickleBuffer] = []
    stream = pickle.dumps(model, protocol=5, buffer_callback=buffers.append)
    return (len(stream) + sum(memoryview(buffer).nbytes for buffer in buffers)) / 1e6


def export_wanted(model: Any, export: str, max_model_mb: float) -> bool:
    """Whether the onnx settings (export: auto, always or never) want this model exported; when
    not, one line says why (and, for a model over the bound, how to export it anyway)."""
    if export == "never":
        print("ONNX export off (onnx.export=never): the API serves the scikit-learn model.")
        return False
    if export == "always":
        return True
    size = serialised_mb(model)
    if size <= max_model_mb:
        return True
    warn(
        f"ONNX export skipped: the model is {size:.1f} MB, over onnx.max_model_mb={max_model_mb:g}"
        " (converting takes time in proportion to the size); the API serves the scikit-learn"
        " model. Export it anyway with onnx.export=always, or raise onnx.max_model_mb."
    )
    return False


def numeric_dtypes(model: Any) -> list[type]:
    """The precisions to try for numeric inputs, most likely to match first.

    scikit-learn's trees compare float32(x) with their thresholds, and ONNX Runtime's imputer
    takes float32 only; a linear model without imputation computes in float64.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    is_trees = hasattr(final, "tree_") or hasattr(final, "estimators_")
    return [np.float32, np.float64] if is_trees else [np.float64, np.float32]


def convert(model: Any, features: list[Feature], dtype: type) -> bytes:
    """The model as ONNX bytes, one input per feature (raises when skl2onnx cannot convert)."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType, StringTensorType

    number = DoubleTensorType if dtype == np.float64 else FloatTensorType
    inputs = [
        (f.name, StringTensorType([None, 1]) if f.kind == CATEGORICAL else number([None, 1]))
        for f in features
    ]
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    # zipmap off: probabilities as a plain matrix, in the order of model.classes_.
    options = {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else None
    onnx_model = to_onnx(model, initial_types=inputs, options=options, target_opset=ONNX_OPSET)
    # skl2onnx lists the opsets in set order, which differs between processes: sort them, so the
    # same pipeline always gives the same bytes (and DVC the same hash).
    opsets = sorted(onnx_model.opset_import, key=lambda opset: opset.domain)
    del onnx_model.opset_import[:]
    onnx_model.opset_import.extend(opsets)
    serialized: bytes = onnx_model.SerializeToString()
    return serialized


def onnx_inputs(rows: pd.DataFrame, features: list[Feature], dtype: type) -> dict[str, np.ndarray]:
    """Rows as the export's inputs: one (n, 1) column per feature."""
    return {
        f.name: rows[[f.name]].to_numpy(dtype=object if f.kind == CATEGORICAL else dtype)
        for f in features
    }


def parity_sample(frames: list[pd.DataFrame], seed: int = 0) -> pd.DataFrame:
    """The data rows of frames the parity check may score, as one table: all of them, or a seeded
    sample of each in proportion (never a copy of a large table only to sample it)."""
    total = sum(len(frame) for frame in frames)
    if total > MAX_CHECK_ROWS:
        fraction = MAX_CHECK_ROWS / total
        frames = [frame.sample(frac=fraction, random_state=seed) for frame in frames]
    return pd.concat(frames, ignore_index=True)


def check_rows(rows: pd.DataFrame, features: list[Feature], seed: int = 0) -> pd.DataFrame:
    """The rows the parity check scores: data rows, then an unseen category and each gap."""
    if len(rows) > MAX_CHECK_ROWS:
        rows = rows.sample(MAX_CHECK_ROWS, random_state=seed)
    edges = []
    for feature in features:
        base = rows.iloc[[0]].copy()
        if feature.kind == CATEGORICAL:
            edges.append(base.assign(**{feature.name: UNSEEN_CATEGORY}))
        if feature.nullable:
            gap = MISSING_CATEGORY if feature.kind == CATEGORICAL else np.nan
            edges.append(base.assign(**{feature.name: gap}))
    return pd.concat([rows, *edges], ignore_index=True).astype(rows.dtypes.to_dict())


def parity_problem(
    model: Any, onnx_model: bytes, rows: pd.DataFrame, features: list[Feature], dtype: type
) -> tuple[str | None, float]:
    """(what differs, or None; the largest difference) between the model and its export."""
    outputs = onnx_session(onnx_model).run(None, onnx_inputs(rows, features, dtype))
    expected = model.predict(rows)
    if not hasattr(model, "predict_proba"):  # a regressor: values within the tolerance
        got = np.asarray(outputs[0], dtype=np.float64).reshape(len(rows))
        diff = float(np.max(np.abs(got - expected.astype(np.float64))))
        if not np.isfinite(diff) or diff > TOLERANCE:
            return f"values differ by up to {diff:.2e} (> {TOLERANCE})", diff
        return None, diff
    labels = np.asarray(outputs[0]).reshape(len(rows))
    if labels.astype(str).tolist() != expected.astype(str).tolist():
        differing = int(np.sum(labels.astype(str) != expected.astype(str)))
        return f"{differing} of {len(rows)} predictions differ", float("inf")
    if len(outputs) < 2:
        return "the export has no probabilities", float("inf")
    probabilities = np.asarray(onnx_probabilities(outputs[1]))
    diff = float(np.max(np.abs(probabilities - model.predict_proba(rows))))
    if diff > TOLERANCE:
        return f"probabilities differ by up to {diff:.2e} (> {TOLERANCE})", diff
    return None, diff


def export_onnx(model: Any, rows: pd.DataFrame, features: list[Feature]) -> OnnxExport | None:
    """The checked ONNX export of model, or None (with a log line saying why) when there is none.

    rows: the feature columns of the training and held-out data, typed as the model takes them.
    """
    if hasattr(model, "classes_") and len(model.classes_) < 2:
        warn("ONNX export skipped: a single class; the API serves the scikit-learn model.")
        return None
    checked = check_rows(rows[[f.name for f in features]], features)
    problems = []
    for dtype in numeric_dtypes(model):
        name = np.dtype(dtype).name
        try:
            onnx_model = convert(model, features, dtype)
            problem, diff = parity_problem(model, onnx_model, checked, features, dtype)
        except Exception as error:  # skl2onnx and onnxruntime raise many types: "not this way"
            problems.append(f"{name}: {first_line(error)[:300]}")
            continue
        if problem is None:
            return OnnxExport(onnx_model, len(checked), diff, name)
        problems.append(f"{name}: {problem}")
    warn(f"ONNX export rejected ({'; '.join(problems)}): the API serves the scikit-learn model.")
    return None


def warn(message: str) -> None:
    # A plain line on stderr: it shows in `dvc repro` output whatever logging is configured.
    print(f"WARNING: {message}", file=sys.stderr)
