"""Export the fitted pipeline to ONNX for fast serving, and prove that the export answers the same.

ONNX Runtime scores one record in microseconds where scikit-learn needs milliseconds, so the API
serves `model.onnx` when training wrote one. The whole pipeline is exported, preprocessing included:
one input per feature (a float column for numeric features, a string column for categorical ones).
skl2onnx names each input after its column, rewritten where the column name is not a plain
identifier ("home city" -> "home_city", "1st" -> "_1st", "label" -> "label1" beside the output
of that name): the export reads those names back from the graph, once, and records the mapping
(OnnxExport.inputs, then ModelMeta.onnx_inputs) that the parity check and the API both feed by.

An export is kept only if it passes a parity check on the training and held-out rows plus rows
with a category never seen in training and rows with each feature missing: the same class for
every row and probabilities within TOLERANCE (classifiers), or values within TOLERANCE
(regressors). Anything else (an estimator skl2onnx cannot convert, a mismatch, any error) gives
no export and one line saying why; the API then serves the scikit-learn model: slower, never
different.

Converting costs time in proportion to the model's size (about 0.25 s per MB for a forest, and the
check half as much again): the `onnx` settings (params.py) skip the export of a model over
onnx.max_model_mb, or always or never export.
"""

from __future__ import annotations

import pickle
import re
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from ..utils.errors import first_line
from ..utils.kinds import CATEGORICAL, MISSING_CATEGORY, Feature
from .meta import ModelMeta
from .onnx_runtime import onnx_probabilities, onnx_session

TOLERANCE = 1e-5
ONNX_OPSET = {"": 17, "ai.onnx.ml": 3}
# The parity check scores at most this many data rows (a seeded sample beyond it), plus edge rows.
MAX_CHECK_ROWS = 50_000
UNSEEN_CATEGORY = "\x00never-seen-in-training"
ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


@dataclass(frozen=True)
class OnnxExport:
    """A checked export: the serialised model, its input names, what the parity check measured."""

    model: bytes
    inputs: dict[str, str]  # feature name -> the name of its input in the graph
    checked_rows: int
    max_difference: float  # largest |probability| or |value| difference seen
    numeric_dtype: str  # "float32" or "float64": what the API must feed numeric inputs

    def parity(self) -> dict[str, Any]:
        """What the model metadata records of the check (ModelMeta.onnx_parity)."""
        return {
            "checked_rows": self.checked_rows,
            "max_difference": self.max_difference,
            "numeric_dtype": self.numeric_dtype,
        }


def serialised_mb(model: Any) -> float:
    """The model's size pickled, in MB: model.joblib's size but for joblib's framing of each array
    (a few %). Measured without a copy: the arrays are counted, never written (milliseconds)."""
    buffers: list[pickle.PickleBuffer] = []
    stream = pickle.dumps(model, protocol=5, buffer_callback=buffers.append)
    return (len(stream) + sum(memoryview(buffer).nbytes for buffer in buffers)) / 1e6


def export_skipped(model: Any, export: str, max_model_mb: float) -> str | None:
    """Why the onnx settings (export: auto, always or never) skip this model's export (and, for a
    model over the bound, how to export it anyway); None when it is to be exported."""
    if export == "never":
        return "ONNX export off (onnx.export=never)"
    if export == "always":
        return None
    size = serialised_mb(model)
    if size <= max_model_mb:
        return None
    return (
        f"ONNX export skipped: the model is {size:.1f} MB, over onnx.max_model_mb={max_model_mb:g}"
        " (converting takes time in proportion to the size); export it anyway with"
        " onnx.export=always, or raise onnx.max_model_mb"
    )


def numeric_dtypes(model: Any) -> list[type]:
    """The precisions to try for numeric inputs, most likely to match first.

    scikit-learn's trees compare float32(x) with their thresholds, and ONNX Runtime's imputer
    takes float32 only; a linear model without imputation computes in float64.
    """
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    is_trees = hasattr(final, "tree_") or hasattr(final, "estimators_")
    return [np.float32, np.float64] if is_trees else [np.float64, np.float32]


