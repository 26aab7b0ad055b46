"""The study's result: its best trial written as an experiment preset,
configs/experiment/tuned-<study>.yaml, checked to compose to that trial's configuration."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..config import CONFIG_DIR, compose, from_config
from ..utils import files
from ..utils.errors import PipelineError
from .study import Study
from .trial import compose_trial

PRESET_DIR = CONFIG_DIR / "experiment"


def preset_yaml(name: str, overrides: Sequence[str], study: str, value: float, metric: str) -> str:
    """An experiment preset (# @package _global_) that composes to the trial's configuration."""
    import yaml
    from hydra.core.override_parser.overrides_parser import OverridesParser

    defaults: list[dict[str, Any]] = []
    values: dict[str, Any] = {"name": name}
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if override.is_delete() or override.is_sweep_override():
            raise PipelineError(f"cannot write a preset for the override {override.input_line}.")
        if key == "experiment":
            raise PipelineError(
                "tune from the settings, not from a preset: name the experiment's settings in ARGS."
            )
        if (CONFIG_DIR / key).is_dir():
            defaults.append({f"override /{key}": override.value()})
            continue
        node = values
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = override.value()
    header = (
        "# @package _global_\n"
        f"# The best trial of the search `{study}` (make tune): cross-validated {metric}"
        f" {value:.6g}.\n"
        f"# Written by `make tune`; select it with `experiment: {name}` in configs/config.yaml.\n"
    )
    body = {"defaults": defaults, **values} if defaults else values
    return header + str(yaml.safe_dump(body, sort_keys=False))


def write_preset(spec: Study, study: Any) -> Path | None:
    from optuna.trial import TrialState

    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    best = study.best_trial
    name = f"tuned-{spec.name}"
    overrides = [*spec.overrides, *best.user_attrs.get("overrides", [])]
    path = PRESET_DIR / f"{name}.yaml"
    files.write_text(path, preset_yaml(name, overrides, spec.name, best.value, spec.metric))
    # Checked: the preset composes to the best trial's configuration.
    chosen = from_config(compose([f"experiment={name}"]))
    trial = compose_trial(overrides)
    if chosen.model_dump(exclude={"name"}) != trial.model_dump(exclude={"name"}):
        raise PipelineError(f"{path} does not compose to the best trial's settings.")
    return path
