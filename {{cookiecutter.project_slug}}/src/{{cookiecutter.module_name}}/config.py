"""Compose the Hydra configs into params.yaml, and read params.yaml back.

params.yaml is the one file the DVC stages read. It is written exactly the way DVC's own Hydra
integration writes it inside `dvc exp run` (compose, resolve, OmegaConf.to_yaml), so both paths give
the same bytes for the same configs. See docs/pipeline.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from .errors import PipelineError
from .files import write_text

CONFIG_DIR = Path("configs")
CONFIG_NAME = "config"
PARAMS_FILE = Path("params.yaml")
# Set by `dvc exp run` in the environment of every stage it runs.
DVC_EXPERIMENT_ENV = "DVC_EXP_NAME"


def compose(
    overrides: Sequence[str] = (), config_dir: Path = CONFIG_DIR, config_name: str = CONFIG_NAME
) -> DictConfig:
    """The resolved configuration: config.yaml, its defaults list and the overrides."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    if not (config_dir / f"{config_name}.yaml").is_file():
        raise PipelineError(f"no {config_name}.yaml in {config_dir}: run from the project root.")
    with initialize_config_dir(config_dir=str(config_dir.resolve()), version_base=None):
        cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
    OmegaConf.resolve(cfg)
    return cfg


def to_params_yaml(cfg: DictConfig) -> str:
    return OmegaConf.to_yaml(cfg)


def inside_dvc_experiment() -> bool:
    """True in a stage run by `dvc exp run`: DVC has already composed params.yaml (with any -S)."""
    return bool(os.environ.get(DVC_EXPERIMENT_ENV))


def write_params(path: Path = PARAMS_FILE, config_dir: Path = CONFIG_DIR) -> bool:
    """Compose the configs into path; returns False (and leaves path alone) inside `dvc exp run`."""
    if inside_dvc_experiment():
        return False
    write_text(path, to_params_yaml(compose(config_dir=config_dir)))
    return True


def load_params(path: Path = PARAMS_FILE) -> DictConfig:
    """Read params.yaml (or any composed config) back as a DictConfig."""
    if not path.is_file():
        raise PipelineError(f"no parameters file at {path}: run `dvc repro config` to compose it.")
    cfg = OmegaConf.load(path)
    if not isinstance(cfg, DictConfig):
        raise PipelineError(f"{path} does not hold a mapping of settings.")
    return cfg


def section(cfg: DictConfig, key: str) -> DictConfig:
    """cfg[key], with a clear message when the section is missing."""
    value = OmegaConf.select(cfg, key)
    if value is None:
        raise PipelineError(f"the configuration has no '{key}' section: check configs/.")
    return value
