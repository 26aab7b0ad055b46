"""The frame the pipeline benchmarks share: the template's venv on PATH, the default project baked into a
temporary directory and set up with `make init`, removed afterwards unless --keep asks to keep it.

    with baked_project("repro", args.python, keep=args.keep) as project:
        ...  # time the project's own commands
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]


def add_project_arguments(parser: argparse.ArgumentParser) -> None:
    """--python (the project's interpreter) and --keep (leave the bake for a look around)."""
    parser.add_argument("--python", default=sys.executable, help="interpreter for the project's venv")
    parser.add_argument("--keep", action="store_true", help="keep the baked project")


def prepare_environment() -> None:
    """What the project's commands run with here: as a user's, without a tracking server of the caller's."""
    os.environ.setdefault("UV_CACHE_DIR", str(TEMPLATE_DIR / ".cache" / "uv"))
    # The template's venv provides cookiecutter and uv (make init uses uv from PATH).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ["DVC_NO_ANALYTICS"] = "1"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # .pyc files, as a user has them


def checked(command: list[str], cwd: Path) -> str:
    """A command's output; when it fails, the benchmark stops with the command's output (it cannot go on)."""
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    return result.stdout


def bake_and_init(work: Path, python: str) -> Path:
    """The default project baked into `work` (empty) and set up with `make init`."""
    checked([sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(work), str(TEMPLATE_DIR)], work)
    project = next(work.iterdir())
    checked(["make", "init", f"PYTHON={python}"], project)
    return project


@contextlib.contextmanager
def baked_project(name: str, python: str, keep: bool = False) -> Iterator[Path]:
    """The environment prepared and a fresh project in a temporary directory named after the benchmark."""
    prepare_environment()
    work = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
    try:
        yield bake_and_init(work, python)
    finally:
        if keep:
            print(f"project kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
