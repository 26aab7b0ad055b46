"""The DVC stages (see dvc.yaml). Each reads only params.yaml and calls small functions.

python -m {{ cookiecutter.module_name }}.stages config     # configs/ -> params.yaml
python -m {{ cookiecutter.module_name }}.stages data       # data.source -> data/raw, data/processed
python -m {{ cookiecutter.module_name }}.stages train      # data/processed -> models/ (+ an MLflow run)
python -m {{ cookiecutter.module_name }}.stages evaluate   # models/ + test data -> reports/
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig

from . import files
from .config import PARAMS_FILE, load_params, write_params
from .data import load_source, split, validate
from .errors import exit_on_error


def prepare_data(cfg: DictConfig) -> None:
    """Load data.source, validate and split it, write raw + train/test CSVs (none on failure)."""
    data = cfg.data
    raw = load_source(str(data.source))
    clean = validate(raw, list(data.features), data.target)
    train_frame, test_frame = split(clean, data.target, float(data.test_size), int(cfg.seed))
    files.write_csv(Path(cfg.paths.raw), raw)
    files.write_csv(Path(cfg.paths.train), train_frame)
    files.write_csv(Path(cfg.paths.test), test_frame)
    print(f"data: {len(train_frame)} training rows, {len(test_frame)} test rows from {data.source}")


def run_train(cfg: DictConfig) -> None:
    from .train import train

    meta = train(cfg)
    print(f"train: {meta.metrics} (MLflow run {meta.run_id}, version {meta.model_version})")


def run_evaluate(cfg: DictConfig) -> None:
    """Score the trained model on the test split; write the DVC metrics and confusion-plot files."""
    from .artifacts import ArtifactError, load_artifacts
    from .evaluate import confusion_rows, metrics_json, score
    from .features import split_xy
    from .train import load_split

    try:
        model, _ = load_artifacts(Path(cfg.paths.model_dir))
    except ArtifactError as error:
        from .errors import PipelineError

        raise PipelineError(str(error)) from error
    features, target = list(cfg.data.features), cfg.data.target
    x, y = split_xy(load_split(Path(cfg.paths.test), features, target), features, target)
    metrics = score(model, x, y)
    files.write_csv(Path(cfg.paths.confusion), confusion_rows(model, x, y))
    files.write_text(Path(cfg.paths.metrics), metrics_json(metrics))
    print(f"evaluate: {metrics}")


def run_config(params: Path) -> None:
    if write_params(params):
        print(f"config: composed configs/ into {params}")
    else:
        print(f"config: inside `dvc exp run`, which already composed {params}: left as it is")


STAGES = {"data": prepare_data, "train": run_train, "evaluate": run_evaluate}


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m {{ cookiecutter.module_name }}.stages", description=__doc__)
    parser.add_argument("stage", choices=["config", *STAGES])
    parser.add_argument("--params", type=Path, default=PARAMS_FILE, help="composed parameters file")
    args = parser.parse_args(argv)
    if args.stage == "config":
        run_config(args.params)
    else:
        STAGES[args.stage](load_params(args.params))


if __name__ == "__main__":
    main()
