"""A user's data file and DVC, run for real in a generated project: no documented command removes or
rewrites it, an edit of a `dvc add`-ed source reaches the `.dvc` file, `dvc status` and the remote,
and a second `make repro` started during a training is refused before it writes anything.

One bake, in file order: the "try a file first" experiments, the runs they must refuse, the
guard against `.dvc` files DVC cannot see, a `dvc add`-ed source edited, then two runs at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from helpers import MODULE, SLUG, reproduced_project, run, sh, stages_run, venv_env

pytestmark = pytest.mark.full


def write_table(project: Path, source: str, rows: int, seed: int) -> str:
    """A small table that is not iris (integers, text, a label, a number) at project/source."""
    rng = random.Random(seed)
    lines = ["width,height,colour,label,price"]
    for _ in range(rows):
        width, height = rng.randint(1, 9), rng.randint(1, 9)
        colour = rng.choice(["red", "green", "blue"])
        label = "large" if width * height > 25 else "small"
        lines.append(f"{width},{height},{colour},{label},{width * height * 2 + rng.choice([0, 0.5, 1])}")
    (project / source).parent.mkdir(parents=True, exist_ok=True)
    (project / source).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return source


def digests(project: Path, *paths: str) -> dict[str, str | None]:
    """sha256 of each file (None when it is not there)."""
    files = {p: project / p for p in paths}
    return {p: hashlib.sha256(f.read_bytes()).hexdigest() if f.is_file() else None for p, f in files.items()}


def outputs(project: Path) -> dict[str, str | None]:
    """Every file the pipeline wrote: what a run stopped before the data stage must leave alone."""
    written = [
        str(p.relative_to(project))
        for folder in ("data/raw", "data/processed", "models")
        for p in sorted((project / folder).rglob("*"))
        if p.is_file()
    ]
    return digests(project, *written)


def error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("ERROR")]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bake reproduced once and committed, so experiments have a baseline."""
    return reproduced_project(tmp_path_factory.mktemp("dvc-safety"))


# What configs/data/csv.yaml suggests (the second line: for a number to predict).
TRY = "dvc exp run -S data=csv -S data.source={source} -S data.target=label"
TRY_REGRESSION = (
    "dvc exp run -S data=csv -S data.source={source} -S data.target=price -S data.task=regression -S model=ridge"
)
STATES = ["new", "new, committed", "dvc add", "dvc add, committed"]


def test_the_commands_tried_are_the_ones_the_config_suggests(project: Path) -> None:
    comment = (project / "configs/data/csv.yaml").read_text(encoding="utf-8")
    assert TRY.format(source="data/external/mine.csv").replace("label", "<column>") in comment
    assert TRY_REGRESSION.split("price ")[1] in comment


@pytest.mark.parametrize("state", STATES, ids=lambda state: state.replace(", ", "-").replace(" ", "-"))
def test_trying_a_new_file_leaves_it_as_it_was(project: Path, state: str) -> None:
    index = STATES.index(state)
    source = write_table(project, f"data/external/try-{index}.csv", 120, index)
    tracked = [source]
    if state.startswith("dvc add"):
        sh(f"dvc add {source}", project)
        tracked += [f"{source}.dvc", "data/external/.gitignore"]
    if state.endswith("committed"):
        added = " ".join(tracked[1:] or tracked)  # a `dvc add`-ed file is committed as its .dvc file
        sh(f"git add {added} && git commit --quiet --no-verify -m 'Add {source}' -- {added}", project)
    before = digests(project, *tracked)
    command = TRY_REGRESSION if state == "dvc add, committed" else TRY
    result = sh(command.format(source=source), project)
    assert {"data", "train", "evaluate"} <= set(stages_run(result.stdout)), result.stdout
    assert digests(project, *tracked) == before
    assert (project / "data/processed/train.csv").is_file()
    # `make pull-data` (dvc pull, then dvc checkout) was the other command that deleted such files.
    sh("make pull-data", project)
    assert digests(project, *tracked) == before


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            "-S data.source=data/external/absent.csv -S data.target=label",
            "data.source: data/external/absent.csv does not exist",
        ),
        ("-S data.source=data/external/iris.csv", "data.target has no value"),
    ],
    ids=["missing-file", "no-target"],
)
def test_a_try_that_cannot_run_stops_before_the_data_stage(project: Path, overrides: str, message: str) -> None:
    before = outputs(project)
    result = sh(f"dvc exp run -S data=csv {overrides}", project, check=False)
    assert result.returncode != 0
    assert message in error_lines(result)[0], result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    assert stages_run(result.stdout) == ["config"]
    assert outputs(project) == before


