"""Export the fitted model to ONNX for fast serving, and prove that the export answers the same.

ONNX Runtime scores one record in microseconds where scikit-learn needs milliseconds, so the API
serves `model.onnx` when training wrote one. An export is kept only if it passes a parity check on
the training and held-out rows: the same class for every row and probabilities within
PROBABILITY_TOLERANCE. Anything else (an estimator skl2onnx cannot convert, a mismatch) is
logged and the API serves the scikit-learn model instead: slower, never wrong.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .artifacts import onnx_probabilities, onnx_session

PROBABILITY_TOLERANCE = 1e-5
INPUT_NAME = "X"  # one matrix, columns in the order of the model's features
ONNX_OPSET = 17


@dataclass(frozen=True)
class OnnxExport:
    """A checked export: the serialised model and what the parity check measured."""

    model: bytes
    checked_rows: int
    max_probability_diff: float | None  # None for models without predict_proba
    input_dtype: str  # "float32" or "float64": what the API must feed the session


def input_dtypes(model: Any) -> list[type]:
    """The input precisions to try, most likely to match first.

    scikit-learn's trees compare float32(x) with their thresholds, and skl2onnx reproduces exactly
    that for float32 inputs; every other estimator computes in float64.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    is_trees = hasattr(final, "tree_") or hasattr(final, "estimators_")
    return [np.float32, np.float64] if is_trees else [np.float64, np.float32]


def convert(model: Any, n_features: int, dtype: type = np.float64) -> bytes:
    """The model as ONNX bytes, taking a dtype matrix (raises when skl2onnx cannot convert it)."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import DoubleTensorType, FloatTensorType

    tensor_type = DoubleTensorType if dtype == np.float64 else FloatTensorType
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    # zipmap off: probabilities as a plain matrix, in the order of model.classes_.
    options = {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else None
    onnx_model = to_onnx(
        model,
        initial_types=[(INPUT_NAME, tensor_type([None, n_features]))],
        options=options,
        target_opset=ONNX_OPSET,
    )
    return onnx_model.SerializeToString()


def parity_problem(
    model: Any, onnx_model: bytes, rows: pd.DataFrame, dtype: type = np.float64
) -> tuple[str | None, float | None]:
    """(what differs, or None; the largest probability difference) between model and export."""
    outputs = onnx_session(onnx_model).run(None, {INPUT_NAME: rows.to_numpy(dtype=dtype)})
    expected = model.predict(rows)
    if outputs[0].tolist() != expected.tolist():
        differing = int(np.sum(np.asarray(outputs[0]) != expected))
        return f"{differing} of {len(rows)} predictions differ", None
    if not hasattr(model, "predict_proba"):
        return None, None
    if len(outputs) < 2:
        return "the export has no probabilities", None
    probabilities = np.asarray(onnx_probabilities(outputs[1]))
    diff = float(np.max(np.abs(probabilities - model.predict_proba(rows))))
    if diff > PROBABILITY_TOLERANCE:
        return f"probabilities differ by up to {diff:.2e} (> {PROBABILITY_TOLERANCE})", diff
    return None, diff


def export_onnx(model: Any, rows: pd.DataFrame) -> OnnxExport | None:
    """The checked ONNX export of model, or None (with a log line saying why) when there is none.

    rows: the feature columns of the training and held-out data, numeric, in the model's order.
    """
    if not all(pd.api.types.is_numeric_dtype(rows[column]) for column in rows.columns):
        warn("ONNX export skipped: non-numeric features; the API serves the scikit-learn model.")
        return None
    problems = []
    for dtype in input_dtypes(model):
        try:
            onnx_model = convert(model, rows.shape[1], dtype)
            problem, diff = parity_problem(model, onnx_model, rows, dtype)
        except Exception as error:  # skl2onnx and onnxruntime raise many types: "no export"
            reason = (str(error).strip().splitlines() or [type(error).__name__])[0]
            warn(f"ONNX export skipped ({reason}): the API serves the scikit-learn model.")
            return None
        if problem is None:
            return OnnxExport(onnx_model, len(rows), diff, np.dtype(dtype).name)
        problems.append(f"{np.dtype(dtype).name}: {problem}")
    warn(f"ONNX export rejected ({'; '.join(problems)}): the API serves the scikit-learn model.")
    return None


def warn(message: str) -> None:
    # A plain line on stderr: it shows in `dvc repro` output whatever logging is configured.
    print(f"WARNING: {message}", file=sys.stderr)
