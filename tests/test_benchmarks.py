"""The benchmark scripts run end to end and print their tables (their figures are not asserted)."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest
from helpers import TEMPLATE_DIR, run

pytestmark = pytest.mark.full

BENCHMARKS = TEMPLATE_DIR / "benchmarks"


def test_bench_serving_prints_the_side_by_side_table(trained_project: Path) -> None:
    if shutil.which("wrk") is None:
        message = "WRK NOT INSTALLED: benchmarks/bench_serving.py was not run (apt-get install wrk)"
        print(f"\n{'!' * 20} {message} {'!' * 20}", file=sys.stderr)
        pytest.skip(message)
    # MLServer and BentoML only when a full run installed them already (else their rows say so).
    result = run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_serving.py"),
            *("--project", str(trained_project), "--duration", "1", "--rounds", "1", "--other-servers", "cached"),
        ],
        cwd=TEMPLATE_DIR,
        timeout=900,
    )
    rows = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
    measured = re.compile(r"\s+\d+\s+\d+\.\d{3}\s")  # req/s, then its ratio to the generated API
    for name in (
        "generated API (ONNX)",
        "generated API (scoring stubbed)",
        "generated API (scikit-learn)",
        "mlflow models serve",
        "minimal FastAPI route (constant)",
        "bare ASGI (constant)",
    ):
        assert measured.match(rows[name][len(name) :]), rows[name]
    for name in ("MLServer (scikit-learn runtime)", "BentoML"):
        figures = rows[name][len(name) :]
        assert measured.match(figures) or re.match(r"\s*unavailable: \S", figures), rows[name]
    goals = (
        "single-record throughput vs mlflow models serve",
        "single-record throughput vs the fastest other server",
        "p99 latency vs mlflow models serve",
        "cold start to first 200 on /ready",
        "API's own CPU time per request vs bare ASGI",
        "1000-record request vs in-process scoring",
    )
    for goal in goals:
        assert re.search(rf"^{re.escape(goal)}\s+\S.*(met|NOT met)$", result.stdout, re.M), goal


def test_bench_repro_prints_clean_and_noop_times() -> None:
    result = run([sys.executable, str(BENCHMARKS / "bench_repro.py")], cwd=TEMPLATE_DIR, timeout=900)
    assert "from clean" in result.stdout and "no-op (nothing changed)" in result.stdout


def test_bench_tune_prints_the_cost_per_trial_and_the_speed_up() -> None:
    result = run([sys.executable, str(BENCHMARKS / "bench_tune.py"), "--trials", "4"], cwd=TEMPLATE_DIR, timeout=1800)
    assert re.search(
        r"^CPU per trial outside the fits\s+\d+\.\d{3} s \(goal < 1 s: (met|NOT met)\)$", result.stdout, re.M
    )
    assert re.search(r"^speed-up of 2 workers over 1 \(wall\)\s+\d+\.\d\dx$", result.stdout, re.M), result.stdout


def test_bench_scale_prints_time_and_memory_per_stage() -> None:
    result = run([sys.executable, str(BENCHMARKS / "bench_scale.py"), "--rows", "2000"], cwd=TEMPLATE_DIR, timeout=1200)
    for stage in ("data", "train", "evaluate"):
        row = rf"^\s+2,000\s+\d+\.\d\s+{stage}\s+\d+\.\d\s+\d+\s+\d+\.\dx"
        assert re.search(row, result.stdout, re.M), result.stdout
    assert re.search(r"^\s+2,000 .* train .*\d+\.\d\s+\d+%$", result.stdout, re.M), "no fit time or share"


def test_bench_loop_prints_the_loop_beside_the_fits() -> None:
    result = run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_loop.py"),
            *("--rows", "2000", "--points", "1", "--repeat", "1", "--skip-forest"),
        ],
        cwd=TEMPLATE_DIR,
        timeout=1800,
    )
    figures = r"\s+\d+\.\d\d\s+\d+\.\d\d"  # with .pyc files, then without
    cpu = r"\s+\d+\.\d\d$"
    assert re.search(rf"^\(a\) one hyperparameter changed{figures}\s+\d+\.\d\d{cpu}", result.stdout, re.M), (
        result.stdout
    )
    assert re.search(rf"^\(b\) nothing to do{figures}\s+-{cpu}", result.stdout, re.M), result.stdout
    assert re.search(r"^\(c\) one sweep point, CPU s beyond its fits\s+-?\d+\.\d\d\s+\d+\.\d\d$", result.stdout, re.M)
    assert re.search(r"^2,000\s+\d+\.\d\s+\d+\.\d\s+\d+\.\d\s+-?\d+%\s+-?\d+%$", result.stdout, re.M), result.stdout
    for goal in ("(a) change then make repro < 4 s", "(b) make repro with nothing to do < 1 s", "(c) a sweep point"):
        assert re.search(rf"^{re.escape(goal)}.*\s(met|NOT met)$", result.stdout, re.M), goal
