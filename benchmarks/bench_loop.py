"""What a training costs beyond its fit, in the research loop: change, run, again. Not a test.

    python benchmarks/bench_loop.py [--python /path/to/python3.12] [--rows 10000,1000000]
                                    [--points 4] [--forest-rows 150000] [--skip-forest] [--keep]
                                    [--template DIR]

Bakes the default project, runs `make init` (the venv's .pyc files written, as a user's are), then
prints, beside the fits (the final fit, and the cross-validation's fits: evaluation.folds, 5 by
default, are the fit's cost too):
  (a) one hyperparameter changed, then `make repro` (config, train, evaluate), against (b);
  (b) `make repro` with nothing to do; also through DVC's own checks (the stamp removed);
      (a) and (b) with .pyc files written, then with none (every __pycache__ of the venv and the
      project removed, PYTHONDONTWRITEBYTECODE=1: every module compiled anew in every process);
  (c) one point of `make sweep` (hydra/launcher=basic: the points in one process, the imports paid
      once): the CPU time a sweep of 1 + POINTS points takes beyond one of 1 point, per point,
      less the point's fits;
  (d) the train stage outside the fit at ROWS rows of benchmarks/bench_scale.py's mixed table
      (its 20-tree forest of depth 12);
  (e) a forest grown without a depth bound (max_depth: null) on FOREST_ROWS rows of that table
      (about 2.2 kB per row: 150,000 rows make a model over 300 MB), `onnx.export: auto`: the
      train stage against the fits, and what one more
      training adds to the MLflow store and the DVC cache against the model's size.
Each figure of (a) and (b) is the median of --repeat runs; CPU s: user + system time of every process
(on a shared machine, far steadier than the wall time). Goals (issue: a fast research loop).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from itertools import count
from pathlib import Path

import bench_scale

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
MODULE = bench_scale.MODULE
FOREST = "model:\n  estimator:\n    n_estimators: {n}\n    max_depth: 12\n"
STAMP = ".dvc/tmp/make-repro.stamp"
GOALS = {
    "change": 4.0,  # s wall, and at most CHANGE_RATIO x the no-op
    "noop": 1.0,  # s wall
    "point": 1.0,  # CPU-s outside the fits
    "share_small": 0.25,  # the train stage outside the fits, at 10,000 rows
    "share_large": 0.10,  # at 1,000,000 rows
    "forest": 1.3,  # the train stage / the fits
    "storage": 1.1,  # store + cache growth per training / model size
}
CHANGE_RATIO = 2.5
ESTIMATORS = count(101)  # each change a new value: every changed run retrains


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(command: list[str], project: Path, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall s, CPU s of every process, stdout then stderr) of a command in the project; stops on
    failure."""
    cpu, wall = children_cpu(), time.perf_counter()
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, env=env)
    wall, cpu = time.perf_counter() - wall, children_cpu() - cpu
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return wall, cpu, done.stdout + done.stderr  # the runtime's WARNING line goes to stderr


def seconds(pattern: str, out: str) -> list[float]:
    return [float(value) for value in re.findall(pattern, out)]


def fits(out: str) -> float:
    """Seconds of every fit the training printed: the final fit and the cross-validation's."""
    return sum(seconds(r"train: fitted .* in ([\d.]+) s", out) + seconds(r"cross-validated .* in ([\d.]+) s", out))


def stage_seconds(out: str) -> float:
    return seconds(r"train: the stage took ([\d.]+) s", out)[-1]


def set_estimators(project: Path, n: int) -> None:
    (project / "configs/experiment/bench.yaml").write_text(
        "# @package _global_\n" + FOREST.format(n=n), encoding="utf-8"
    )


def select(project: Path, *, data: str, experiment: str) -> None:
    config = project / "configs/config.yaml"
    text = re.sub(r"- data: \w+", f"- data: {data}", config.read_text(encoding="utf-8"))
    text = re.sub(r"- experiment: \w+", f"- experiment: {experiment}", text)
    config.write_text(text, encoding="utf-8")


def size_of(*paths: Path) -> int:
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        elif path.is_dir():
            total += sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())
    return total


def loop(project: Path, repeat: int, env: dict[str, str]) -> dict[str, float]:
    """(a) and (b) on the default project: medians of `repeat` runs."""
    figures: dict[str, list[float]] = {}

    def note(key: str, wall: float, cpu: float) -> None:
        figures.setdefault(key, []).append(wall)
        figures.setdefault(f"{key} cpu", []).append(cpu)

    for _ in range(repeat):
        set_estimators(project, next(ESTIMATORS))
        wall, cpu, out = run(["make", "repro"], project, env)
        if "Running stage 'train'" not in out:
            sys.exit(f"the change did not retrain:\n{out}")
        note("change", wall, cpu)
        figures.setdefault("fits", []).append(fits(out))
        note("noop", *run(["make", "repro"], project, env)[:2])
        (project / STAMP).unlink(missing_ok=True)
        note("checked", *run(["make", "repro"], project, env)[:2])  # through DVC, then stamped again
    return {key: statistics.median(values) for key, values in figures.items()}


