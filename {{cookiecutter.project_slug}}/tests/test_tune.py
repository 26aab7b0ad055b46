"""The hyperparameter search, in this process, on a copy of the project's configs: its search space,
its data (the training split only) and its preset. The template's own tests run `make tune` whole:
resuming, killed studies, two workers."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.config import compose, from_config
from {{ cookiecutter.module_name }}.tuning import tune
from {{ cookiecutter.module_name }}.tuning.space import dimensions, override_value
from {{ cookiecutter.module_name }}.utils.errors import PipelineError

TINY_SPACE = (
    "model:\n  estimator:\n    n_estimators: {int: [2, 4]}\n    max_depth: {choice: [null, 2]}\n"
)


@pytest.fixture
def project(tmp_path: Path, mlflow_store: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The project's configs and example data in tmp_path, the current directory."""
    root = tmp_path / "project"
    shutil.copytree(support.CONFIG_DIR, root / "configs")
    support.select_example(root / "configs")  # iris, whatever configs/config.yaml selects
    (root / "configs" / "search" / "tiny.yaml").write_text(TINY_SPACE, encoding="utf-8")
    (root / "data" / "external").mkdir(parents=True)
    shutil.copy(support.PROJECT_ROOT / "data/external/iris.csv", root / "data/external/iris.csv")
    monkeypatch.chdir(root)
    return root


def test_the_search_never_reads_the_test_split(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read: list[str] = []
    real_read_csv = pd.read_csv

    def spying_read_csv(path: object, *args: object, **kwargs: object) -> pd.DataFrame:
        read.append(str(path))
        return real_read_csv(path, *args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spying_read_csv)
    args = ["--trials", "3", "--search", "tiny", "--study", "never-test"]
    tune.main([*args, "mlflow.experiment=tune-test", "evaluation.folds=2"])
    out = capsys.readouterr().out
    assert out.count("tune: trial ") == 3, out
    study = project / "tune" / "never-test" / "data"
    # Trials read the training split only; the test split is not even kept where they run.
    assert sorted(p.name for p in study.iterdir()) == ["schema.json", "train.csv"]
    assert {Path(p).name for p in read} <= {"iris.csv", "train.csv"}, read
    assert any(p.endswith("never-test/data/train.csv") for p in read)
    # The preset composes to the best trial's settings (tune checks it as it writes it).
    preset = project / "configs/experiment/tuned-never-test.yaml"
    chosen = from_config(compose(["experiment=tuned-never-test", "evaluation.folds=2"]))
    assert preset.is_file() and chosen.name == "tuned-never-test"
    assert chosen.model.estimator["n_estimators"] in (2, 3, 4)


def test_a_study_resumed_with_other_settings_is_refused(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--trials", "1", "--search", "tiny", "--study", "one", "mlflow.experiment=tune-test"]
    tune.main([*args, "evaluation.folds=2"])
    with pytest.raises(SystemExit):
        tune.main([*args, "evaluation.folds=3"])
    assert "the study 'one' was started with other settings" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"a": {"int": [3, 1]}}, "a: int needs [low, high] with low < high"),
        ({"a": {"float": [0, 1], "log": True}}, "a: a log scale needs a low above 0"),
        ({"a": {"int": [1, 2], "choice": [1]}}, "a needs exactly one of int, float or choice"),
        ({"a": {"b": {"choice": []}}}, "a.b: choice needs a list of values"),
    ],
)
def test_a_wrong_search_space_says_which_entry(space: dict, message: str) -> None:
    with pytest.raises(PipelineError, match=message.replace("[", r"\[").replace("]", r"\]")):
        dimensions(space)


def test_every_shipped_model_has_a_search_space_that_composes() -> None:
    for model in sorted(p.stem for p in (support.CONFIG_DIR / "model").glob("*.yaml")):
        cfg = compose([f"model={model}", f"+search={model}"], config_dir=support.CONFIG_DIR)
        space = dimensions(dict(cfg["search"]))
        assert space and all(d.key.startswith("model.") for d in space), model


def test_override_values_read_back_exactly() -> None:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    values = [None, True, 3, 0.1 + 0.2, 1e-7, "sqrt", "two words", "it's"]
    lines = [f"k={override_value(v)}" for v in values]
    parsed = [o.value() for o in OverridesParser.create().parse_overrides(lines)]
    assert parsed == values