def test_make_repro_refuses_a_dvc_file_that_dvc_cannot_see(project: Path) -> None:
    """The rule the project once shipped (`/data/*`) hides data/ from DVC, which then deletes the
    files of the .dvc files below it: make repro stops first, naming the directory."""
    gitignore = project / ".gitignore"
    shipped = gitignore.read_text(encoding="utf-8")
    assert "\n/data/?*\n" in shipped
    gitignore.write_text(shipped.replace("\n/data/?*\n", "\n/data/*\n"), encoding="utf-8")
    source = write_table(project, "data/external/hidden.csv", 50, 7)
    try:
        sh(f"dvc add {source}", project)
        before = {**outputs(project), **digests(project, source)}
        result = sh("make repro", project, check=False)
        assert result.returncode != 0
        assert error_lines(result) == [
            f"ERROR: DVC does not see {source}.dvc: a .gitignore rule ignores data/ (`git check-ignore -v data/`),"
            " so `dvc checkout` and `dvc exp run` would delete the data it tracks. Change the rule so that it does"
            " not match data/ (/data/?* ignores only what is inside data/; /data/* ignores it too)."
        ], result.stderr
        assert "Running stage" not in result.stdout
        assert {**outputs(project), **digests(project, source)} == before
    finally:
        gitignore.write_text(shipped, encoding="utf-8")
        (project / f"{source}.dvc").unlink(missing_ok=True)
        (project / source).unlink(missing_ok=True)


def select(project: Path, group: str, name: str) -> None:
    config = project / "configs/config.yaml"
    config.write_text(re.sub(rf"- {group}: \w+", f"- {group}: {name}", config.read_text(encoding="utf-8")))


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def test_an_edited_dvc_add_source_is_recorded_by_make_repro_and_pushed(project: Path) -> None:
    source = write_table(project, "data/external/tracked.csv", 150, 11)
    sh(f"dvc add {source}", project)
    (project / "configs/data/tracked.yaml").write_text(
        f"name: tracked\nsource: {source}\ntarget: label\ntask: classification\n"
        "features: null\nkinds: {}\ntest_size: 0.2\n",
        encoding="utf-8",
    )
    select(project, "data", "tracked")
    sh("make repro", project)
    sh("git add -A && git commit --quiet --no-verify -m 'Train on tracked.csv'", project)

    with (project / source).open("a", encoding="utf-8") as table:
        table.write("".join(f"{w},{w},red,{'large' if w * w > 25 else 'small'},{w * w * 2}\n" for w in range(1, 10)))
    result = sh("make repro", project)
    assert {"data", "train", "evaluate"} <= set(stages_run(result.stdout))
    assert f"repro: {source} changed since its `dvc add`: DVC recorded the new version in {source}.dvc" in result.stdout
    edited = md5(project / source)
    assert yaml.safe_load((project / f"{source}.dvc").read_text())["outs"][0]["md5"] == edited
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    assert [d["md5"] for d in lock["stages"]["data"]["deps"] if d["path"] == source] == [edited]
    assert "Data and pipelines are up to date." in sh("dvc status", project).stdout

    sh("make push-data", project)
    assert (project.parent / f"{SLUG}-dvc-storage/files/md5" / edited[:2] / edited[2:]).is_file()
    assert "in sync" in sh("dvc status --cloud", project).stdout
    # From git and the remote alone, the edited bytes come back: what a colleague's clone trains on.
    (project / source).unlink()
    shutil.rmtree(project / ".dvc/cache")
    sh("make pull-data", project)
    assert md5(project / source) == edited
    sh("git add -A && git commit --quiet --no-verify -m 'Edit tracked.csv'", project)


