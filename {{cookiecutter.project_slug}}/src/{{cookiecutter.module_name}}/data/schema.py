"""What the data stage decided about the table (data/processed/schema.json), and reading it back."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..utils.errors import PipelineError
from ..utils.kinds import CATEGORICAL, NUMERIC


@dataclass(frozen=True)
class TableSchema:
    """What the data stage decided: the task, and each feature's kind and JSON type."""

    target: str
    task: str  # "classification" or "regression"
    features: list[str]
    kinds: dict[str, str]  # feature -> NUMERIC or CATEGORICAL
    dtypes: dict[str, str]  # feature -> "float", "int", "str" or "bool": what a request sends
    # Date features -> how their text is written (a strptime format, or kinds.ISO_8601); the
    # split holds them as numbers (kinds.date_number).
    dates: dict[str, str] = field(default_factory=dict)
    # Columns the data stage left out of inferred features, and why (screen.py).
    left_out: dict[str, str] = field(default_factory=dict)
    # What the data stage did with the rows (the report shows it): how many it read from
    # data.source, and how many of those it dropped for lacking a target. None: not recorded.
    rows_read: int | None = None
    rows_without_target: int | None = None
    # How category text was normalised (kinds.CategoryRule as a dict; empty: not at all): training
    # records it with the model, so serving applies the same.
    normalize_categories: dict[str, Any] = field(default_factory=dict)

    @property
    def categorical(self) -> list[str]:
        return [name for name in self.features if self.kinds[name] == CATEGORICAL]

    @property
    def numeric(self) -> list[str]:
        return [name for name in self.features if self.kinds[name] == NUMERIC]


def schema_json(schema: TableSchema) -> str:
    return json.dumps(asdict(schema), indent=2) + "\n"


def load_schema(path: Path) -> TableSchema:
    """The schema the data stage wrote (data/processed/schema.json)."""
    if not path.is_file():
        raise PipelineError(f"no data schema at {path}: run the data stage first (dvc repro data).")
    try:
        return TableSchema(**json.loads(path.read_text(encoding="utf-8")))
    except (ValueError, TypeError) as error:
        raise PipelineError(
            f"{path} is not a data schema ({error}): run `dvc repro data`."
        ) from error
