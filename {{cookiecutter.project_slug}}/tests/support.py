"""Test data and helpers shared by every test module (imported as `support`: pytest puts tests/ on
sys.path, see pyproject.toml), so no test imports from a conftest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from {{ cookiecutter.module_name }}.config import compose
from {{ cookiecutter.module_name }}.params import Params, parse_params

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"
IRIS_FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
IRIS_CLASSES = ["setosa", "versicolor", "virginica"]


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
    frame["price"] = (frame["income"] / 1_000 + 3 * frame["grade"] + rng.normal(0, 1, rows)).round(3)
    return frame


def composed(*overrides: str) -> dict[str, Any]:
    """The default composition plus overrides (a small forest), as plain data; paths relative."""
    from omegaconf import OmegaConf

    cfg = compose(list(overrides), config_dir=CONFIG_DIR)
    raw: dict[str, Any] = OmegaConf.to_container(cfg, resolve=True)  # type: ignore[assignment]
    if "n_estimators" in raw["model"]["estimator"] and not any("n_estimators" in o for o in overrides):
        raw["model"]["estimator"]["n_estimators"] = 5
    if not Path(raw["data"]["source"]).is_absolute():
        raw["data"]["source"] = str(PROJECT_ROOT / raw["data"]["source"])
    return raw


def params(tmp_path: Path, *overrides: str) -> Params:
    """Checked params of composed(*overrides) with every path under tmp_path."""
    checked = parse_params(composed(*overrides))
    moved = {name: str(tmp_path / value) for name, value in checked.paths}
    return checked.model_copy(update={"paths": checked.paths.model_copy(update=moved)})


def write_params(path: Path, raw: dict[str, Any]) -> Path:
    """A params.yaml for the stage commands (run them with cwd = path.parent: paths are relative)."""
    path.write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return path


def fit_pipeline(
    tmp_path: Path, frame: pd.DataFrame, target: str, task: str = "classification", *overrides: str
) -> tuple[Any, list[Any], pd.DataFrame, pd.Series]:
    """The project's own pipeline (preprocessing + estimator from configs) fitted on frame.

    Returns (model, described features, X, y). Integer columns named grade are categories.
    """
    from {{ cookiecutter.module_name }}.data import prepare
    from {{ cookiecutter.module_name }}.features import describe_features, split_xy
    from {{ cookiecutter.module_name }}.model import build_model

    p = params(tmp_path, f"data.task={task}", *overrides)
    kinds = {"grade": "categorical"} if "grade" in frame.columns else {}
    typed, schema, _ = prepare(frame, target, kinds=kinds, task=task)
    x, y = split_xy(typed, schema.features, schema.target)
    model = build_model(p.model, p.preprocessing, schema).fit(x, y)
    return model, describe_features(model, x, schema), x, y


def iris_frame() -> pd.DataFrame:
    return pd.read_csv(PROJECT_ROOT / "data/external/iris.csv")
