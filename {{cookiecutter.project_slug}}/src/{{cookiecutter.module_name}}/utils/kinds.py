"""The kinds of input column, and the one way a categorical value is spelt for the model.

Training (data/, features.py) and serving (the API, the batch CLI) both turn raw values into model
inputs with the functions here, so a category is the same text on both sides. Light on purpose: no
pandas or scikit-learn import, so the API's fast runtime does not load them.

    numeric      numbers (float or int); a missing one is NaN, imputed by the model's pipeline
    categorical  strings and booleans, and integers when declared in `data.kinds`; passed to the
                 model as text (see category_text), a missing one as MISSING_CATEGORY, after the
                 normalisation the data config chose (CategoryRule: surrounding spaces, case)

A date is a numeric feature with a `date_format`: requests send the date as text, and the model
takes it as a number, the days since 1970-01-01 (see date_number).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

NUMERIC = "numeric"
CATEGORICAL = "categorical"
KINDS = (NUMERIC, CATEGORICAL)
# ONNX string tensors have no null: a missing category travels as the empty string, and the
# pipeline's categorical imputer treats exactly that as missing (model.py).
MISSING_CATEGORY = ""
# The JSON types a request may carry for a feature, recorded at training time.
JSON_TYPES = ("float", "int", "str", "bool")
# The date_format of dates read from a date-typed column (Parquet): sent as ISO 8601 text.
ISO_8601 = "ISO 8601"
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
CASES = ("keep", "lower")


@dataclass(frozen=True)
class Feature:
    """One input column as the model sees it and a request must send it.

    dtype: the JSON type of its values ("float", "int", "str" or "bool").
    kind: NUMERIC or CATEGORICAL.
    categories: a categorical feature's values seen in training (others are accepted: the
        one-hot encoder ignores them); None for numeric features.
    nullable: the model imputes a missing value (null in a request).
    date_format: for a date, how a request writes it (a strptime format such as %Y-%m-%d, or
        ISO_8601); the model takes it as a number (date_number). None for every other feature.
    """

    name: str
    dtype: str
    kind: str = ""  # default: numeric for float and int, categorical for str and bool
    categories: list[str] | None = None
    nullable: bool = False
    date_format: str | None = None

    def __post_init__(self) -> None:
        if not self.kind:  # frozen: set once, here
            object.__setattr__(
                self, "kind", NUMERIC if self.dtype in ("float", "int") else CATEGORICAL
            )

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Feature:
        return cls(**raw)


@dataclass(frozen=True)
class CategoryRule:
    """How category text is normalised, alike in training and serving (data.normalize_categories).

    strip: drop surrounding white space (" Paris " is "Paris"; a value of spaces only is missing).
    case: "keep" ("Paris" and "paris" are two categories) or "lower" (both are "paris").
    The default does nothing: what a model trained before the setting existed did.
    """

    strip: bool = False
    case: str = "keep"

    def __post_init__(self) -> None:
        if self.case not in CASES:
            raise ValueError(f"case must be one of {', '.join(CASES)}, not {self.case!r}")

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> CategoryRule:
        return cls(**raw)

    def converter(self) -> Callable[[Any], str]:
        """value -> the model's text for a categorical feature under this rule."""
        if not self.strip and self.case == "keep":
            return category_text
        strip, lower = self.strip, self.case == "lower"

        def normalised(value: Any) -> str:
            # A request's text field holds a str (or None): skip category_text's type tests.
            text = value if type(value) is str else category_text(value)
            if strip:
                text = text.strip()
            return text.lower() if lower else text

        return normalised


def category_text(value: Any) -> str:
    """A categorical value as the model's text: 3, 3.0 and "3" are one category; None is missing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_CATEGORY
    if isinstance(value, bool) or type(value).__name__ == "bool_":  # numpy booleans too
        return "True" if value else "False"
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real) and float(value).is_integer():
        return str(math.trunc(value))
    return str(value)


def numeric_value(value: Any) -> float:
    """A numeric value as the model's float: None is missing (NaN, which the pipeline imputes)."""
    return math.nan if value is None else float(value)


def date_number(value: Any, date_format: str) -> float:
    """A date (or a date and time) as the model's number: days since 1970-01-01 UTC, a time of day
    as a fraction of a day; a date without a time zone is taken as UTC. None is missing (NaN);
    text that does not match date_format raises ValueError."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return math.nan
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if date_format == ISO_8601:
            moment = datetime.fromisoformat(text)
        else:
            moment = datetime.strptime(text, date_format)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return (moment - EPOCH) / timedelta(days=1)


def value_converter(kind: str, rule: CategoryRule | None = None) -> Callable[[Any], Any]:
    """How one value of a feature of this kind becomes the model's input (one record at a time)."""
    if kind == NUMERIC:
        return numeric_value
    return category_text if rule is None else rule.converter()
