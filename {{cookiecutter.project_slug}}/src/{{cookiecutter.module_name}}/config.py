"""Compose the Hydra configs into params.yaml, and read params.yaml back.

params.yaml is the one file the DVC stages read. It is written exactly the way DVC's own Hydra
integration writes it inside `dvc exp run` (compose, resolve, OmegaConf.to_yaml), so both paths give
the same bytes for the same configs. See docs/pipeline.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from .params import Params, parse_params
from .utils.errors import PipelineError
from .utils.files import write_text

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
    from hydra.errors import MissingConfigException

    with initialize_config_dir(config_dir=str(config_dir.resolve()), version_base=None):
        try:
            cfg = hydra_compose(config_name=config_name, overrides=list(overrides))
        except MissingConfigException as error:
            group, _, choice = (error.missing_cfg_file or "").rpartition("/")
            if not group or error.options is None:
                raise
            raise unknown_choice(group, choice, error.options, config_dir) from error
    OmegaConf.resolve(cfg)
    return cfg


def unknown_choice(
    group: str, choice: str, options: Sequence[str], config_dir: Path
) -> PipelineError:
    """A config group choice that has no file: one line naming the group and its choices."""
    return PipelineError(
        f"{group}={choice}: there is no {config_dir.name}/{group}/{choice}.yaml;"
        f" the {group} choices are: {', '.join(sorted(options))}."
    )


def check_group_choices(overrides: Sequence[str], config_dir: Path = CONFIG_DIR) -> None:
    """Refuse a command-line choice of a config group that has no file (`model=random_forst`),
    sweeps included, in one line: Hydra's own message for it spans a dozen lines."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import Glob
    from hydra.errors import OverrideParseException

    candidates = [arg for arg in overrides if "=" in arg and not arg.startswith("-")]
    try:
        parsed = OverridesParser.create().parse_overrides(candidates)
    except OverrideParseException:
        return  # not an override Hydra can read: Hydra says what is wrong with it
    for override in parsed:
        group, value = override.key_or_group, override.value()
        folder = config_dir / group
        # Hydra's own groups (hydra/launcher=...) are also found in installed plugins.
        if group.startswith("hydra/") or not folder.is_dir() or isinstance(value, Glob):
            continue
        if override.is_delete() or value is None:
            continue
        sweep = override.is_sweep_override()
        for choice in override.sweep_string_iterator() if sweep else [str(value)]:
            if not (folder / f"{choice}.yaml").is_file():
                options = [path.stem for path in folder.glob("*.yaml")]
                raise unknown_choice(group, choice, options, config_dir)


def to_params_yaml(cfg: DictConfig) -> str:
    return OmegaConf.to_yaml(cfg)


def inside_dvc_experiment() -> bool:
    """True in a stage run by `dvc exp run`: DVC has already composed params.yaml (with any -S)."""
    return bool(os.environ.get(DVC_EXPERIMENT_ENV))


def write_params(path: Path = PARAMS_FILE, config_dir: Path = CONFIG_DIR) -> bool:
    """Compose the configs into path; returns False (and leaves path alone) inside `dvc exp run`."""
    if inside_dvc_experiment():
        return False
    composed = compose(config_dir=config_dir)
    # Checked before it is written: a wrong value stops `make repro` here, naming the key, and
    # never reaches params.yaml or a later stage.
    from_config(composed, source=f"{config_dir}/ (composed)")
    write_text(path, to_params_yaml(composed))
    return True


def read_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """params.yaml as a plain mapping (not checked: see load_params)."""
    import yaml

    if not path.is_file():
        raise PipelineError(f"no parameters file at {path}: run `dvc repro config` to compose it.")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise PipelineError(f"{path} is not valid YAML: {str(error).splitlines()[0]}") from error
    if not isinstance(raw, dict):
        raise PipelineError(f"{path} does not hold a mapping of settings.")
    return raw


def load_params(path: Path = PARAMS_FILE) -> Params:
    """params.yaml, checked: every stage starts here (see params.py)."""
    raw = read_params(path)
    require_values(OmegaConf.create(raw), source=str(path))
    return parse_params(raw, source=str(path))


def from_config(cfg: DictConfig, source: str = "the composed configuration") -> Params:
    """A composed Hydra config (for example in a Hydra run), checked like params.yaml."""
    require_values(cfg, source=source)
    return parse_params(OmegaConf.to_container(cfg, resolve=True), source=source)


def require_values(cfg: DictConfig, source: str) -> None:
    """Stop on a setting left `???` (configs/data/csv.yaml's source and target): name it and how
    to give it, before a stage reads `???` as a file or a column name."""
    missing = sorted(OmegaConf.missing_keys(cfg))
    if missing:
        more = f" ({len(missing) - 1} more: {', '.join(missing[1:])})" if len(missing) > 1 else ""
        raise PipelineError(
            f"{source}: {missing[0]} has no value (`???` in configs/){more}: set it there, or"
            f" give it with the run, for example `dvc exp run -S {missing[0]}=<value>`."
        )


# The settings dvc.yaml interpolates: DVC reads them from params.yaml before any stage runs.
DVC_YAML_SETTINGS = ("paths", "data.source")


def dvc_yaml_settings(params: dict[str, Any]) -> dict[str, Any]:
    return {key: OmegaConf.select(OmegaConf.create(params), key) for key in DVC_YAML_SETTINGS}
