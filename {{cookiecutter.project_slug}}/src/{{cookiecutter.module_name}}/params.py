"""params.yaml as typed settings, checked once at the start of every stage.

A misspelt or unknown key, a wrong type or a value out of range stops the stage with one message
that names the key and the file, before any work is done. The estimator's and the preprocessing
steps' own arguments are checked against their classes when the model is built (model.py), which
the train stage does first.
"""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from .utils.errors import PipelineError

Task = Literal["classification", "regression"]
Kind = Literal["numeric", "categorical"]


def project_path(value: str) -> str:
    """A path inside the project: relative, without `..` (DVC tracks only what is inside)."""
    path = PurePosixPath(value)
    if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
        raise ValueError(f"must be a relative path inside the project, not {value!r}")
    return value


def component(value: dict[str, Any]) -> dict[str, Any]:
    """An object built by hydra.utils.instantiate: needs a `_target_` class path."""
    if not isinstance(value.get("_target_"), str) or not value["_target_"].strip():
        raise ValueError("needs a _target_ naming a class, for example sklearn.svm.SVC")
    return value


ProjectPath = Annotated[str, AfterValidator(project_path)]
Component = Annotated[dict[str, Any], AfterValidator(component)]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)


class PathParams(Section):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    raw: ProjectPath
    train: ProjectPath
    test: ProjectPath
    # `schema` would shadow pydantic's own method: the field is schema_, the key `schema`.
    schema_: ProjectPath = Field(alias="schema")
    model_dir: ProjectPath
    metrics: ProjectPath
    predictions: ProjectPath
    lineage: ProjectPath
    # The cross-validation's fold scores, written by training for the evaluate stage.
    cv: ProjectPath


class MlflowParams(Section):
    experiment: str = Field(min_length=1)
    registered_model: str | None = Field(None, min_length=1)


def is_url(source: str) -> bool:
    """True for a data.source DVC and pandas fetch over HTTP(S); else it is a local path."""
    return urlparse(source).scheme in ("http", "https")


def one_character(value: str | None) -> str | None:
    """A CSV delimiter: one character."""
    if value is not None and len(value) != 1:
        raise ValueError(f'must be one character, for example ";" or "\\t" (a tab), not {value!r}')
    return value


class CategoryParams(Section):
    """How category text is normalised before training and serving (kinds.CategoryRule)."""

    strip: bool = True
    case: Literal["keep", "lower"] = "keep"


class DataParams(Section):
    name: str = Field(min_length=1)
    source: str = Field(min_length=1)
    target: str = Field(min_length=1)
    task: Task
    features: list[str] | None = Field(None, min_length=1)
    kinds: dict[str, Kind] = Field(default_factory=dict)
    normalize_categories: CategoryParams = Field(default_factory=CategoryParams)
    test_size: float = Field(0.2, gt=0, lt=1)
    # With inferred features: leave out the columns that identify rows (data/screen.py), or keep.
    identifiers: Literal["drop", "keep"] = "drop"
    # Dates: a numeric feature, the days since 1970-01-01; or left out of inferred features.
    dates: Literal["days", "drop"] = "days"
    # Cell values that mean "missing" (besides an empty cell), for example [unknown, "?", -999].
    missing_values: list[str | float] = Field(default_factory=list)
    # The CSV delimiter; null: from the file name (.csv comma, .tsv tab, .txt guessed).
    delimiter: Annotated[str | None, AfterValidator(one_character)] = None


class PreprocessingParams(Section):
    """Named steps per kind of column, in order; each one built from its _target_."""

    numeric: dict[str, Component] = Field(default_factory=dict)
    categorical: dict[str, Component] = Field(default_factory=dict)


class ModelParams(Section):
    name: str = Field(min_length=1)
    scale: bool = False
    estimator: Component


class EvaluationParams(Section):
    """How uncertain each score is: cross-validation on the training split, bootstrap on the test
    split (stats/resampling.py, stats/intervals.py)."""

    folds: int = Field(5, ge=2)
    repeats: int = Field(1, ge=1)
    bootstrap: int = Field(1000, ge=0)
    confidence: float = Field(0.95, gt=0, lt=1)


class OnnxParams(Section):
    """Whether training exports the model to ONNX for the API (artifact/onnx_export.py).

    auto: unless its serialised size is over max_model_mb (converting costs time in proportion);
    always: whatever its size; never: the API serves the scikit-learn model.
    """

    export: Literal["auto", "always", "never"] = "auto"
    max_model_mb: float = Field(25.0, gt=0)


class PlotParams(Section):
    """How `dvc plots show` draws the predictions file: a DVC template per task."""

    templates: dict[Task, str]
    template: str


class Params(Section):
    name: str = Field(min_length=1)
    seed: int = Field(ge=0, le=2**32 - 1)
    paths: PathParams
    mlflow: MlflowParams
    data: DataParams
    preprocessing: PreprocessingParams = Field(default_factory=PreprocessingParams)
    model: ModelParams
    evaluation: EvaluationParams = Field(default_factory=EvaluationParams)
    onnx: OnnxParams = Field(default_factory=OnnxParams)
    plots: PlotParams


def parse_params(raw: Any, source: str = "params.yaml") -> Params:
    """Validate a plain mapping (params.yaml, or a composed config) into Params.

    PipelineError names the first wrong key and the file; `source` says which file that is.
    """
    try:
        return Params.model_validate(raw)
    except ValidationError as error:
        problem = error.errors()[0]
        key = ".".join(str(part) for part in problem["loc"]) or "(top level)"
        given = problem.get("input")
        shown = "" if problem["type"] in ("missing", "extra_forbidden") else f" (got {given!r})"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown setting: check its spelling"
        more = f"; {error.error_count() - 1} more problem(s)" if error.error_count() > 1 else ""
        raise PipelineError(f"{source}: {key}: {message}{shown}{more}.") from error