def sweep_point(project: Path, points: int) -> tuple[float, float]:
    """(CPU s per sweep point beyond its fits, the fits' s per point), basic launcher."""

    def sweep(values: str) -> tuple[float, str]:
        command = ["make", "sweep", "LAUNCHER=basic", "FORCE=1", f"SWEEP=model.estimator.n_estimators={values}"]
        _, cpu, out = run(command, project)
        return cpu, out

    one_cpu, _ = sweep("5")
    many_cpu, out = sweep(",".join(str(5 + i) for i in range(1, points + 1)))
    per_point_fits = fits(out) / points
    return (many_cpu - one_cpu) / points - per_point_fits, per_point_fits


def scale(project: Path, rows: int, python: str) -> tuple[float, float, float]:
    """(train stage s, final fit s, cross-validation s) of `make repro` at `rows` rows."""
    csv = project / "data/external/scale.csv"
    run([python, "-c", bench_scale.TABLE, str(csv), str(rows)], project)
    _, _, out = run(["make", "repro"], project)
    fit = seconds(r"train: fitted .* in ([\d.]+) s", out)[-1]
    cv = seconds(r"cross-validated .* in ([\d.]+) s", out)[-1]
    return stage_seconds(out), fit, cv


def forest(project: Path, rows: int, python: str) -> dict[str, float]:
    """(e): the unbounded forest, trained, then trained again with one setting changed."""
    csv = project / "data/external/scale.csv"
    run([python, "-c", bench_scale.TABLE, str(csv), str(rows)], project)
    preset = project / "configs/experiment/bench.yaml"
    unbounded = "# @package _global_\nmodel:\n  estimator:\n    n_estimators: {n}\n    max_depth: null\n"
    preset.write_text(unbounded.format(n=100), encoding="utf-8")
    run(["make", "repro"], project)  # the data stage, and a first training
    stores = [project / "mlruns", project / "mlflow.db", project / "mlartifacts"]
    before = size_of(*stores), size_of(project / ".dvc/cache")
    preset.write_text(unbounded.format(n=101), encoding="utf-8")  # another model: new bytes
    wall, _, out = run(["make", "repro"], project)
    after = size_of(*stores), size_of(project / ".dvc/cache")
    model = size_of(project / "models/model.joblib")
    fit = seconds(r"train: fitted .* in ([\d.]+) s", out)[-1]
    cv = seconds(r"cross-validated .* in ([\d.]+) s", out)[-1]
    skipped = "ONNX export skipped" in out
    return {
        "stage": stage_seconds(out),
        "fit": fit,
        "cv": cv,
        "model_mb": model / 1e6,
        "store_mb": (after[0] - before[0]) / 1e6,
        "cache_mb": (after[1] - before[1]) / 1e6,
        "repro": wall,
        "onnx_skipped": float(skipped),
    }


