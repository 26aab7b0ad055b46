"""Request and response bodies.

The record schema is not written by hand: it is built from the feature list saved at training time,
so the API always asks for exactly the columns the model was trained on, with their types.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from {{ cookiecutter.module_name }}.artifacts import Feature

# Strict: "5.1" is not a float and 1 is not a bool; a finite float is required (NaN breaks models).
FIELD_TYPES: dict[str, Any] = {
    "float": Annotated[float, Field(strict=True, allow_inf_nan=False)],
    "int": Annotated[int, Field(strict=True)],
    "str": Annotated[str, Field(strict=True)],
    "bool": Annotated[bool, Field(strict=True)],
}
RECORD_CONFIG = ConfigDict(extra="forbid")


def record_model(features: list[Feature]) -> type[BaseModel]:
    """A pydantic model with one required, strictly typed field per feature, and no others."""
    fields: dict[str, Any] = {}
    for feature in features:
        if feature.dtype not in FIELD_TYPES:
            raise ValueError(
                f"feature {feature.name!r} has dtype {feature.dtype!r}; expected one of"
                f" {', '.join(FIELD_TYPES)}"
            )
        fields[feature.name] = (FIELD_TYPES[feature.dtype], ...)
    return create_model("Record", __config__=RECORD_CONFIG, **fields)


def predict_request_model(features: list[Feature], max_batch_size: int) -> type[BaseModel]:
    """The /predict body: a non-empty list of records, at most max_batch_size long."""
    record = record_model(features)
    records = Annotated[list[record], Field(min_length=1, max_length=max_batch_size)]  # type: ignore[valid-type]
    return create_model("PredictRequest", __config__=RECORD_CONFIG, records=(records, ...))


class PredictResponse(BaseModel):
    predictions: list[Any] = Field(description="One prediction per record, in request order.")
    classes: list[str] | None = Field(
        None, description="Class labels, the column order of `probabilities`."
    )
    probabilities: list[list[float]] | None = Field(
        None, description="Per record, the probability of each class (classifiers only)."
    )
    model_name: str
    model_version: str | None = None


class Health(BaseModel):
    status: str = "ok"


class Ready(BaseModel):
    status: str = "ready"
    model_name: str
    source: str


class Metadata(BaseModel):
    """Which run, commit, data and config produced the served model."""

    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str | None
    source: str
    runtime: str = Field(description="What scores requests: onnx (checked export) or scikit-learn.")
    run_id: str | None
    git_commit: str | None
    git_dirty: bool | None
    data_hash: str | None
    config_name: str | None
    trained_at: str | None
    metrics: dict[str, float]
    target: str
    classes: list[str] | None
    features: list[dict[str, str]]
