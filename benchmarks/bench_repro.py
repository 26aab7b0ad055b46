"""How long `dvc repro` takes from clean, next to the no-op repro that follows. Not a test.

    python benchmarks/bench_repro.py [--python /path/to/python3.12] [--keep]

Bakes the default project into a temporary directory, runs `make init`, then times:
  1. `make repro` from clean (no data, no model, an empty MLflow store);
  2. `make repro` again, which should find nothing to do.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from baked import add_project_arguments, baked_project, checked


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    checked(command, cwd)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_project_arguments(parser)
    args = parser.parse_args()
    with baked_project("repro", args.python, keep=args.keep) as project:
        clean = timed(["make", "repro"], project)
        noop = timed(["make", "repro"], project)
        print(f"{'dvc repro':<28}{'seconds':>10}")
        print(f"{'from clean':<28}{clean:>10.1f}")
        print(f"{'no-op (nothing changed)':<28}{noop:>10.1f}")
        print(f"{'ratio clean / no-op':<28}{clean / noop:>10.1f}x")


if __name__ == "__main__":
    main()
