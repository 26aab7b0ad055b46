"""The pipeline on your-own-data-sized tables: time and peak memory per stage at growing row counts.
Not a test.

    python benchmarks/bench_scale.py [--rows 10000,100000,1000000] [--python /path/to/python3.12] [--keep]

Bakes the default project, runs `make init`, then for each size writes a mixed table (20 features:
12 numeric, 8 categorical with 5 to 40 categories, 5% missing values, a text target) as
data/external/scale.csv, selects it with a data config and runs each DVC stage as the pipeline
does (`python -m <module>.stages <stage>`), one process per stage. For each stage it prints wall
time and peak memory (the process's max RSS), and for the train stage the share spent in the
estimator's own fit (the stage prints it). Goals (issue: your own data): peak memory under 5x the
CSV's size; everything but the fit at most 25% of the train stage at 1,000,000 rows; time growing
no faster than the row count.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from baked import add_project_arguments, baked_project, checked

MODULE = "iris_classifier"
STAGES = ("data", "train", "evaluate")
# Runs in the generated project's venv (the template's venv has no numpy or pandas).
TABLE = """
import sys
import numpy as np, pandas as pd
path, rows = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
columns = {f"x{i}": rng.normal(i, 1 + i, rows).round(4) for i in range(12)}
for i in range(8):
    levels = np.array([f"c{i}_{k}" for k in range(5 + 5 * i)], dtype=object)
    columns[f"cat{i}"] = levels[rng.integers(0, len(levels), rows)]
frame = pd.DataFrame(columns)
score = frame["x0"] - frame["x1"] / 2 + (frame["cat0"] == "c0_1") * 2 + rng.normal(0, 1, rows)
frame["label"] = np.where(score > score.median(), "yes", "no")
for name in list(columns):
    frame.loc[rng.random(rows) < 0.05, name] = None
frame.to_csv(path, index=False)
"""
DATA_CONFIG = """name: scale
source: data/external/scale.csv
target: label
task: classification
features: null
kinds: {}
test_size: 0.2
"""
# One stage in a fresh process; the parent then reads that child's peak memory.
MEASURE = (
    "import resource, subprocess, sys, time\n"
    "start = time.perf_counter()\n"
    "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "seconds = time.perf_counter() - start\n"
    "sys.stderr.write(done.stderr)\n"
    "print(done.stdout)\n"
    "print(f'MEASURED {seconds} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}')\n"
    "sys.exit(done.returncode)\n"
)


def select_scale_data(project: Path, model_args: list[str]) -> None:
    """The benchmark's data config (and its model preset, if any) selected in configs/config.yaml."""
    (project / "configs/data/scale.yaml").write_text(DATA_CONFIG, encoding="utf-8")
    config = project / "configs/config.yaml"
    config.write_text(config.read_text().replace("- data: iris", "- data: scale"), encoding="utf-8")
    if model_args:  # a preset of the benchmark's own, selected the Hydra way
        preset = experiment_preset(model_args)
        (project / "configs/experiment/bench.yaml").write_text(preset, encoding="utf-8")
        config.write_text(config.read_text().replace("- experiment: null", "- experiment: bench"))


def run_stage(project: Path, stage: str) -> tuple[float, float, str]:
    """(seconds, peak MB, output) of one stage in its own process."""
    python = str(project / ".venv/bin/python")
    out = checked([python, "-c", MEASURE, python, "-m", f"{MODULE}.stages", stage], project)
    seconds, peak_kb = re.findall(r"MEASURED (\S+) (\d+)", out)[-1]
    return float(seconds), int(peak_kb) / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--rows", default="10000,100000,1000000", help="comma-separated row counts")
    add_project_arguments(parser)
    parser.add_argument(
        "--model",
        default="model=random_forest,model.estimator.n_estimators=20,model.estimator.max_depth=12",
        help="Hydra settings of the model (comma-separated key=value; empty for the default)",
    )
    args = parser.parse_args()
    model_args = [item for item in args.model.split(",") if item]
    with baked_project("scale", args.python, keep=args.keep) as project:
        select_scale_data(project, model_args)
        header = (
            f"{'rows':>10} {'CSV MB':>8} {'stage':<9} {'seconds':>8} {'peak MB':>8}"
            f" {'peak/CSV':>9} {'fit s':>7} {'other share':>11}"
        )
        print(header)
        print("-" * len(header))
        for rows in [int(n) for n in args.rows.split(",")]:
            csv_path = project / "data/external/scale.csv"
            checked([str(project / ".venv/bin/python"), "-c", TABLE, str(csv_path), str(rows)], project)
            csv_mb = csv_path.stat().st_size / 1e6
            # params.yaml from configs/ (the config stage checks that data.source exists).
            checked([str(project / ".venv/bin/python"), "-m", f"{MODULE}.stages", "config"], project)
            for stage in STAGES:
                seconds, peak, out = run_stage(project, stage)
                fit = ""
                share = ""
                if stage == "train":
                    fitted = float(re.findall(r"in ([\d.]+) s", out)[0])
                    fit = f"{fitted:.1f}"
                    share = f"{(seconds - fitted) / seconds:.0%}"
                print(
                    f"{rows:>10,} {csv_mb:>8.1f} {stage:<9} {seconds:>8.1f} {peak:>8.0f}"
                    f" {peak / csv_mb:>8.1f}x {fit:>7} {share:>11}"
                )
        print("\nother share: the train stage's time outside the estimator's fit (reading data, the")
        print("ONNX export and its parity check, MLflow logging and registration, saving).")


def experiment_preset(settings: list[str]) -> str:
    """Hydra settings (`model=ridge`, `model.estimator.alpha=2`) as an experiment preset file."""
    import yaml

    defaults: list[dict[str, str]] = []
    values: dict = {}
    for item in settings:
        key, value = item.split("=", 1)
        if "." not in key:  # a config group
            defaults.append({f"override /{key}": value})
            continue
        *parents, leaf = key.split(".")
        node = values
        for name in parents:
            node = node.setdefault(name, {})
        node[leaf] = yaml.safe_load(value)
    body = {"defaults": defaults, "name": "bench", **values} if defaults else {"name": "bench", **values}
    return "# @package _global_\n" + yaml.safe_dump(body, sort_keys=False)


if __name__ == "__main__":
    main()