# An estimator whose fit waits for a file: the test holds a training open exactly as long as it
# needs, instead of hoping a fit is slow enough.
GATED_FOREST = '''"""A forest whose fit waits until the file fit-may-finish exists (written by a test)."""

import time
from pathlib import Path

from sklearn.ensemble import RandomForestClassifier


class GatedForest(RandomForestClassifier):
    def fit(self, X, y, sample_weight=None):  # noqa: N803 (scikit-learn's argument names)
        Path("fit-started").touch()
        deadline = time.monotonic() + 900
        while not Path("fit-may-finish").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        return super().fit(X, y, sample_weight=sample_weight)
'''
GATED_CONFIG = """name: gated
scale: false
estimator:
  _target_: {module}.gated.GatedForest
  n_estimators: {trees}
  random_state: ${{seed}}
"""


def trained_settings(project: Path) -> dict[str, object]:
    """n_estimators as params.yaml, dvc.lock and the model in models/ each have it."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    lock = yaml.safe_load((project / "dvc.lock").read_text())
    script = "import joblib\nprint(joblib.load('models/model.joblib').get_params()['estimator__n_estimators'])\n"
    model = run([str(project / ".venv/bin/python"), "-c", script], cwd=project).stdout.strip()
    return {
        "params.yaml": params["model"]["estimator"]["n_estimators"],
        "dvc.lock": lock["stages"]["train"]["params"]["params.yaml"]["model"]["estimator"]["n_estimators"],
        "model": int(model),
    }


def test_a_second_make_repro_during_a_training_is_refused_before_it_writes_anything(project: Path) -> None:
    (project / f"src/{MODULE}/gated.py").write_text(GATED_FOREST, encoding="utf-8")
    model_config = project / "configs/model/gated.yaml"
    model_config.write_text(GATED_CONFIG.format(module=MODULE, trees=10), encoding="utf-8")
    select(project, "model", "gated")
    for gate in ("fit-started", "fit-may-finish"):
        (project / gate).unlink(missing_ok=True)
    log = project.parent / "first-repro.log"
    env = {**os.environ, **venv_env(project)}
    with log.open("w") as output:
        first = subprocess.Popen(["make", "repro"], cwd=project, stdout=output, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 600
        while not (project / "fit-started").exists():
            assert first.poll() is None, f"the first make repro ended before it trained:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"no training started:\n{log.read_text()}"
            time.sleep(0.2)
        # The first run is training. The user changes a hyperparameter and starts another run.
        model_config.write_text(GATED_CONFIG.format(module=MODULE, trees=20), encoding="utf-8")
        watched = ["params.yaml", "dvc.yaml", "dvc.lock", "reports/lineage.json"]
        before = {**digests(project, *watched), **outputs(project)}
        second = sh("make repro", project, check=False)
        assert second.returncode != 0
        assert len(error_lines(second)) == 1, second.stderr
        assert "another `make repro` is running in this project" in error_lines(second)[0]
        assert "Traceback" not in second.stdout + second.stderr and "Running stage" not in second.stdout
        assert {**digests(project, *watched), **outputs(project)} == before
    finally:
        (project / "fit-may-finish").touch()
        first.wait(timeout=900)
    assert first.returncode == 0, log.read_text()
    # What the first run trained, dvc.lock records: the edit waits for the next run.
    assert trained_settings(project) == {"params.yaml": 10, "dvc.lock": 10, "model": 10}
    status = json.loads(sh("dvc status --json", project).stdout)
    assert sorted(status) == ["config"], status  # only configs/ changed since
    sh("make repro", project)
    assert trained_settings(project) == {"params.yaml": 20, "dvc.lock": 20, "model": 20}
    assert "Data and pipelines are up to date." in sh("dvc status", project).stdout
