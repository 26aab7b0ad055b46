"""The model the API serves: the estimator, its metadata, and how to hand it a batch of records.

Two runtimes: the checked ONNX export (`serve_onnx`: microseconds per record, no scikit-learn
import) or the scikit-learn model (`serve`). Where the model comes from is api/sources/. A model
that cannot do what its metadata promises becomes an ArtifactError whose message says what to do.

Both runtimes turn a record into model inputs the same way as training did (utils/kinds.py: the same
category text, normalised by the rule recorded with the model), and both report, per record, the
categorical fields whose value the model never saw in training.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any, NamedTuple

import numpy as np
from pydantic_core import to_json

from {{ cookiecutter.module_name }}.artifact.meta import ArtifactError, ModelMeta
from {{ cookiecutter.module_name }}.artifact.onnx_runtime import onnx_probabilities
from {{ cookiecutter.module_name }}.utils.kinds import (
    CATEGORICAL,
    JSON_TYPES,
    MISSING_CATEGORY,
    NUMERIC,
    value_converter,
)

Score = Callable[[Any], tuple[list[Any], list[list[float]] | None]]


class Answer(NamedTuple):
    """A /predict answer: the body, and per feature how many records held an unseen category."""

    body: bytes
    unseen: dict[str, int]


class NonFiniteOutput(ValueError):
    """The model answered NaN or infinity, which JSON cannot carry: a fault of the model."""


@dataclass(frozen=True)
class ServedModel:
    """A loaded model plus what the request path needs, all decided once at load time."""

    meta: ModelMeta
    source: str
    runtime: str  # "onnx" (model.onnx, checked at training time) or "scikit-learn"
    classes: list[str] | None  # column order of the probabilities; None when there are none
    score: Score  # model inputs (see _as_input) -> predictions, probabilities
    wants_frame: bool  # True: a pandas DataFrame (scikit-learn); False: ONNX per-feature arrays
    dtype: Any = np.float64  # of the numeric ONNX inputs
    # Per feature (in order), the name of its model input: the ONNX graph's (ModelMeta.onnx_inputs)
    # or, for scikit-learn, the column name itself. None: the feature names.
    input_names: list[str] | None = None
    runtime_reason: str = ""  # why this runtime serves (shown by /metadata)

    @cached_property
    def feature_names(self) -> list[str]:
        return [feature.name for feature in self.meta.features]

    @cached_property
    def _converters(self) -> list[Callable[[Any], Any]]:
        """Per feature, value -> model input: the same rules as training (utils/kinds.py)."""
        rule = self.meta.normalize_categories
        return [value_converter(f.kind, rule) for f in self.meta.features]

    @cached_property
    def _known(self) -> list[tuple[int, str, frozenset[str]]]:
        """(position, name, categories seen in training) of each categorical feature that has a
        list of them (a feature with too many to list is not checked); missing is not unseen."""
        return [
            (index, f.name, frozenset(f.categories) | {MISSING_CATEGORY})
            for index, f in enumerate(self.meta.features)
            if f.kind == CATEGORICAL and f.categories is not None
        ]

    @cached_property
    def checked_categories(self) -> list[str]:
        """The categorical features whose unseen values are reported (those listing categories)."""
        return [name for _, name, _ in self._known]

    @cached_property
    def _nulls(self) -> dict[str, None]:
        """A record of nulls: what an omitted (nullable) field stands for."""
        return dict.fromkeys(self.feature_names)

    @cached_property
    def _row_of(self) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
        """A record's values in feature order (built once: this runs for every record)."""
        getter = itemgetter(*self.feature_names)
        if len(self.feature_names) == 1:  # itemgetter of one key returns the value, not a 1-tuple
            return lambda record: (getter(record),)
        return getter

    def predict(self, records: list[dict[str, Any]]) -> tuple[list[Any], list[list[float]] | None]:
        """Predictions (and class probabilities) for validated records, in request order."""
        return self.score(self._as_input(self._columns(records)))

    def answer(self, records: list[dict[str, Any]]) -> Answer:
        """The /predict response body (schemas.PredictResponse) for validated records, and the
        count of unseen categories per feature (for the log line and /metrics).

        pydantic's serializer, not json.dumps: ten times faster on a large batch, and what FastAPI
        itself uses for response models. A regressor answers numbers only (no classes).
        """
        columns = self._columns(records)
        unseen, counts = self._unseen(columns, len(records))
        predictions, probabilities = self.score(self._as_input(columns))
        body: dict[str, Any] = {"predictions": predictions}
        if self.classes is not None:
            body["classes"] = self.classes
            body["probabilities"] = probabilities
        body["unseen"] = unseen
        body["model_name"] = self.meta.model_name
        body["model_version"] = self.meta.model_version
        rendered = to_json(body, inf_nan_mode="constants")
        # NaN and Infinity are not JSON. The byte search is only a cheap first check: a class label
        # may contain those letters too.
        if (b"NaN" in rendered or b"Infinity" in rendered) and not finite(body):
            raise NonFiniteOutput(
                "the model returned NaN or infinity for this request; JSON has no such numbers"
            )
        return Answer(rendered, counts)

    def _unseen(
        self, columns: list[list[Any]], size: int
    ) -> tuple[list[list[str]], dict[str, int]]:
        """Per record, the fields that held a category unseen in training; per field, how many
        records did. One set test per categorical column, and per value only when it fails."""
        per_record: list[list[str]] | None = None
        counts: dict[str, int] = {}
        for index, name, known in self._known:
            column = columns[index]
            if known.issuperset(column):
                continue
            if per_record is None:
                per_record = [[] for _ in range(size)]
            rows = [row for row, value in enumerate(column) if value not in known]
            for row in rows:
                per_record[row].append(name)
            counts[name] = len(rows)
        if per_record is None:
            return [[]] * size, counts  # one shared empty list: rendered, never changed
        return per_record, counts

    def _rows(self, records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Each record's values in feature order; a field left out (only a nullable one may be)
        is null. The usual case, every field sent, costs one C call per record."""
        try:
            return list(map(self._row_of, records))
        except KeyError:
            nulls = self._nulls
            return [
                self._row_of(record if len(record) == len(nulls) else {**nulls, **record})
                for record in records
            ]

    def _columns(self, records: list[dict[str, Any]]) -> list[list[Any]]:
        """Per feature, the converted values of every record."""
        rows = self._rows(records)
        columns = zip(*rows, strict=True) if len(rows) > 1 else ([v] for v in rows[0])
        return [
            list(map(convert, column))
            for convert, column in zip(self._converters, columns, strict=True)
        ]

    def _as_input(self, columns: list[list[Any]]) -> Any:
        if not self.wants_frame:
            names = self.input_names or self.feature_names
            return {
                name: np.array(values, dtype=self.dtype if f.kind == NUMERIC else object).reshape(
                    -1, 1
                )
                for name, f, values in zip(names, self.meta.features, columns, strict=True)
            }
        import pandas as pd  # only for the scikit-learn runtime

        data = {
            f.name: pd.Series(values, dtype="float64" if f.kind == NUMERIC else object)
            for f, values in zip(self.meta.features, columns, strict=True)
        }
        return pd.DataFrame(data)


def finite(body: dict[str, Any]) -> bool:
    """True when no prediction or probability in the /predict body is NaN or infinite."""
    values = [value for value in body["predictions"] if isinstance(value, float)]
    values += [value for row in body.get("probabilities") or [] for value in row]
    return all(math.isfinite(value) for value in values)


def check_features(meta: ModelMeta, source: str) -> None:
    if not meta.features:
        raise ArtifactError(
            f"{source}: the model metadata lists no features to build a request from."
        )
    unknown = [f"{f.name} ({f.dtype})" for f in meta.features if f.dtype not in JSON_TYPES]
    if unknown:
        raise ArtifactError(
            f"{source}: cannot build a request for features {', '.join(unknown)};"
            f" feature dtypes must be one of {', '.join(sorted(JSON_TYPES))}."
        )


def serve(estimator: Any, meta: ModelMeta, source: str, reason: str = "") -> ServedModel:
    """Serve a scikit-learn estimator, checking it can do what the metadata promises.

    reason: why the scikit-learn runtime serves (no checked ONNX export, ...), for /metadata."""
    if not hasattr(estimator, "predict"):
        raise ArtifactError(f"{source}: the saved object has no predict() method.")
    check_features(meta, source)
    expected = getattr(estimator, "feature_names_in_", None)
    if expected is not None and sorted(map(str, expected)) != sorted(f.name for f in meta.features):
        raise ArtifactError(
            f"{source}: the model was trained on features {', '.join(map(str, expected))},"
            f" but its metadata lists {', '.join(f.name for f in meta.features)}: retrain."
        )
    classes = None
    if meta.task == "classification" and hasattr(estimator, "predict_proba"):
        classes = [str(label) for label in estimator.classes_]

    def score(inputs: Any) -> tuple[list[Any], list[list[float]] | None]:
        predictions = estimator.predict(inputs).tolist()
        if classes is None:
            return predictions, None
        return predictions, estimator.predict_proba(inputs).tolist()

    return ServedModel(
        meta, source, "scikit-learn", classes, score, wants_frame=True, runtime_reason=reason
    )


def serve_onnx(session: Any, meta: ModelMeta, source: str) -> ServedModel:
    """Serve the checked ONNX export: one input per feature in, labels (and probabilities) out.

    Each feature is fed to the input the metadata names for it (ModelMeta.onnx_inputs: the export
    may have renamed it); a model trained before that record existed has inputs named as its
    features."""
    check_features(meta, source)
    inputs = {model_input.name: model_input.type for model_input in session.get_inputs()}
    mapping = meta.onnx_inputs or {f.name: f.name for f in meta.features}
    names = [mapping.get(f.name, "") for f in meta.features]
    if sorted(inputs) != sorted(names):
        raise ArtifactError(
            f"{source}: model.onnx takes inputs {', '.join(inputs)}, but the metadata lists"
            f" features {', '.join(f.name for f in meta.features)}: retrain."
        )
    # Tree models are exported for float32 inputs (what scikit-learn's trees compare).
    numeric = [
        inputs[name] for name, f in zip(names, meta.features, strict=True) if f.kind == NUMERIC
    ]
    dtype = np.float64 if numeric and numeric[0] == "tensor(double)" else np.float32
    outputs = [output.name for output in session.get_outputs()]
    has_probabilities = len(outputs) > 1 and meta.task == "classification"
    classes = meta.classes if has_probabilities else None
    wanted = outputs[:2] if has_probabilities else outputs[:1]
    regression = meta.task == "regression"

    def score(feeds: dict[str, np.ndarray]) -> tuple[list[Any], list[list[float]] | None]:
        labels, *probabilities = session.run(wanted, feeds)
        if regression:  # (n, 1) float32 or float64 values
            return labels.ravel().astype(np.float64).tolist(), None
        return labels.ravel().tolist(), onnx_probabilities(
            probabilities[0]
        ) if probabilities else None

    checked = (meta.onnx_parity or {}).get("checked_rows")
    reason = "model.onnx, the export training checked against the scikit-learn model" + (
        f" on {checked} rows" if checked else ""
    )
    return ServedModel(
        meta,
        source,
        "onnx",
        classes,
        score,
        wants_frame=False,
        dtype=dtype,
        input_names=names,
        runtime_reason=reason,
    )
