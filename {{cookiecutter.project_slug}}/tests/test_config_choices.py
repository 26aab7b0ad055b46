"""A setting with a fixed set of values refuses a typo in one line that names the setting and its
values, however the configs are composed: `make repro` and the config stage (compose), a Hydra run
(`python -m {{ cookiecutter.module_name }}.train`), `dvc exp run -S` (params.yaml, checked by every stage)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import support

from {{ cookiecutter.module_name }}.config import check_group_choices, compose, from_config
from {{ cookiecutter.module_name }}.params import parse_params
from {{ cookiecutter.module_name }}.utils.errors import PipelineError

CONFIG_DIR = support.CONFIG_DIR


def choices(group: str) -> str:
    """The group's choices as the message lists them: the files in configs/<group>/."""
    return ", ".join(sorted(path.stem for path in (CONFIG_DIR / group).glob("*.yaml")))


@pytest.mark.parametrize(
    ("override", "setting", "values"),
    [
        ("data.task=clasification", "data.task", "'classification' or 'regression'"),
        ("+data.kinds.some_column=numerc", "data.kinds.some_column", "'numeric' or 'categorical'"),
    ],
    ids=["task", "kind"],
)
def test_a_misspelt_value_is_named_with_its_setting_and_values(
    override: str, setting: str, values: str
) -> None:
    """Composing must not fail first on something the value feeds (the plot template)."""
    with pytest.raises(PipelineError) as raised:
        from_config(compose([override], config_dir=CONFIG_DIR), source="configs/")
    message = str(raised.value)
    assert message.startswith(f"configs/: {setting}: Input should be {values} (got ")
    assert "\n" not in message and "Interpolation" not in message


def test_a_misspelt_task_in_params_yaml_is_named_too() -> None:
    """`dvc exp run -S data.task=...` writes params.yaml itself; each stage checks it."""
    raw = support.composed()
    raw["data"]["task"] = "regresion"
    with pytest.raises(PipelineError, match=r"^params.yaml: data.task: Input should be"):
        parse_params(raw)


@pytest.mark.parametrize("group", ["data", "model", "preprocessing", "experiment"])
def test_a_misspelt_group_choice_names_the_group_and_its_choices(group: str) -> None:
    expected = (
        f"{group}=nope: there is no configs/{group}/nope.yaml;"
        f" the {group} choices are: {choices(group)}."
    )
    with pytest.raises(PipelineError) as composed:
        compose([f"{group}=nope"], config_dir=CONFIG_DIR)
    assert str(composed.value) == expected
    with pytest.raises(PipelineError) as checked:
        check_group_choices(["-m", f"{group}=nope"], CONFIG_DIR)
    assert str(checked.value) == expected


def test_a_misspelt_choice_in_a_sweep_is_named() -> None:
    first = sorted(path.stem for path in (CONFIG_DIR / "model").glob("*.yaml"))[0]
    with pytest.raises(PipelineError, match=r"^model=nope: .* the model choices are: "):
        check_group_choices(["-m", f"model={first},nope"], CONFIG_DIR)


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["-m", "model=glob(*)"],
        ["experiment=null"],
        ["~experiment"],
        ["hydra/launcher=parallel", "model.estimator.n_estimators=5,10"],
        ["data.features=[a,b]", "seed=3"],
        ["model=[broken"],  # not an override Hydra can read: Hydra itself says so
    ],
    ids=["none", "glob", "null", "delete", "hydra-group-and-values", "values", "unreadable"],
)
def test_choices_that_exist_and_other_overrides_pass(overrides: list[str]) -> None:
    existing = [f"{g}={choices(g).split(', ')[0]}" for g in ("data", "model", "preprocessing")]
    check_group_choices([*overrides, *existing], CONFIG_DIR)


@pytest.mark.slow
def test_the_training_command_refuses_a_misspelt_model_in_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "{{ cookiecutter.module_name }}.train", "model=random_forst"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        "ERROR: model=random_forst: there is no configs/model/random_forst.yaml;"
        f" the model choices are: {choices('model')}."
    ]
    assert not (tmp_path / "outputs").exists()
