"""ONNX Runtime for serving: a session on the checked model.onnx, and its answers as plain rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .meta import (
    ONNX_FILE,
    ModelMeta,
)
from .read import read_checked


def onnx_session(model: bytes) -> Any:
    """An ONNX Runtime session tuned for serving: one thread per request, no spinning when idle."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def load_onnx(model_dir: Path, meta: ModelMeta) -> Any | None:
    """A session on model_dir/model.onnx when training exported and checked one, else None."""
    if meta.onnx_parity is None or not (model_dir / ONNX_FILE).is_file():
        return None
    return onnx_session(read_checked(model_dir, ONNX_FILE, meta))


# Rows; up to this many, plain Python beats numpy, whose per-call overhead dwarfs a few divisions.
SMALL_BATCH = 16


def onnx_probabilities(raw: Any) -> list[list[float]]:
    """The export's class probabilities as rows of Python floats that sum to 1.

    Tree models answer in float32, whose sums drift (0.9999993 for a unanimous forest); dividing
    by the row sum in float64 restores what scikit-learn returns, well within the parity tolerance.
    Both paths below compute the same float64 quotients; only their speed differs with the size.
    """
    import numpy as np

    rows: list[list[float]]
    if raw.dtype != np.float32:
        rows = raw.tolist()
        return rows
    if len(raw) <= SMALL_BATCH:
        rows = raw.tolist()
        return [[p / total for p in row] if (total := sum(row)) > 0 else row for row in rows]
    probabilities = raw.astype(np.float64)
    sums = probabilities.sum(axis=1, keepdims=True)
    np.divide(probabilities, sums, out=probabilities, where=sums > 0)
    rows = probabilities.tolist()
    return rows
