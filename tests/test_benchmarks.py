"""The benchmark scripts run end to end and print their tables (their figures are not asserted)."""

from __future__ import annotations

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
    result = run(
        [
            sys.executable,
            str(BENCHMARKS / "bench_serving.py"),
            *("--project", str(trained_project), "--duration", "1", "--rounds", "1"),
        ],
        cwd=TEMPLATE_DIR,
        timeout=900,
    )
    rows = ("generated API (ONNX)", "generated API (scoring stubbed)", "generated API (scikit-learn)")
    for row in (*rows, "mlflow models serve", "bare ASGI"):
        assert row in result.stdout
    goals = ("throughput vs mlflow", "p99 latency vs mlflow", "API's own time per request", "1000 records vs 10")
    for goal in (*goals, "cold start to first /predict"):
        assert goal in result.stdout


def test_bench_repro_prints_clean_and_noop_times() -> None:
    result = run([sys.executable, str(BENCHMARKS / "bench_repro.py")], cwd=TEMPLATE_DIR, timeout=900)
    assert "from clean" in result.stdout and "no-op (nothing changed)" in result.stdout
