"""The search space: configs/search/<name>.yaml read into dimensions, and a trial's values drawn
from them written as Hydra overrides (so a trial composes like any other configuration)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ..config import CONFIG_DIR, compose
from ..utils.errors import PipelineError

SEARCH_GROUP = "search"
# What a trial's values are drawn from: exactly one of these keys per entry of the search space.
KINDS = ("int", "float", "choice")


@dataclass(frozen=True)
class Dimension:
    key: str  # where in the configuration, for example model.estimator.max_depth
    kind: str  # int, float or choice
    low: float | None = None
    high: float | None = None
    log: bool = False
    choices: tuple[Any, ...] = ()


def search_space(
    overrides: Sequence[str], search: str, model: str
) -> tuple[DictConfig, tuple[Dimension, ...]]:
    """The configuration composed with the search space `search`, and the space's dimensions."""
    if not (CONFIG_DIR / SEARCH_GROUP / f"{search}.yaml").is_file():
        shipped = sorted(p.stem for p in (CONFIG_DIR / SEARCH_GROUP).glob("*.yaml"))
        raise PipelineError(
            f"no search space {CONFIG_DIR}/{SEARCH_GROUP}/{search}.yaml for model"
            f" {model!r}: write one, or name one with SEARCH= ({', '.join(shipped)})."
        )
    cfg = compose([*overrides, f"+{SEARCH_GROUP}={search}"])
    space = tuple(dimensions(OmegaConf.to_container(cfg[SEARCH_GROUP], resolve=True)))
    if not space:
        raise PipelineError(f"the search space {search} has no entries.")
    return cfg, space


def dimensions(space: Any, prefix: str = "") -> list[Dimension]:
    """The entries of a search space config: nested like the configuration, each leaf a mapping
    with one of `int: [low, high]`, `float: [low, high]` (and `log: true`) or `choice: [...]`."""
    if not isinstance(space, Mapping):
        raise PipelineError(f"search space: {prefix or 'the file'} must be a mapping of settings.")
    found: list[Dimension] = []
    for name, entry in space.items():
        key = f"{prefix}{name}"
        kinds = [kind for kind in KINDS if isinstance(entry, Mapping) and kind in entry]
        if not kinds:
            found += dimensions(entry, f"{key}.")
            continue
        unknown = set(entry) - {*KINDS, "log"}
        if len(kinds) > 1 or unknown:
            raise PipelineError(
                f"search space: {key} needs exactly one of int, float or choice (and log: true);"
                f" it has {sorted(entry)}."
            )
        kind = kinds[0]
        if kind == "choice":
            choices = entry["choice"]
            if not isinstance(choices, Sequence) or isinstance(choices, str) or not choices:
                raise PipelineError(f"search space: {key}: choice needs a list of values.")
            found.append(Dimension(key, kind, choices=tuple(choices)))
            continue
        bounds = entry[kind]
        if not isinstance(bounds, Sequence) or len(bounds) != 2 or not bounds[0] < bounds[1]:
            raise PipelineError(f"search space: {key}: {kind} needs [low, high] with low < high.")
        log = bool(entry.get("log", False))
        if log and bounds[0] <= 0:
            raise PipelineError(f"search space: {key}: a log scale needs a low above 0.")
        found.append(Dimension(key, kind, bounds[0], bounds[1], log))
    return found


def override_value(value: Any) -> str:
    """A value as Hydra's override grammar reads it back exactly."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if text.replace("_", "").isalnum() and not text[0].isdigit():
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def suggest(trial: Any, space: Sequence[Dimension]) -> list[str]:
    """The trial's values, drawn by the study's sampler, as Hydra overrides."""
    overrides = []
    for dim in space:
        if dim.kind == "int":
            value: Any = trial.suggest_int(
                dim.key, int(dim.low or 0), int(dim.high or 0), log=dim.log
            )
        elif dim.kind == "float":
            value = trial.suggest_float(
                dim.key, float(dim.low or 0), float(dim.high or 0), log=dim.log
            )
        else:
            value = trial.suggest_categorical(dim.key, list(dim.choices))
        # ++: set the key whether the configuration has it or not (an estimator's own default).
        overrides.append(f"++{dim.key}={override_value(value)}")
    return overrides
