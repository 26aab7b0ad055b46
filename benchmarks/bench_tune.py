"""What `make tune` costs beyond the fits, and what a second worker buys. Not a test.

    python benchmarks/bench_tune.py [--python /path/to/python3.12] [--trials 20] [--keep]

Bakes the default project into a temporary directory and runs `make init` (the venv's .pyc files
written, as a user's are), then:
  1. the cost of a trial outside its fits: two studies of a forest of 1 to 2 trees (fits of a few
     milliseconds) on 2 folds, of 1 and of 1 + TRIALS trials; the CPU time (user + system, of every
     process) the extra trials add, divided by their number, less the fits' own CPU time (measured
     in the same studies: every trial prints it);
  2. the speed-up of 2 workers over 1: a study of TRIALS trials of a forest whose fits take about a
     second per trial (2 folds), run with WORKERS=1, then (another study) WORKERS=2.
"""

from __future__ import annotations

import argparse
import re
import resource
import subprocess
import time
from pathlib import Path

from baked import add_project_arguments, baked_project

CHEAP = "model:\n  estimator:\n    n_estimators: {int: [1, 2]}\n"
# About a second of fitting per trial (two folds) on the 2-core machine the README reports.
SECOND = "model:\n  estimator:\n    n_estimators: {int: [250, 260]}\n"
GOAL_CPU_S = 1.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def tune(project: Path, *args: str) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of every process, output) of one `make tune`."""
    cpu, wall = children_cpu(), time.perf_counter()
    result = subprocess.run(
        ["make", "tune", *args, "ARGS=evaluation.folds=2"], cwd=project, check=True, capture_output=True, text=True
    )
    return time.perf_counter() - wall, children_cpu() - cpu, result.stdout


def fit_seconds(project: Path, space: str, trials: int) -> float:
    """CPU seconds of the fits alone for `trials` trials of the space, in one process."""
    code = (
        "import time, numpy as np\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "import pandas as pd\n"
        "frame = pd.read_csv('data/external/iris.csv')\n"
        "x, y = frame.drop(columns='species'), frame['species']\n"
        f"sizes = np.random.default_rng(0).integers({space}[0], {space}[1] + 1, {trials})\n"
        "started = time.process_time()\n"
        "for size in sizes:\n"
        "    for half in (0, 1):\n"
        "        rows = np.arange(len(x)) % 2 == half\n"
        "        RandomForestClassifier(int(size), random_state=0, n_jobs=1).fit(x[~rows], y[~rows]).predict(x[rows])\n"
        "print(time.process_time() - started)\n"
    )
    out = subprocess.run([".venv/bin/python", "-c", code], cwd=project, check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_project_arguments(parser)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    with baked_project("tune", args.python, keep=args.keep) as project:
        (project / "configs/search/cheap.yaml").write_text(CHEAP, encoding="utf-8")
        (project / "configs/search/second.yaml").write_text(SECOND, encoding="utf-8")
        tune(project, "TRIALS=1", "SEARCH=cheap", "STUDY=warm-up")  # MLflow's store made, caches warm

        one_wall, one_cpu, _ = tune(project, "TRIALS=1", "SEARCH=cheap", "STUDY=cost-1")
        many_wall, many_cpu, out = tune(project, f"TRIALS={1 + args.trials}", "SEARCH=cheap", "STUDY=cost-n")
        ran = len(re.findall(r"^tune: trial \d+", out, re.M))
        fits = fit_seconds(project, "[1, 2]", ran - 1)
        per_trial = (many_cpu - one_cpu - fits) / max(ran - 1, 1)

        serial_wall, serial_cpu, serial = tune(project, f"TRIALS={args.trials}", "SEARCH=second", "STUDY=serial")
        pair_wall, pair_cpu, pair = tune(project, f"TRIALS={args.trials}", "WORKERS=2", "SEARCH=second", "STUDY=pair")
        second_fits = fit_seconds(project, "[250, 260]", 1)

        print(f"{'make tune (2 folds)':<52}{'wall s':>10}{'CPU s':>10}")
        print(f"{'1 trial, 1-2 trees':<52}{one_wall:>10.1f}{one_cpu:>10.1f}")
        print(f"{f'{ran} trials, 1-2 trees':<52}{many_wall:>10.1f}{many_cpu:>10.1f}")
        label = f"{args.trials} trials of ~{second_fits:.1f} s of fits"
        print(f"{label + ', 1 worker':<52}{serial_wall:>10.1f}{serial_cpu:>10.1f}")
        print(f"{label + ', 2 workers':<52}{pair_wall:>10.1f}{pair_cpu:>10.1f}")
        pruned = [len(re.findall(r"pruned after fold", text)) for text in (serial, pair)]
        print(f"{'pruned trials (1 worker, 2 workers)':<52}{pruned[0]:>10}{pruned[1]:>10}")
        print()
        verdict = "met" if per_trial < GOAL_CPU_S else "NOT met"
        print(f"{'CPU per trial outside the fits':<52}{per_trial:>10.3f} s (goal < {GOAL_CPU_S:g} s: {verdict})")
        print(f"{'speed-up of 2 workers over 1 (wall)':<52}{serial_wall / pair_wall:>10.2f}x")


if __name__ == "__main__":
    main()
