"""Progress lines: none for a quick step, a line every so often for a long one, then its time."""

from __future__ import annotations

import time

import pytest

from {{ cookiecutter.module_name }}.utils.progress import progress


def test_a_long_step_prints_progress_then_its_time(capsys: pytest.CaptureFixture[str]) -> None:
    with progress("export", first_after_s=0.05, every_s=0.1):
        time.sleep(0.4)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) >= 3 and all(line.endswith("s so far...") for line in lines[:-1])
    assert lines[0].startswith("export: ") and lines[-1].startswith("export: done in ")


def test_a_quick_step_prints_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    with progress("export", first_after_s=5):
        pass
    assert capsys.readouterr().out == ""


def test_a_step_that_fails_stops_its_lines(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError), progress("export", first_after_s=0.05, every_s=0.05):
        time.sleep(0.12)
        raise ValueError("conversion failed")
    printed = len(capsys.readouterr().out.splitlines())
    time.sleep(0.2)
    assert printed >= 1 and capsys.readouterr().out == ""  # the reporting thread ended
