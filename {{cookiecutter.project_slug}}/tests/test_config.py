"""Every config composes, every model config builds, and params.yaml is what the configs say."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra.errors import HydraException
from omegaconf import OmegaConf

from {{ cookiecutter.module_name }}.config import compose, load_params, to_params_yaml, write_params
from {{ cookiecutter.module_name }}.errors import PipelineError
from {{ cookiecutter.module_name }}.model import build_model

PROJECT_ROOT = Path(__file__).resolve().parents[1]
CONFIG_DIR = PROJECT_ROOT / "configs"

MODELS = sorted(p.stem for p in (CONFIG_DIR / "model").glob("*.yaml"))
EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
DATASETS = sorted(p.stem for p in (CONFIG_DIR / "data").glob("*.yaml"))


def test_the_groups_are_not_empty() -> None:
    assert {"random_forest", "logistic_regression"} <= set(MODELS)
    assert EXPERIMENTS and "iris" in DATASETS


@pytest.mark.parametrize("model", MODELS)
def test_every_model_config_builds_a_pipeline(model: str) -> None:
    cfg = compose([f"model={model}"], config_dir=CONFIG_DIR)
    pipeline = build_model(cfg.model)
    assert pipeline.steps[-1][0] == "estimator"
    assert pipeline.get_params()["estimator__random_state"] == cfg.seed


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_preset_composes_and_builds(experiment: str) -> None:
    cfg = compose([f"experiment={experiment}"], config_dir=CONFIG_DIR)
    assert cfg.name == experiment  # presets name themselves, so their MLflow runs are findable
    build_model(cfg.model)


@pytest.mark.parametrize("data", DATASETS)
def test_every_data_config_composes(data: str) -> None:
    cfg = compose([f"data={data}", "data.source=some.csv"], config_dir=CONFIG_DIR)
    assert cfg.data.features and cfg.data.target


def test_shipped_params_yaml_is_the_composition_of_configs() -> None:
    # The `config` stage would rewrite it otherwise; DVC would then see a change nobody made.
    shipped = (PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8")
    assert shipped == to_params_yaml(compose(config_dir=CONFIG_DIR))


def test_overrides_reach_the_model() -> None:
    cfg = compose(["model=logistic_regression", "model.estimator.C=0.25"], config_dir=CONFIG_DIR)
    assert build_model(cfg.model).get_params()["estimator__C"] == 0.25


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(HydraException, match="model/nope"):
        compose(["model=nope"], config_dir=CONFIG_DIR)


def test_write_params_then_load_round_trips(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    target = tmp_path / "params.yaml"
    assert write_params(target, config_dir=CONFIG_DIR)
    assert OmegaConf.to_container(load_params(target)) == OmegaConf.to_container(
        compose(config_dir=CONFIG_DIR)
    )


def test_write_params_leaves_dvc_experiment_params_alone(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("DVC_EXP_NAME", "some-exp")
    target = tmp_path / "params.yaml"
    target.write_text("composed: by dvc\n", encoding="utf-8")
    assert not write_params(target, config_dir=CONFIG_DIR)
    assert target.read_text(encoding="utf-8") == "composed: by dvc\n"


def test_load_params_names_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="dvc repro config"):
        load_params(tmp_path / "params.yaml")
