"""Batch prediction: a CSV of feature rows in, the same rows with predictions out.

    python -m {{ cookiecutter.module_name }}.predict data/new.csv predictions.csv [--model-dir models]

Reads the pipeline's model artifact (artifacts.py) only: no MLflow, Hydra or DVC needed.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from . import files
from .artifacts import ArtifactError, ModelMeta, load_artifacts
from .data import read_csv, validate
from .errors import PipelineError, exit_on_error


def predict_frame(model: Any, meta: ModelMeta, frame: pd.DataFrame) -> pd.DataFrame:
    """frame plus a `prediction` column and, for classifiers, a `proba_<class>` column per class."""
    names = [feature.name for feature in meta.features]
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise PipelineError(f"the input lacks the feature column(s) {', '.join(missing)}.")
    # Reuse the training checks (numeric, no gaps); the target column is not needed here.
    inputs = validate(frame.assign(_target=0), names, "_target")[names]
    result = frame.copy()
    result["prediction"] = model.predict(inputs)
    if meta.classes and hasattr(model, "predict_proba"):
        for label, column in zip(meta.classes, model.predict_proba(inputs).T, strict=True):
            result[f"proba_{label}"] = column.round(6)
    return result


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m {{ cookiecutter.module_name }}.predict", description=__doc__)
    parser.add_argument("input", type=Path, help="CSV with a header row and the feature columns")
    parser.add_argument("output", type=Path, help="CSV to write (replaced atomically)")
    parser.add_argument("--model-dir", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    try:
        model, meta = load_artifacts(args.model_dir)
    except ArtifactError as error:
        raise PipelineError(str(error)) from error
    predictions = predict_frame(model, meta, read_csv(str(args.input)))
    files.write_csv(args.output, predictions)
    print(f"predict: wrote {len(predictions)} predictions to {args.output}")


if __name__ == "__main__":
    main()
