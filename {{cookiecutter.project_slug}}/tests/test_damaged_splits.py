"""A damaged processed split (cut, short or long rows, a missing target, text in a number column)
stops the stages that read it with the file and its line, and nothing is trained or scored."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.data import load_schema, prepare_data, read_split
from {{ cookiecutter.module_name }}.params import Params, PathParams, parse_params
from {{ cookiecutter.module_name }}.stages import evaluate
from {{ cookiecutter.module_name }}.stages import train as train_stage
from {{ cookiecutter.module_name }}.train import train
from {{ cookiecutter.module_name }}.utils.errors import PipelineError


def cut_mid_line(text: str) -> str:
    lines = text.splitlines(keepends=True)
    return "".join(lines[:5]) + lines[5][: len(lines[5]) // 2]


def short_row(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[3] = lines[3].rsplit(",", 2)[0] + "\n"
    return "".join(lines)


def empty_target(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[2] = lines[2].rsplit(",", 1)[0] + ",\n"
    return "".join(lines)


def extra_field(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[4] = lines[4].rstrip("\n") + ",9\n"
    return "".join(lines)


def text_in_a_number(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[3] = "oops," + lines[3].split(",", 1)[1]  # the first column is a numeric feature
    return "".join(lines)


DAMAGES: dict[str, tuple[Callable[[str], str], str]] = {
    "cut-mid-line": (cut_mid_line, r"line 6 has no value for the target"),
    "short-row": (short_row, r"line 4 has no value for the target"),
    "missing-target": (empty_target, r"line 3 has no value for the target"),
    "extra-field": (extra_field, r"line 5 has 8 fields, the header 7"),
    "text-in-a-number": (text_in_a_number, r"line 4 holds 'oops' in the numeric column 'age'"),
    "empty": (lambda text: "", r"it is empty"),
}


@pytest.fixture
def mixed_params(tmp_path: Path) -> Params:
    """Checked params on a mixed table of this test's own (not the selected data)."""
    source = tmp_path / "mixed.csv"
    support.mixed_frame(120).to_csv(source, index=False)
    overrides = [f"data.source={source}", "data.target=label", "+data.kinds.grade=categorical"]
    return support.params(tmp_path, "data=csv", *overrides)


def damage(path: Path, how: Callable[[str], str]) -> None:
    path.write_text(how(path.read_text(encoding="utf-8")), encoding="utf-8")


@pytest.mark.parametrize("task", ["classification", "regression"])
@pytest.mark.parametrize("name", list(DAMAGES))
def test_a_damaged_split_is_refused_with_its_file_and_line(
    mixed_params: Params, name: str, task: str
) -> None:
    params = mixed_params
    if task == "regression":
        data = params.data.model_copy(update={"target": "price", "task": "regression"})
        params = params.model_copy(update={"data": data})
    prepare_data(params)
    schema = load_schema(Path(params.paths.schema_))
    train_file = Path(params.paths.train)
    assert schema.features[0] == "age" and schema.features[-1] != schema.target
    read_split(train_file, schema)  # intact: reads
    how, message = DAMAGES[name]
    damage(train_file, how)
    where = re.escape(f"{train_file} is damaged (")
    with pytest.raises(PipelineError, match=rf"{where}{message}.*dvc repro data"):
        read_split(train_file, schema)


def test_a_whole_split_with_empty_categories_is_not_damaged(mixed_params: Params) -> None:
    """An empty text cell is a missing category, not damage: the data stage writes it."""
    prepare_data(mixed_params)
    schema = load_schema(Path(mixed_params.paths.schema_))
    frame = read_split(Path(mixed_params.paths.train), schema)
    assert (frame["city"] == "").any() and frame["age"].isna().any()


def nothing_trained(paths: PathParams, root: Path = Path()) -> bool:
    """No model, lineage, metrics or predictions (root: where relative paths start)."""
    outputs = (paths.model_dir, paths.lineage, paths.metrics, paths.predictions)
    return not any((root / path).exists() for path in outputs)


@pytest.mark.parametrize("name", ["cut-mid-line", "missing-target", "extra-field"])
def test_the_train_stage_on_a_damaged_split_trains_nothing(mixed_params: Params, name: str) -> None:
    prepare_data(mixed_params)
    damage(Path(mixed_params.paths.train), DAMAGES[name][0])
    with pytest.raises(PipelineError, match="is damaged"):
        train_stage.run(mixed_params)
    assert nothing_trained(mixed_params.paths)


def test_the_evaluate_stage_on_a_damaged_test_split_scores_nothing(mixed_params: Params) -> None:
    prepare_data(mixed_params)
    train(mixed_params, track=False)
    damage(Path(mixed_params.paths.test), cut_mid_line)
    with pytest.raises(PipelineError, match=re.escape(f"{mixed_params.paths.test} is damaged")):
        evaluate.run(mixed_params)
    assert not Path(mixed_params.paths.metrics).exists()
    assert not Path(mixed_params.paths.predictions).exists()


@pytest.mark.slow
def test_the_train_command_on_a_cut_split_says_one_line_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "mixed.csv"
    support.mixed_frame(120).to_csv(source, index=False)
    raw = support.composed("data=csv", f"data.source={source}", "data.target=label")
    params_file = support.write_params(tmp_path / "params.yaml", raw)
    stage = [sys.executable, "-m", "{{ cookiecutter.module_name }}.stages"]
    done = subprocess.run([*stage, "data"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    train_file = tmp_path / raw["paths"]["train"]
    damage(train_file, cut_mid_line)
    result = subprocess.run([*stage, "train"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        f"ERROR: {raw['paths']['train']} is damaged (line 6 has no value for the target 'label'):"
        " the data stage never writes that; rebuild the split with `dvc repro data`."
    ]
    assert params_file.is_file() and nothing_trained(parse_params(raw).paths, tmp_path)


def test_read_split_keeps_the_columns_in_schema_order(mixed_params: Params) -> None:
    prepare_data(mixed_params)
    schema = load_schema(Path(mixed_params.paths.schema_))
    frame = read_split(Path(mixed_params.paths.test), schema)
    assert list(frame.columns) == [*schema.features, schema.target]
    assert isinstance(frame, pd.DataFrame) and len(frame) == 24
