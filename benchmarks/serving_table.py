"""The serving benchmark's printed table: every server's figures side by side, ratios to the
generated API, and the serving-performance goals, met or not."""

from __future__ import annotations

import argparse
import os
import platform
from datetime import date

from harness import Server

OURS, STUBBED, MLFLOW, FLOOR, BARE = (
    "generated API (ONNX)",
    "generated API (scoring stubbed)",
    "mlflow models serve",
    "minimal FastAPI route (constant)",
    "bare ASGI (constant)",
)
GOALS = (  # (name, goal as printed, met when the measured ratio or time is...)
    ("single-record throughput vs mlflow models serve", ">= 50x", lambda value: value >= 50),
    ("single-record throughput vs the fastest other server", ">= 3x", lambda value: value >= 3),
    ("p99 latency vs mlflow models serve", "<= 0.05x", lambda value: value <= 0.05),
    ("cold start to first 200 on /ready", "< 1 s", lambda value: value < 1),
    ("API's own CPU time per request vs bare ASGI", "<= 3x", lambda value: value <= 3),
    ("1000-record request vs in-process scoring", "<= 1.5x", lambda value: value <= 1.5),
)


def print_table(servers: list[Server], scoring: dict, args: argparse.Namespace, image: str) -> None:
    results = {server.name: server.figures() for server in servers}
    ours = results[OURS]
    print(
        f"Serving benchmark, {date.today()}, {platform.node()}: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}; wrk on loopback, "
        f"medians of {args.rounds} alternating round(s) of {args.duration} s"
    )
    header = (
        f"{'server':<33}{'req/s':>9}{'x ours':>8}{'p50 ms':>9}{'p99 ms':>9}{'x ours':>8}{'CPU us/req':>12}"
        f"{'1 rec ms*':>11}{'1000 rec ms*':>14}{'cold s':>8}"
    )
    print(header)
    print("-" * len(header))
    for server in servers:
        figures = results[server.name]
        if figures is None:
            print(f"{server.name:<33}unavailable: {server.unavailable}")
            continue
        one = f"{figures['one_ms']:.2f}" if "one_ms" in figures else "-"
        batch = f"{figures['batch_ms']:.1f}" if "batch_ms" in figures else "-"
        print(
            f"{server.name:<33}{figures['rps']:>9.0f}{figures['rps'] / ours['rps']:>8.3f}{figures['p50']:>9.2f}"
            f"{figures['p99']:>9.2f}{figures['p99'] / ours['p99']:>8.1f}{figures['cpu_us']:>12.1f}"
            f"{one:>11}{batch:>14}{figures['cold']:>8.2f}"
        )
    print(
        f"req/s, p50, p99 and the server's CPU time per request: one record, {args.connections} connections;"
        " * one connection (latency without queueing); 1000 records: varied, over the training data's range;"
        " x ours: the ratio to the generated API (ONNX); cold: process start to the first 200 on its ready path."
        " The generated API runs with API keys and metrics on."
    )
    print()
    reference = results[MLFLOW]
    others = {
        name: figures
        for name, figures in results.items()
        if figures is not None and not name.startswith("generated API") and name not in (FLOOR, BARE)
    }
    fastest = max(others, key=lambda name: others[name]["rps"]) if others else None
    # The server's own CPU time per request: unlike req/s, not capped by wrk sharing the cores.
    own = results[STUBBED]["cpu_us"] / results[BARE]["cpu_us"]
    batch = ours["batch_ms"] / (scoring["batch"] * 1e3)
    measured = (
        (ours["rps"] / reference["rps"], "x") if reference else None,
        (ours["rps"] / others[fastest]["rps"], f"x ({fastest})") if fastest else None,
        (ours["p99"] / reference["p99"], "x") if reference else None,
        (ours["cold"], " s"),
        (own, "x"),
        (batch, "x"),
    )
    print(f"{'goal':<55}{'measured':>14}  {'':<24}{'goal':<9}")
    for (name, goal, met), figure in zip(GOALS, measured, strict=True):
        if figure is None:
            print(f"{name:<55}{'n/a':>14}  {'':<24}{goal:<9}not measured (server unavailable)")
            continue
        value, unit = figure
        number = f"{value:.2f}" if value < 10 else f"{value:.0f}"
        print(f"{name:<55}{number:>14}{unit:<26}{goal:<9}{'met' if met(value) else 'NOT met'}")
    bare_us = results[BARE]["cpu_us"]
    print(
        f"  API's own CPU time: the API with the model's scoring stubbed out, {results[STUBBED]['cpu_us']:.1f} us"
        f" per request, vs the bare app's {bare_us:.1f} us; with the model scored it is"
        f" {ours['cpu_us'] / bare_us:.2f}x; a minimal FastAPI route (no middleware, no dependency) is"
        f" {results[FLOOR]['cpu_us'] / bare_us:.2f}x"
    )
    print(
        f"  in-process scoring ({scoring['runtime']} runtime, the model call with its input and output conversion):"
        f" one record {scoring['one'] * 1e3:.3f} ms, 1000 records {scoring['batch'] * 1e3:.2f} ms"
        f" ({scoring['batch_answer'] * 1e3:.2f} ms with the answer rendered); the request: {ours['batch_ms']:.2f} ms"
    )
    print(f"serving image size: {image}")
