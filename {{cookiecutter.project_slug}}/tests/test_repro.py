"""`make repro`'s runner (stages/repro.py): one run at a time, .dvc files DVC can see, and the
settings or files a run cannot start without named before anything runs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import support

from {{ cookiecutter.module_name }}.config import compose, from_config
from {{ cookiecutter.module_name }}.stages.config import check_source
from {{ cookiecutter.module_name }}.stages.repro import check_dvc_files_visible, main, run_lock
from {{ cookiecutter.module_name }}.utils.errors import PipelineError


def test_a_second_run_is_refused_while_the_first_holds_the_lock(tmp_path: Path) -> None:
    lock = tmp_path / "tmp" / "make-repro.lock"
    with run_lock(lock):
        refused = rf"another `make repro` is running in this project \(process {os.getpid()}\)"
        with pytest.raises(PipelineError, match=refused), run_lock(lock):
            pass
    with run_lock(lock):  # released with its holder: the next run takes it
        pass


def test_outside_a_dvc_project_it_stops_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 1
    assert capsys.readouterr().err.startswith("ERROR: no .dvc/ here: run `make repro` at the")
    assert list(tmp_path.iterdir()) == []


def test_a_setting_left_unset_is_named_with_how_to_give_it() -> None:
    cfg = compose(["data=csv", "data.source=mine.csv"], config_dir=support.CONFIG_DIR)
    with pytest.raises(PipelineError, match=r"data.target has no value .*-S data.target=<value>"):
        from_config(cfg)


def test_a_source_dvc_tracks_but_that_is_not_here_says_to_pull_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("mine.csv.dvc").write_text("outs:\n- path: mine.csv\n", encoding="utf-8")
    with pytest.raises(PipelineError, match=r"mine.csv.dvc tracks it: fetch it with `dvc pull"):
        check_source("mine.csv")
    with pytest.raises(PipelineError, match=r"other.csv does not exist"):
        check_source("other.csv")


def test_a_dvc_file_in_a_directory_dvc_skips_is_refused(tmp_path: Path) -> None:
    """`/data/*` ignores only what is in data/ for git, but all of data/ for DVC: DVC would
    then delete the file data/external/mine.csv.dvc tracks (an "unused link")."""
    from dvc.repo import Repo

    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    (tmp_path / "data/external").mkdir(parents=True)
    (tmp_path / "data/external/mine.csv.dvc").write_text("outs: []\n", encoding="utf-8")
    (tmp_path / ".gitignore").write_text("/data/*\n!/data/external/\n", encoding="utf-8")
    hidden = r"DVC does not see .*a .gitignore rule ignores data/"
    with Repo.init(str(tmp_path)) as repo, pytest.raises(PipelineError, match=hidden):
        check_dvc_files_visible(repo, ["data/external/mine.csv.dvc"])
    (tmp_path / ".gitignore").write_text("/data/?*\n!/data/external/\n", encoding="utf-8")
    with Repo(str(tmp_path)) as repo:  # the project's own rule: DVC sees the file
        check_dvc_files_visible(repo, ["data/external/mine.csv.dvc"])
    (tmp_path / ".gitignore").write_text("*.dvc\n", encoding="utf-8")
    hidden = r"DVC does not see .*a .gitignore rule ignores data/external/mine.csv.dvc "
    with Repo(str(tmp_path)) as repo, pytest.raises(PipelineError, match=hidden):
        check_dvc_files_visible(repo, ["data/external/mine.csv.dvc"])


def test_a_run_with_nothing_changed_is_told_apart_from_any_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The no-op shortcut (stages/stamp.py): any change to a dependency, an output, a config
    or the code goes to DVC again; a URL dependency or a stage DVC always reruns never skips it."""
    import time

    from {{ cookiecutter.module_name }}.stages import stamp

    monkeypatch.chdir(tmp_path)
    subprocess.run(["git", "init", "--quiet"], check=True)
    for name, text in {
        "dvc.yaml": "stages:\n  train:\n    cmd: python train.py\n",
        "dvc.lock": (
            "schema: '2.0'\nstages:\n  train:\n    cmd: python train.py\n"
            "    deps:\n    - path: data/in.csv\n    params:\n      params.yaml:\n        seed: 1\n"
            "    outs:\n    - path: models\n"
        ),
        "params.yaml": "seed: 1\n",
        "data/in.csv": "a\n1\n",
        "models/model.joblib": "model",
        "configs/config.yaml": "seed: 1\n",
        "src/pkg/code.py": "x = 1\n",
        ".dvc/tmp/.keep": "",
    }.items():
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        Path(name).write_text(text, encoding="utf-8")
    started = time.time_ns() + 10**9  # every file predates the "run"
    assert not stamp.up_to_date()  # no run recorded yet
    stamp.record_stamp(started)
    assert stamp.up_to_date()
    for edit in ("data/in.csv", "models/model.joblib", "configs/config.yaml", "src/pkg/code.py"):
        before = Path(edit).read_text(encoding="utf-8")
        Path(edit).write_text(before + "2\n", encoding="utf-8")
        assert not stamp.up_to_date(), edit
        Path(edit).write_text(before, encoding="utf-8")
        stamp.record_stamp(time.time_ns() + 10**9)
        assert stamp.up_to_date()
    Path("src/pkg/new.py").write_text("", encoding="utf-8")  # a new module: new code lists
    assert not stamp.up_to_date()
    Path("models/model.joblib").unlink()
    assert not stamp.up_to_date()
    # An input changed while the run ran: that run may have missed it, so nothing is recorded.
    stamp.record_stamp(time.time_ns() - 10**9)
    assert not stamp.up_to_date()
    lock = Path("dvc.lock").read_text(encoding="utf-8")
    Path("dvc.lock").write_text(lock.replace("data/in.csv", "https://example.org/in.csv"))
    assert stamp.snapshot() is None
    Path("dvc.lock").write_text(lock, encoding="utf-8")
    Path("dvc.yaml").write_text(Path("dvc.yaml").read_text() + "    always_changed: true\n")
    assert stamp.snapshot() is None


def test_the_config_stage_composes_nothing_that_make_repro_just_composed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import hashlib

    from {{ cookiecutter.module_name }}.stages import COMPOSED_ENV
    from {{ cookiecutter.module_name }}.stages.__main__ import main as stage_main

    monkeypatch.chdir(tmp_path)  # no configs/ here: composing would stop with an error
    Path("params.yaml").write_text("seed: 1\n", encoding="utf-8")
    monkeypatch.setenv(COMPOSED_ENV, hashlib.sha256(b"seed: 1\n").hexdigest())
    stage_main(["config"])
    assert "composed by `make repro` before DVC started" in capsys.readouterr().out
    assert Path("params.yaml").read_text(encoding="utf-8") == "seed: 1\n"
    Path("params.yaml").write_text("seed: 2\n", encoding="utf-8")  # not what make repro wrote
    with pytest.raises(SystemExit):
        stage_main(["config"])
    assert "no config.yaml in configs" in capsys.readouterr().err