def convert(model: Any, features: list[Feature], dtype: type) -> tuple[bytes, dict[str, str]]:
    """The model as ONNX bytes, one input per feature, and each feature's input name in the graph
    (raises when skl2onnx cannot convert)."""
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
    return serialized, input_names(onnx_model, features)


def input_names(onnx_model: Any, features: list[Feature]) -> dict[str, str]:
    """Feature name -> graph input name. skl2onnx declares the inputs in the order given, so the
    graph's n-th input is the n-th feature, whatever it renamed."""
    names = [graph_input.name for graph_input in onnx_model.graph.input]
    if len(names) != len(features):
        raise ValueError(f"the export has {len(names)} inputs for {len(features)} features")
    return {feature.name: name for feature, name in zip(features, names, strict=True)}


def onnx_inputs(
    rows: pd.DataFrame, features: list[Feature], dtype: type, names: dict[str, str]
) -> dict[str, np.ndarray]:
    """Rows as the export's inputs: one (n, 1) column per feature, under its input name."""
    return {
        names[f.name]: rows[[f.name]].to_numpy(dtype=object if f.kind == CATEGORICAL else dtype)
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
    model: Any,
    onnx_model: bytes,
    names: dict[str, str],
    rows: pd.DataFrame,
    features: list[Feature],
    dtype: type,
) -> tuple[str | None, float]:
    """(what differs, or None; the largest difference) between the model and its export."""
    outputs = onnx_session(onnx_model).run(None, onnx_inputs(rows, features, dtype, names))
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


def export_onnx(model: Any, rows: pd.DataFrame, features: list[Feature]) -> OnnxExport | Rejected:
    """The checked ONNX export of model, or why there is none (train.py prints it: one line).

    rows: the feature columns of the training and held-out data, typed as the model takes them.
    """
    try:
        return checked_export(model, rows, features)
    except Exception as error:  # anything unexpected is a reason too: the model still serves
        why = f"{type(error).__name__}: {reason_of(error)}"
        return Rejected(f"the ONNX export failed ({why})")


def checked_export(
    model: Any, rows: pd.DataFrame, features: list[Feature]
) -> OnnxExport | Rejected:
    if hasattr(model, "classes_") and len(model.classes_) < 2:
        return Rejected("a model of a single class is not exported")
    checked = check_rows(rows[[f.name for f in features]], features)
    problems = []
    for dtype in numeric_dtypes(model):
        name = np.dtype(dtype).name
        try:
            onnx_model, names = convert(model, features, dtype)
            problem, diff = parity_problem(model, onnx_model, names, checked, features, dtype)
        except Exception as error:  # skl2onnx and onnxruntime raise many types: "not this way"
            problems.append(f"{name}: {reason_of(error)}")
            continue
        if problem is None:
            return OnnxExport(onnx_model, names, len(checked), diff, name)
        problems.append(f"{name}: {problem}")
    return Rejected(f"the ONNX export was rejected ({'; '.join(problems)})")


def reason_of(error: Exception) -> str:
    """An error's first line, without the memory addresses some object reprs hold: the reason is
    kept in model_meta.json, which must be the same bytes on every run."""
    return ADDRESS.sub("", first_line(error))[:300]


@dataclass(frozen=True)
class Rejected:
    """No export, and why: one line, recorded in the model metadata (ModelMeta.onnx_skipped)."""

    reason: str


def with_export(meta: ModelMeta, exported: OnnxExport | Rejected) -> tuple[ModelMeta, bytes | None]:
    """meta with what the export gave (its parity and input names, or why there is none), and the
    ONNX model to write beside the pickled one (None: no export)."""
    if isinstance(exported, Rejected):
        return replace(meta, onnx_skipped=exported.reason), None
    return replace(meta, onnx_parity=exported.parity(), onnx_inputs=exported.inputs), exported.model


def runtime_line(exported: OnnxExport | Rejected) -> str:
    """The line training prints about the runtime that will serve this model."""
    if isinstance(exported, Rejected):
        return (
            "WARNING: no ONNX export, serving will use the scikit-learn model (far slower per"
            f" request): {exported.reason}."
        )
    return (
        f"train: ONNX export kept (checked on {exported.checked_rows} rows, largest difference"
        f" {exported.max_difference:.1e}): serving uses model.onnx with ONNX Runtime."
    )
