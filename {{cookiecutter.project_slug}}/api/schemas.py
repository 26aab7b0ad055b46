"""Request and response bodies.

The record schema is not written by hand: it is built from the feature list saved at training time,
so the API always asks for exactly the columns the model was trained on, with their types.
Records are TypedDicts rather than pydantic models: validated records stay plain dicts, which
halves the cost of validating a large batch; the schema, the checks and the errors are the same.
Their keys are the column names exactly as in the training data, whatever characters they hold.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from typing_extensions import NotRequired, TypedDict  # pydantic needs these on Python < 3.12

from {{ cookiecutter.module_name }}.utils.kinds import Feature, date_number

# The largest finite float32: tree models compare inputs as float32, where a larger number becomes
# infinity. Refused for every model, so both runtimes answer the same.
FLOAT32_MAX = 3.4028234663852886e38

# Strict: "5.1" is not a number and 1 is not a bool; numbers must be finite (NaN breaks models).
FIELD_TYPES: dict[str, Any] = {
    "float": Annotated[
        float, Field(strict=True, allow_inf_nan=False, ge=-FLOAT32_MAX, le=FLOAT32_MAX)
    ],
    "int": Annotated[int, Field(strict=True, ge=-(2**53), le=2**53)],
    "str": Annotated[str, Field(strict=True, max_length=10_000)],
    "bool": Annotated[bool, Field(strict=True)],
}
NO_EXTRA_KEYS = ConfigDict(extra="forbid")
# A 422 lists this many errors at most, and counts the others: a batch of 1000 empty records has
# 4000, and the answer must not be many times the size of the request.
MAX_LISTED_ERRORS = 20


def record_type(features: list[Feature]) -> Any:
    """A dict type with one strictly typed key per feature, and no others.

    A feature the model imputes (nullable) takes null, and may be left out, which means null; the
    others are required. Each field's title is the column name itself (not pydantic's title case).
    """
    fields: dict[str, Any] = {}
    for feature in features:
        if feature.dtype not in FIELD_TYPES:
            raise ValueError(
                f"feature {feature.name!r} has dtype {feature.dtype!r}; expected one of"
                f" {', '.join(FIELD_TYPES)}"
            )
        value_type = FIELD_TYPES[feature.dtype]
        if feature.date_format is not None:
            value_type = date_field(feature.date_format)
        if feature.nullable:
            fields[feature.name] = NotRequired[
                Annotated[value_type | None, Field(title=feature.name)]
            ]
        else:
            fields[feature.name] = Annotated[value_type, Field(title=feature.name)]
    return strict_dict("Record", fields)


def date_field(date_format: str) -> Any:
    """A date, sent as text written as in training; validated into the model's number of days
    (kinds.date_number), so a malformed date is a 422 naming the field."""

    def to_days(text: str) -> float:
        try:
            return date_number(text, date_format)
        except ValueError:
            raise ValueError(f"expected a date written {date_format}") from None

    return Annotated[
        str,
        Field(strict=True, max_length=100, description=f"a date written {date_format}"),
        AfterValidator(to_days),
    ]


def predict_request_type(features: list[Feature], max_batch_size: int) -> Any:
    """The /predict body: a non-empty list of records, at most max_batch_size long."""
    record = record_type(features)
    records = Annotated[list[record], Field(min_length=1, max_length=max_batch_size)]  # type: ignore[valid-type]  # a type built at run time, which mypy cannot see
    return strict_dict("PredictRequest", {"records": records})


def strict_dict(name: str, fields: dict[str, Any]) -> Any:
    """A TypedDict named `name` (the schema's title) that refuses keys it does not list."""
    make_typed_dict: Any = TypedDict  # called with a name and fields known at run time only
    typed_dict = make_typed_dict(name, fields)
    typed_dict.__pydantic_config__ = NO_EXTRA_KEYS
    return typed_dict


class PredictResponse(BaseModel):
    predictions: list[Any] = Field(description="One prediction per record, in request order.")
    classes: list[str] | None = Field(
        None, description="Class labels, the column order of `probabilities` (classifiers only)."
    )
    probabilities: list[list[float]] | None = Field(
        None, description="Per record, the probability of each class (classifiers only)."
    )
    unseen: list[list[str]] = Field(
        description="Per record, in request order, the categorical fields whose value (after the"
        " model's normalisation, see /metadata) was never seen in training: the record is answered"
        " anyway, that value encoded as none of the known categories. Empty when every value was"
        " seen. Features with too many categories to list are not checked."
    )
    model_name: str
    model_version: str | None = None


class ErrorMessage(BaseModel):
    """An error answer: what went wrong, in words."""

    detail: str


class FieldError(BaseModel):
    """One reason a request was refused, as FastAPI reports it."""

    loc: list[str | int] = Field(description='Where: ["body", "records", <record>, <field>].')
    msg: str
    type: str
    input: Any = Field(None, description="The value refused (absent for missing fields).")
    ctx: dict[str, Any] = Field(default_factory=dict, description="Details (a limit, ...).")


class InvalidRequest(BaseModel):
    """A request the model cannot score: the first errors found, and how many more there are."""

    detail: list[FieldError]
    omitted_errors: int = Field(
        0, description="Errors found beyond those listed (present only when there are some)."
    )


class Health(BaseModel):
    status: str = "ok"


class Ready(BaseModel):
    status: str = "ready"
    model_name: str
    source: str


class FeatureInfo(BaseModel):
    """One input of the model, as a request must send it."""

    name: str
    dtype: str = Field(description="JSON type of the value: float (any number), int, str or bool.")
    kind: str = Field(description="numeric or categorical.")
    categories: list[str] | None = Field(
        None,
        description="A categorical feature's values seen in training (others are accepted and"
        " encoded as none of them); null for numeric features or too many to list.",
    )
    nullable: bool = Field(
        description="null is accepted, and so is leaving the field out: the model imputes it."
    )
    date_format: str | None = Field(
        None,
        description="A date's: how the text a request sends is written (a strptime format such"
        " as %Y-%m-%d, or ISO 8601); the model takes it as days since 1970-01-01.",
    )


class CategoryNormalisation(BaseModel):
    """How a categorical value is normalised for the model (data.normalize_categories)."""

    strip: bool = Field(description="Surrounding white space is removed.")
    case: str = Field(description='"keep" the case, or "lower" it: then "Female" is "female".')


class Metadata(BaseModel):
    """Which run, commit, data and config produced the served model."""

    model_config = ConfigDict(protected_namespaces=())

    model_name: str
    model_version: str | None
    source: str
    runtime: str = Field(description="What scores requests: onnx (checked export) or scikit-learn.")
    runtime_reason: str = Field(description="Why that runtime serves the model.")
    run_id: str | None
    git_commit: str | None
    git_dirty: bool | None
    data_hash: str | None
    config_name: str | None
    trained_at: str | None
    metrics: dict[str, float]
    target: str
    task: str = Field(description="classification or regression.")
    classes: list[str] | None
    features: list[FeatureInfo]
    normalize_categories: CategoryNormalisation
