"""How long `dvc repro` takes from clean, next to the no-op repro that follows. Not a test.

    python benchmarks/bench_repro.py [--python /path/to/python3.12] [--keep]

Bakes the default project into a temporary directory, runs `make init`, then times:
  1. `make repro` from clean (no data, no model, an empty MLflow store);
  2. `make repro` again, which should find nothing to do.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the project's venv")
    parser.add_argument("--keep", action="store_true", help="keep the baked project")
    args = parser.parse_args()
    os.environ.setdefault("UV_CACHE_DIR", str(TEMPLATE_DIR / ".cache" / "uv"))
    # The template's venv provides cookiecutter and uv (make init uses uv from PATH).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ["DVC_NO_ANALYTICS"] = "1"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    work = Path(tempfile.mkdtemp(prefix="bench-repro-"))
    try:
        subprocess.run(
            [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(work), str(TEMPLATE_DIR)],
            check=True,
            capture_output=True,
        )
        project = next(work.iterdir())
        subprocess.run(["make", "init", f"PYTHON={args.python}"], cwd=project, check=True, capture_output=True)
        clean = timed(["make", "repro"], project)
        noop = timed(["make", "repro"], project)
        print(f"{'dvc repro':<28}{'seconds':>10}")
        print(f"{'from clean':<28}{clean:>10.1f}")
        print(f"{'no-op (nothing changed)':<28}{noop:>10.1f}")
        print(f"{'ratio clean / no-op':<28}{clean / noop:>10.1f}x")
        if args.keep:
            print(f"project kept in {project}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
