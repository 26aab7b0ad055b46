"""The Optuna study: its storage (a journal file or an RDB URL), its seeded sampler, the key of
its settings that a resume must match, its training split, and what every worker is told of it."""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from ..params import Params
from ..utils import files
from ..utils.errors import PipelineError
from .space import SEARCH_GROUP, Dimension

STUDY_ROOT = Path("tune")


@dataclass(frozen=True)
class Study:
    """What every worker needs to run trials (a plain value: it is pickled for SLURM jobs)."""

    name: str
    storage: str  # an RDB URL, or the path of the journal file
    directory: str  # tune/<study>: the training split, the ask lock, the worker settings
    overrides: tuple[str, ...]  # the base configuration's overrides (ARGS)
    space: tuple[Dimension, ...]
    trials: int  # the number of finished trials asked for
    seed: int
    metric: str
    maximize: bool
    parent_run_id: str
    experiment_id: str

    @property
    def data_dir(self) -> Path:
        return Path(self.directory) / "data"

    def save(self, path: Path) -> None:
        """For the worker processes: they read it back with load()."""
        files.write_text(path, json.dumps(asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, path: Path) -> Study:
        settings = json.loads(path.read_text(encoding="utf-8"))
        settings["space"] = tuple(Dimension(**d) for d in settings["space"])
        settings["overrides"] = tuple(settings["overrides"])
        return cls(**settings)


def open_storage(storage: str) -> Any:
    """Optuna's storage: an RDB URL as it is, else a journal file (with a lock file beside it that
    works on NFS, where SQLite and fcntl locks do not)."""
    if "://" in storage:
        return storage
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    Path(storage).parent.mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(storage, lock_obj=JournalFileOpenLock(storage)))


def quiet_optuna() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def sampler_for(seed: int) -> Any:
    """TPE, seeded per trial number (set before each ask), so a resumed or parallel study never
    draws a finished trial's values again and one worker's study is the same run after run."""
    from optuna.samplers import TPESampler

    return TPESampler(seed=seed, constant_liar=True)


def settings_key(cfg: DictConfig, space: Sequence[Dimension], metric: str) -> str:
    """What the study optimises: the configuration without its name and paths, the space, the
    metric. A study resumed with other settings would mix trials of two searches."""
    task = {k: v for k, v in OmegaConf.to_container(cfg, resolve=True).items()}  # type: ignore[union-attr]
    for key in ("name", "paths", SEARCH_GROUP, "mlflow", "plots"):
        task.pop(key, None)
    settings = {"config": task, "space": [asdict(d) for d in space], "metric": metric}
    canonical = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def open_study(name: str, storage: str, maximize: bool, seed: int, settings: str) -> Any:
    """The study `name`, created or resumed (its finished trials kept); refused when it was
    started with other settings (settings_key)."""
    import optuna

    study = optuna.create_study(
        study_name=name,
        storage=open_storage(storage),
        direction="maximize" if maximize else "minimize",
        sampler=sampler_for(seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1),
        load_if_exists=True,
    )
    if study.user_attrs.get("settings") not in (None, settings):
        raise PipelineError(
            f"the study {name!r} was started with other settings (configuration, search space or"
            " metric): resume it with the same ones, or start another with STUDY=<new name>."
        )
    study.set_user_attr("settings", settings)
    return study


def load_study(spec: Study) -> Any:
    import optuna

    return optuna.load_study(study_name=spec.name, storage=open_storage(spec.storage))


def prepare_split(params: Params, data_dir: Path) -> None:
    """The study's training split, made by the data stage's own code from the same settings (so it
    is byte-identical to the pipeline's), kept for every trial and resume; the test split is
    deleted at once: the search never sees it."""
    from ..data import prepare_data

    paths = {
        "raw": data_dir / "raw.csv",
        "train": data_dir / "train.csv",
        "test": data_dir / "test.csv",
        "schema_": data_dir / "schema.json",
    }
    if paths["train"].is_file() and paths["schema_"].is_file():
        return
    moved = params.paths.model_copy(update={k: str(v) for k, v in paths.items()})
    prepare_data(params.model_copy(update={"paths": moved}))
    paths["test"].unlink()
    paths["raw"].unlink()
