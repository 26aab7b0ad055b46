"""Test data and helpers shared by every test module (imported as `support`: pytest puts tests/ on
sys.path, see pyproject.toml), so no test imports from a conftest."""

from __future__ import annotations

import copy
import functools
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from {{ cookiecutter.module_name }}.config import compose
from {{ cookiecutter.module_name }}.params import Params, is_url, parse_params

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"
IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_CLASSES = ["setosa", "versicolor", "virginica"]
# One record of the iris file's first row (a setosa), as a client sends it.
IRIS_RECORD = dict(zip(IRIS_FEATURES, (5.1, 3.5, 1.4, 0.2), strict=True))


def tiny_frame() -> pd.DataFrame:
    """Twelve rows, three classes, four numeric features: enough to split and fit."""
    rows = []
    for index, label in enumerate(["a", "b", "c"] * 4):
        base = ["a", "b", "c"].index(label) * 2.0
        rows.append([base + 0.1 * index, base + 1.0, base + 0.5, base + 0.2 * index, label])
    return pd.DataFrame(rows, columns=[*IRIS_FEATURES, "species"])


def mixed_frame(rows: int = 200, seed: int = 0) -> pd.DataFrame:
    """Numbers, text and booleans with gaps, an integer code, a text target and a number target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.integers(18, 80, rows).astype(float),
            "income": rng.normal(50_000, 15_000, rows).round(2),
            "city": rng.choice(["Paris", "Lyon", "Nice"], rows).astype(object),
            "member": rng.choice([True, False], rows).astype(object),
            "grade": rng.integers(1, 4, rows),
        }
    )
    frame.loc[rng.random(rows) < 0.1, "age"] = np.nan
    frame.loc[rng.random(rows) < 0.1, "city"] = None
    frame.loc[rng.random(rows) < 0.1, "member"] = None
    frame["label"] = np.where(frame["income"] > 50_000, "high", "low")
    frame["price"] = (frame["income"] / 1_000 + 3 * frame["grade"] + rng.normal(0, 1, rows)).round(
        3
    )
    return frame


# The shipped example the tests pin, whatever configs/config.yaml selects: each test of the
# pipeline's behaviour runs on the iris classifier (or names another example, such as
# `data=diabetes model=random_forest_regressor`). Your selection is tested by its contract, in
# tests/test_selected_config.py.
EXAMPLE: dict[str, str | None] = {"data": "iris", "model": "random_forest", "experiment": None}
# Size settings of common estimators, and the value tests use: a fit in a fraction of a second.
SMALL_MODEL = {"n_estimators": 5, "max_iter": 100, "iterations": 5, "num_boost_round": 5}


def composed(*overrides: str) -> dict[str, Any]:
    """The shipped example (EXAMPLE) plus overrides, with a small model, as plain data.

    An experiment preset among the overrides still selects its own data and model, as it would on
    the user's configs. data.source is absolute; the other paths are relative.
    """
    raw = copy.deepcopy(_composed(example_config_dir(), overrides))
    shrink(raw["model"]["estimator"], keep=overrides)
    return raw


def selected(*overrides: str) -> dict[str, Any]:
    """The user's own selection (configs/config.yaml, as `make repro` composes it) plus overrides,
    unshrunk. data.source is absolute; the other paths are relative."""
    return copy.deepcopy(_composed(CONFIG_DIR, overrides))


def shrink(estimator: dict[str, Any], keep: Sequence[str] = ()) -> None:
    """Cap the estimator's size settings that SMALL_MODEL names, unless an override in keep sets
    them: the same model, a fast fit."""
    for name, small in SMALL_MODEL.items():
        value = estimator.get(name, small)
        if any(name in override for override in keep):
            continue
        if value is None or (isinstance(value, int) and value > small):
            estimator[name] = small


@functools.cache
def _composed(config_dir: Path, overrides: tuple[str, ...]) -> dict[str, Any]:
    # Each Hydra composition costs about 0.1 s and the configs do not change during a test run:
    # compose each set of overrides once per process and hand out copies.
    from omegaconf import OmegaConf

    cfg = compose(list(overrides), config_dir=config_dir)
    raw: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]  # a mapping at the top
    source = raw["data"]["source"]
    if not is_url(source) and not Path(source).is_absolute():
        raw["data"]["source"] = str(PROJECT_ROOT / source)
    return raw


_example_configs: list[tempfile.TemporaryDirectory[str]] = []


@functools.cache
def example_config_dir() -> Path:
    """A copy of configs/ whose config.yaml selects EXAMPLE (once per test process)."""
    _example_configs.append(tempfile.TemporaryDirectory(prefix="example-configs-"))
    target = Path(_example_configs[-1].name) / "configs"
    shutil.copytree(CONFIG_DIR, target)
    select_example(target)
    return target


def select_example(config_dir: Path) -> None:
    """Rewrite config_dir/config.yaml to select EXAMPLE's groups; the rest of it stays.

    The defaults list is where the user selects, so a preset's `override /data: ...` still wins
    over it, as it does over the user's own selection.
    """
    path = config_dir / "config.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    defaults = []
    for entry in raw["defaults"]:
        if isinstance(entry, dict) and len(entry) == 1 and next(iter(entry)) in EXAMPLE:
            group = next(iter(entry))
            entry = {group: EXAMPLE[group]}
        defaults.append(entry)
    raw["defaults"] = defaults
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")


def params(tmp_path: Path, *overrides: str) -> Params:
    """Checked params of composed(*overrides) with every path under tmp_path."""
    return checked(composed(*overrides), tmp_path)


def checked(raw: dict[str, Any], tmp_path: Path) -> Params:
    """raw, checked, with every path under tmp_path."""
    result = parse_params(raw)
    moved = {name: str(tmp_path / value) for name, value in result.paths}
    return result.model_copy(update={"paths": result.paths.model_copy(update=moved)})


def write_params(path: Path, raw: dict[str, Any]) -> Path:
    """A params.yaml for the stage commands (run them in path.parent: paths are relative)."""
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def fit_pipeline(
    tmp_path: Path,
    frame: pd.DataFrame,
    target: str,
    task: str = "classification",
    *overrides: str,
    categories: Any = None,
) -> tuple[Any, list[Any], pd.DataFrame, pd.Series]:
    """The project's own pipeline (preprocessing + estimator from configs) fitted on frame.

    Returns (model, described features, X, y). Integer columns named grade are categories;
    `categories` is the kinds.CategoryRule that normalises category text (None: none).
    """
    from {{ cookiecutter.module_name }}.data import prepare
    from {{ cookiecutter.module_name }}.features import describe_features, split_xy
    from {{ cookiecutter.module_name }}.model import build_model

    p = params(tmp_path, f"data.task={task}", *overrides)
    kinds = {"grade": "categorical"} if "grade" in frame.columns else {}
    typed, schema, _ = prepare(frame, target, kinds=kinds, task=task, categories=categories)
    x, y = split_xy(typed, schema.features, schema.target)
    model = build_model(p.model, p.preprocessing, schema).fit(x, y)
    return model, describe_features(model, x, schema), x, y


def iris_frame() -> pd.DataFrame:
    return pd.read_csv(PROJECT_ROOT / "data/external/iris.csv")


# --- the API tests' models (tests/api/); api is imported only inside these functions ------------

MAX_BATCH = 5
MAX_BODY = 4096


@dataclass(frozen=True)
class SavedModel:
    estimator: Any
    meta: Any  # ModelMeta, with the artifact hashes save_artifacts recorded
    model_dir: Path
    sample: pd.DataFrame  # a few training rows (raw values), to compare the API with the estimator


def iris_xy() -> tuple[pd.DataFrame, pd.Series]:
    frame = iris_frame()
    return frame[IRIS_FEATURES], frame["species"]


def iris_meta(**overrides: object) -> Any:
    from {{ cookiecutter.module_name }}.artifact.meta import ModelMeta
    from {{ cookiecutter.module_name }}.utils.kinds import Feature

    values: dict[str, Any] = {
        "model_name": "iris-test",
        "features": [Feature(name, "float") for name in IRIS_FEATURES],
        "target": "species",
        "classes": IRIS_CLASSES,
        "run_id": "0123abcd",
        "model_version": None,
        "git_commit": "f" * 40,
        "git_dirty": False,
        "data_hash": "a" * 64,
        "config_name": "config",
        "trained_at": "2025-01-01T00:00:00+00:00",
        "metrics": {"accuracy": 0.97},
    }
    return ModelMeta(**{**values, **overrides})


def settings_for(model_dir: Path, **overrides: object) -> Any:
    from api.settings import Settings

    # _env_file=None: the project's own .env must not leak into the tests.
    values: dict[str, Any] = {
        "model_dir": model_dir,
        "lineage_file": model_dir / "lineage.json",  # where the test models keep theirs
        "max_batch_size": MAX_BATCH,
        "max_body_bytes": MAX_BODY,
    }
    return Settings(_env_file=None, **{**values, **overrides})


def save_pipeline(
    model_dir: Path,
    frame: pd.DataFrame,
    target: str,
    task: str = "classification",
    *overrides: str,
    categories: Any = None,
) -> SavedModel:
    """The project's pipeline fitted on frame and saved as training saves it (with its checked
    ONNX export when there is one, and the CategoryRule `categories` when given)."""
    from {{ cookiecutter.module_name }}.artifact.meta import ModelMeta
    from {{ cookiecutter.module_name }}.artifact.onnx_export import export_onnx, with_export
    from {{ cookiecutter.module_name }}.artifact.write import save_artifacts
    from {{ cookiecutter.module_name }}.utils.kinds import CategoryRule

    model, features, x, _ = fit_pipeline(
        model_dir, frame, target, task, *overrides, categories=categories
    )
    classes = [str(c) for c in model.classes_] if task == "classification" else None
    meta = ModelMeta(
        "test-model",
        features,
        target,
        task=task,
        classes=classes,
        metrics={"m": 1.0},
        normalize_categories=categories or CategoryRule(),
    )
    exported = export_onnx(model, x, features)
    meta, onnx_model = with_export(meta, exported)
    meta = save_artifacts(model, meta, model_dir / "models", onnx_model)
    targets = {target, "label", "price", "species"}
    sample = frame.drop(columns=[c for c in frame.columns if c in targets]).head(8)
    return SavedModel(model, meta, model_dir / "models", sample)


def within(seconds: float, func: Any, *args: Any) -> Any:
    """func(*args), failing the test when it has not returned after `seconds` (a bound on a hang,
    such as MLflow's minutes of retries, not a speed claim). Its exception is raised here."""
    import threading

    import pytest

    outcome: dict[str, Any] = {}

    def call() -> None:
        try:
            outcome["value"] = func(*args)
        except BaseException as error:  # SystemExit too: handed to the caller
            outcome["error"] = error

    worker = threading.Thread(target=call, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"{getattr(func, '__name__', func)} still runs after {seconds:g} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
