"""Batch prediction: a table of feature rows in, the same rows with predictions out.

    python -m {{ cookiecutter.module_name }}.predict data/new.csv predictions.csv [--model-dir models]

Reads the pipeline's model artifact (artifact/) only: no MLflow, Hydra or DVC needed. Values are
turned into model inputs exactly as the data stage did (data/, utils/kinds.py), category
text normalised by the rule recorded with the model. Rows holding a category the model never saw
in training are predicted too, and counted per column in one line on stderr.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from .artifact.meta import ArtifactError, ModelMeta
from .artifact.read import load_artifacts
from .data import as_categories, as_dates, as_numbers, load_source
from .utils import files
from .utils.cli import command_parser
from .utils.errors import PipelineError, exit_on_error, shown
from .utils.kinds import CATEGORICAL, MISSING_CATEGORY, NUMERIC


def model_inputs(meta: ModelMeta, frame: pd.DataFrame) -> pd.DataFrame:
    """The feature columns, typed as the model takes them; PipelineError for unusable values."""
    names = [feature.name for feature in meta.features]
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise PipelineError(f"the input lacks the feature column(s) {', '.join(missing)}.")
    columns = {}
    for feature in meta.features:
        column = frame[feature.name]
        if feature.kind == NUMERIC:
            fmt = feature.date_format
            values = as_numbers(column) if fmt is None else as_dates(column, fmt)
            text = column[values.isna() & column.notna()]
            if len(text):
                wanted = "numbers" if fmt is None else f"dates written {fmt}, as in training"
                raise PipelineError(
                    f"column {feature.name!r} must hold {wanted}, not {shown(text.iloc[0])}"
                    f" (row {int(text.index[0]) + 1})."
                )
        else:
            values = as_categories(column, meta.normalize_categories)
        gaps = column.isna()
        if gaps.any() and not feature.nullable:
            raise PipelineError(
                f"column {feature.name!r} has missing values (row {int(gaps.idxmax()) + 1}),"
                " and this model cannot impute them."
            )
        columns[feature.name] = values
    return pd.DataFrame(columns, index=frame.index)


def unseen_categories(meta: ModelMeta, inputs: pd.DataFrame) -> dict[str, int]:
    """Per categorical feature that lists its categories, how many rows of the model inputs hold
    one the model never saw in training (a missing value is not one)."""
    counts = {}
    for feature in meta.features:
        if feature.kind == CATEGORICAL and feature.categories is not None:
            known = [*feature.categories, MISSING_CATEGORY]
            count = int((~inputs[feature.name].isin(known)).sum())
            if count:
                counts[feature.name] = count
    return counts


def new_column(name: str, frame: pd.DataFrame) -> str:
    """name, or name_ (name__, ...) when the table has a column of that name already: a column
    of the user's is never overwritten."""
    while name in frame.columns:
        name += "_"
    return name


def predict_frame(model: Any, meta: ModelMeta, frame: pd.DataFrame) -> pd.DataFrame:
    """frame plus a `prediction` column and, for classifiers, a `proba_<class>` column per class
    (each followed by `_` when the table has a column of its name)."""
    inputs = model_inputs(meta, frame)
    unseen = unseen_categories(meta, inputs)
    if unseen:
        counts = ", ".join(
            f"{name!r} in {count} row{'s' if count > 1 else ''}" for name, count in unseen.items()
        )
        print(
            f"predict: categories never seen in training, predicted anyway: {counts}",
            file=sys.stderr,
        )
    result = frame.copy()
    result[new_column("prediction", result)] = model.predict(inputs)
    if meta.task == "classification" and meta.classes and hasattr(model, "predict_proba"):
        for label, column in zip(meta.classes, model.predict_proba(inputs).T, strict=True):
            result[new_column(f"proba_{label}", result)] = column.round(6)
    return result


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("predict", __doc__)
    parser.add_argument("input", type=Path, help="CSV or Parquet table with the feature columns")
    parser.add_argument("output", type=Path, help="CSV to write (replaced atomically)")
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    try:
        model, meta = load_artifacts(args.model_dir)
    except ArtifactError as error:
        raise PipelineError(str(error)) from error
    predictions = predict_frame(model, meta, load_source(str(args.input)))
    files.write_csv(args.output, predictions)
    print(f"predict: wrote {len(predictions)} predictions to {args.output}")


if __name__ == "__main__":
    main()