def goal(label: str, figure: str, ok: bool) -> None:
    print(f"{label:<60}{figure:>10}  {'met' if ok else 'NOT met'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--python", default=sys.executable, help="interpreter for the project's venv")
    parser.add_argument("--rows", default="10000,1000000", help="(d): comma-separated row counts")
    parser.add_argument("--points", type=int, default=4, help="(c): sweep points beyond the first")
    parser.add_argument("--forest-rows", type=int, default=150000, help="(e): rows of the unbounded forest's table")
    parser.add_argument("--skip-forest", action="store_true", help="leave out (e) (minutes of fits)")
    parser.add_argument("--repeat", type=int, default=3, help="(a), (b): runs per figure (medians)")
    parser.add_argument("--keep", action="store_true", help="keep the baked project")
    parser.add_argument(
        "--template", type=Path, default=TEMPLATE_DIR, help="bake this template (an older version, to compare)"
    )
    args = parser.parse_args()
    os.environ.setdefault("UV_CACHE_DIR", str(TEMPLATE_DIR / ".cache" / "uv"))
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ["DVC_NO_ANALYTICS"] = "1"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # .pyc files, as a user has them
    work = Path(tempfile.mkdtemp(prefix="bench-loop-"))
    try:
        subprocess.run(
            [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(work), str(args.template)],
            check=True,
            capture_output=True,
        )
        project = next(work.iterdir())
        subprocess.run(["make", "init", f"PYTHON={args.python}"], cwd=project, check=True, capture_output=True)
        python = str(project / ".venv/bin/python")
        (project / "configs/experiment/bench.yaml").write_text("# @package _global_\n", encoding="utf-8")
        select(project, data="iris", experiment="bench")
        run(["make", "repro"], project)  # from clean: data, a first model, MLflow's store
        load = os.getloadavg()[0]
        with_pyc = loop(project, args.repeat, dict(os.environ))
        point, point_fits = sweep_point(project, args.points)
        # Every module compiled anew in every process: no .pyc files, none written.
        for cache in [*project.glob(".venv/**/__pycache__"), *project.glob("src/**/__pycache__")]:
            shutil.rmtree(cache)
        without_pyc = loop(project, args.repeat, {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        run([python, "-m", "compileall", "-q", "-j", "0", ".venv", "src"], project)  # as before

        print(f"machine: {os.cpu_count()} cores, load {load:.1f} at the start ({time.strftime('%Y-%m-%d')})\n")
        print(
            f"{'default project (iris), make repro: wall s':<52}{'.pyc':>10}{'no .pyc':>10}{'fits s':>10}{'CPU s':>10}"
        )
        rows = [
            ("(a) one hyperparameter changed", "change"),
            ("(b) nothing to do", "noop"),
            ("    nothing to do, through DVC's checks", "checked"),
        ]
        for label, key in rows:
            fitted = f"{with_pyc['fits']:>10.2f}" if key == "change" else f"{'-':>10}"
            cpu = with_pyc[f"{key} cpu"]
            print(f"{label:<52}{with_pyc[key]:>10.2f}{without_pyc[key]:>10.2f}{fitted}{cpu:>10.2f}")
        ratio = with_pyc["change"] / with_pyc["noop"]
        print(f"{'    ratio (a) / (b)':<52}{ratio:>9.1f}x{without_pyc['change'] / without_pyc['noop']:>9.1f}x")
        print(f"{'(c) one sweep point, CPU s beyond its fits':<52}{point:>10.2f}{'':>10}{point_fits:>10.2f}")
        print()

        shares = {}
        if args.rows:
            (project / "configs/data/scale.yaml").write_text(bench_scale.DATA_CONFIG, encoding="utf-8")
            (project / "configs/experiment/bench.yaml").write_text(
                bench_scale.experiment_preset(
                    ["model=random_forest", "model.estimator.n_estimators=20", "model.estimator.max_depth=12"]
                ),
                encoding="utf-8",
            )
            select(project, data="scale", experiment="bench")
            print(
                f"{'(d) mixed table, rows':<24}{'train s':>10}{'fit s':>10}{'CV fits s':>10}"
                f"{'outside fit+CV':>16}{'outside fit':>13}"
            )
            for n_rows in [int(n) for n in args.rows.split(",")]:
                stage, fit, cv = scale(project, n_rows, python)
                shares[n_rows] = (stage - fit - cv) / stage
                print(
                    f"{n_rows:<24,}{stage:>10.1f}{fit:>10.1f}{cv:>10.1f}{shares[n_rows]:>16.0%}"
                    f"{(stage - fit) / stage:>13.0%}"
                )
            print()

        big = None
        if not args.skip_forest:
            select(project, data="scale", experiment="bench")
            big = forest(project, args.forest_rows, python)
            print(f"(e) unbounded forest, {args.forest_rows:,} rows, onnx.export: auto")
            for label, value in (
                ("model.joblib, MB", big["model_mb"]),
                ("train stage, s", big["stage"]),
                ("  final fit, s", big["fit"]),
                ("  cross-validation's fits, s", big["cv"]),
                ("one more training: MLflow store grew, MB", big["store_mb"]),
                ("one more training: DVC cache grew, MB", big["cache_mb"]),
            ):
                print(f"{label:<52}{value:>10.1f}")
            print(f"{'ONNX export skipped (over onnx.max_model_mb)':<52}{'yes' if big['onnx_skipped'] else 'no':>10}")
            print()

        print("goals (2 cores, .pyc files written)")
        goal("(a) change then make repro < 4 s", f"{with_pyc['change']:.2f} s", with_pyc["change"] < GOALS["change"])
        goal("    and <= 2.5x (b)", f"{ratio:.1f}x", ratio <= CHANGE_RATIO)
        goal("(b) make repro with nothing to do < 1 s", f"{with_pyc['noop']:.2f} s", with_pyc["noop"] < GOALS["noop"])
        goal("(c) a sweep point < 1 CPU-s beyond its fits", f"{point:.2f} s", point < GOALS["point"])
        for n_rows, share in shares.items():
            limit = GOALS["share_small"] if n_rows <= 10_000 else GOALS["share_large"]
            goal(f"(d) train stage outside its fits at {n_rows:,} rows <= {limit:.0%}", f"{share:.0%}", share <= limit)
        if big is not None:
            ratio_e = big["stage"] / (big["fit"] + big["cv"])
            growth = (big["store_mb"] + big["cache_mb"]) / big["model_mb"]
            goal("(e) forest: train stage <= 1.3x its fits", f"{ratio_e:.2f}x", ratio_e <= GOALS["forest"])
            goal("(e) forest: store + cache growth <= 1.1x the model", f"{growth:.2f}x", growth <= GOALS["storage"])
        if args.keep:
            print(f"project kept in {project}")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
