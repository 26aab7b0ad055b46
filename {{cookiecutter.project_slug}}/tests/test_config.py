"""Every config composes and checks, every model config builds, params.yaml round-trips.

On the shipped example (support.composed pins it); the selected configuration is
tests/test_selected_config.py's.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import support

from {{ cookiecutter.module_name }}.config import compose, load_params, to_params_yaml, write_params
from {{ cookiecutter.module_name }}.data import TableSchema
from {{ cookiecutter.module_name }}.model import build_model
from {{ cookiecutter.module_name }}.params import ModelParams, parse_params
from {{ cookiecutter.module_name }}.utils.errors import PipelineError

CONFIG_DIR = support.CONFIG_DIR
MODELS = sorted(p.stem for p in (CONFIG_DIR / "model").glob("*.yaml"))
EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
DATASETS = sorted(p.stem for p in (CONFIG_DIR / "data").glob("*.yaml"))
# The groups the project ships; configs of your own in these folders are tested too.
CLASSIFIERS = {"random_forest", "logistic_regression"}
REGRESSORS = {"random_forest_regressor", "ridge"}
PRESETS = {"linear", "quick", "regression"}


def schema_for(task: str) -> TableSchema:
    return TableSchema(
        "y", task, ["a", "b"], {"a": "numeric", "b": "categorical"}, {"a": "float", "b": "str"}
    )


def task_of(model: ModelParams) -> str:
    """The task of the configured estimator (a model config of your own may be either)."""
    from hydra.utils import instantiate
    from sklearn.base import is_regressor

    return "regression" if is_regressor(instantiate(model.estimator)) else "classification"


def test_the_groups_are_not_empty() -> None:
    assert set(MODELS) >= CLASSIFIERS | REGRESSORS
    assert set(EXPERIMENTS) >= PRESETS and set(DATASETS) >= {"iris", "diabetes", "csv"}


@pytest.mark.parametrize("model", MODELS)
def test_every_model_config_builds_a_pipeline(model: str, tmp_path: Path) -> None:
    p = support.params(tmp_path, f"model={model}")
    if model in CLASSIFIERS | REGRESSORS:
        assert task_of(p.model) == ("regression" if model in REGRESSORS else "classification")
    pipeline = build_model(p.model, p.preprocessing, schema_for(task_of(p.model)))
    assert pipeline.steps[-1][0] == "estimator"
    if "random_state" in p.model.estimator:  # every shipped one: seeded by `seed`
        assert pipeline.get_params()["estimator__random_state"] == p.seed


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_preset_composes_checks_and_builds(
    experiment: str, tmp_path: Path
) -> None:
    p = support.params(tmp_path, f"experiment={experiment}")
    if experiment in PRESETS:  # they name themselves, so their MLflow runs are findable
        assert p.name == experiment
    build_model(p.model, p.preprocessing, schema_for(task_of(p.model)))


@pytest.mark.parametrize("data", DATASETS)
def test_every_data_config_composes_and_checks(data: str) -> None:
    raw = support.composed(f"data={data}", "data.source=some.csv", "data.target=y")
    assert parse_params(raw).data.target


def test_the_plot_template_follows_the_task() -> None:
    assert support.composed()["plots"]["template"] == "confusion"
    assert support.composed("experiment=regression")["plots"]["template"] == "scatter"


def test_an_unknown_option_is_refused() -> None:
    with pytest.raises(PipelineError, match=r"model=nope: there is no configs/model/nope\.yaml"):
        compose(["model=nope"], config_dir=CONFIG_DIR)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r["data"].update(test_sise=0.3), r"data.test_sise: unknown setting"),
        (
            lambda r: r["data"].update(test_size=1.5),
            r"data.test_size: Input should be less than 1 \(got 1.5\)",
        ),
        (lambda r: r.update(seed="forty"), r"seed: Input should be a valid integer"),
        (
            lambda r: r["data"].update(task="clustering"),
            r"data.task: Input should be 'classification' or 'regression'",
        ),
        (
            lambda r: r["paths"].update(model_dir="/tmp/models"),
            r"paths.model_dir: must be a relative path inside the project",
        ),
        (
            lambda r: r["paths"].update(metrics="../x.json"),
            r"paths.metrics: must be a relative path",
        ),
        (lambda r: r["model"]["estimator"].pop("_target_"), r"model.estimator: needs a _target_"),
        (
            lambda r: r["data"].update(kinds={"age": "text"}),
            r"data.kinds.age: Input should be 'numeric' or 'categorical'",
        ),
    ],
    ids=["typo", "range", "type", "task", "absolute-path", "outside-path", "no-target", "kind"],
)
def test_a_wrong_setting_is_named_with_its_file(change, message: str) -> None:
    raw = support.composed()
    change(raw)
    with pytest.raises(PipelineError, match=rf"^params.yaml: {message}"):
        parse_params(raw)


def test_write_params_then_load_round_trips(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    configs = support.example_config_dir()
    target = tmp_path / "params.yaml"
    assert write_params(target, config_dir=configs)
    assert target.read_text(encoding="utf-8") == to_params_yaml(compose(config_dir=configs))
    loaded = load_params(target)
    assert loaded.data.source == "data/external/iris.csv" and loaded.paths.schema_.endswith(".json")


def test_a_wrong_value_in_configs_stops_the_composition_and_params_yaml_keeps_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    configs = tmp_path / "configs"
    shutil.copytree(support.example_config_dir(), configs)
    data = configs / "data" / "iris.yaml"
    data.write_text(data.read_text().replace("test_size: 0.2", "test_size: 1.5"))
    target = tmp_path / "params.yaml"
    target.write_text("kept: true\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"configs/ \(composed\): data.test_size: .*1.5"):
        write_params(target, config_dir=configs)
    assert target.read_text(encoding="utf-8") == "kept: true\n"


def test_a_paths_change_dvc_read_too_late_stops_the_config_stage_before_any_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside `dvc repro` (DVC_STAGE set), dvc.yaml was resolved from the params.yaml of before:
    the config stage stops the run before a stage trains into the old paths; the next run agrees."""
    import shutil

    from {{ cookiecutter.module_name }}.stages.config import run as config_stage

    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    shutil.copytree(support.example_config_dir(), tmp_path / "configs")
    monkeypatch.chdir(tmp_path)
    params = Path("params.yaml")
    composed = to_params_yaml(compose(config_dir=Path("configs")))
    assert "model_dir: models\n" in composed
    params.write_text(composed.replace("model_dir: models\n", "model_dir: old-models\n"))
    monkeypatch.setenv("DVC_STAGE", "config")
    with pytest.raises(PipelineError, match=r"paths or data.source changed.*run the pipeline"):
        config_stage(params)
    config_stage(params)  # dvc.yaml now resolves from the composed paths: nothing to stop
    assert params.read_text(encoding="utf-8") == composed


def test_write_params_leaves_dvc_experiment_params_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DVC_EXP_NAME", "some-exp")
    target = tmp_path / "params.yaml"
    target.write_text("composed: by dvc\n", encoding="utf-8")
    assert not write_params(target, config_dir=CONFIG_DIR)
    assert target.read_text(encoding="utf-8") == "composed: by dvc\n"


def test_load_params_names_a_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="dvc repro config"):
        load_params(tmp_path / "params.yaml")
    (tmp_path / "params.yaml").write_text("a: [", encoding="utf-8")
    with pytest.raises(PipelineError, match="is not valid YAML"):
        load_params(tmp_path / "params.yaml")
