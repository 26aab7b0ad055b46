"""Serving speed of the generated API next to `mlflow models serve` and a bare ASGI app. Not a test.

    python benchmarks/bench_serving.py [--project DIR] [--duration 10] [--connections 4] [--rounds 3]

Bakes the default project (or uses --project, already after `make init` and `make repro`), then on
this machine, in this one run, with wrk (Debian's `wrk`) sending a bounded load on loopback:
  * the generated API (`python -m api`, ONNX runtime, API keys on as in production: every request
    to every server carries the key) on single-record and 1,000-record /predict;
  * the same API with the model's scoring replaced by a constant answer (an ablation: what is
    left is the API's own cost per request: HTTP, validation, rows, rendering);
  * the same API forced onto the scikit-learn model (no model.onnx), for the fallback's figures;
  * `mlflow models serve` on the same model (the registered version training logged);
  * a bare ASGI app under the same uvicorn that answers a constant: the floor for any Python API.
All servers run side by side and are measured in alternating rounds (medians reported), so a
change in the machine's load hits them alike. Also: the cold start (process start to first
successful /predict, each server started alone), one-connection latencies of a single record and
of a batch of 1,000 varied records, the model's own scoring time in-process, and the size of the
serving image when podman has it. Prints one table with ratios, the machine and the date.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
RECORD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
API_KEY = secrets.token_urlsafe(32)  # the generated API's API_KEYS; the other servers ignore it
AUTHORIZATION = f"Bearer {API_KEY}"
BARE_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"predictions":["setosa"]}'})
"""
# `python -m api`, with the scoring of the served ONNX model (ONNX Runtime and the renormalisation of
# its probabilities) replaced by its answer for one record: everything else (HTTP, validation, rows,
# rendering) runs as in production.
STUBBED_API = """
import dataclasses, sys
import numpy as np
import api.sources.directory

real = api.sources.directory.serve_onnx

def serve_stubbed(session, meta, source):
    served = real(session, meta, source)
    # One input column per feature (numbers, or text for categorical features).
    feeds = {
        f.name: np.array([[0.0]], dtype=served.dtype) if f.kind == "numeric" else np.array([[""]], dtype=object)
        for f in meta.features
    }
    labels, probabilities = served.score(feeds)

    def score(inputs):
        rows = len(next(iter(inputs.values())))
        return labels * rows, None if probabilities is None else probabilities * rows

    return dataclasses.replace(served, score=score)

api.sources.directory.serve_onnx = serve_stubbed
from api.__main__ import main
sys.exit(main())
"""
# The served model's own scoring time, in-process (median of repeats): the floor under any request.
SCORING = """
import json, statistics, sys, time
from api.sources import load_model
from api.settings import Settings

model = load_model(Settings())
records = json.loads(sys.stdin.read())

def median_seconds(batch, repeat):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        model.predict(batch)
        times.append(time.perf_counter() - start)
    return statistics.median(times)

print(json.dumps({"runtime": model.runtime, "one": median_seconds(records[:1], 2000),
                  "batch": median_seconds(records, 50)}))
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, path: str, body: bytes, timeout: float = 5) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", AUTHORIZATION)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def start(command: list[str], cwd: Path, env: dict[str, str], port: int, path: str, body: bytes) -> tuple:
    """Start a server; return (process, seconds from start to its first 200 on path)."""
    log = tempfile.TemporaryFile()  # noqa: SIM115 (read on failure; a pipe nobody reads could stall the server)
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=cwd, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    deadline = started + 180
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            log.seek(0)
            sys.exit(f"{command[0]} exited: {log.read().decode(errors='replace')[-2000:]}")
        try:
            if post(port, path, body, timeout=2) == 200:
                return process, time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.02)
    stop(process)
    sys.exit(f"{' '.join(command)} did not answer within 180 s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wrk(port: int, path: str, body: bytes, duration: int, connections: int) -> dict[str, float]:
    """Requests/s and p50/p99 latency (ms) under a bounded load: `connections` for `duration` s."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(
            'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "{AUTHORIZATION}"\n'
            f"wrk.body = {json.dumps(body.decode())}\n"
        )
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            script.name,
            f"http://127.0.0.1:{port}{path}",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=duration + 60,
    ).stdout
    os.unlink(script.name)
    if "Non-2xx" in output:
        sys.exit(f"non-2xx answers during the load on {path}:\n{output}")

    def latency_ms(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {"rps": rate, "p50": latency_ms("50"), "p99": latency_ms("99"), "requests": requests}


def cpu_seconds(group: int) -> float:
    """CPU time (user + system) used so far by the live processes of a process group (Linux /proc).

    Per request, it is the server's own cost, whether or not wrk (on the same cores) is what limits
    the request rate.
    """
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()  # after "pid (command)"
        except (OSError, IndexError):
            continue  # the process ended meanwhile
        if int(fields[2]) == group:  # pgrp; utime and stime follow as fields 11 and 12
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def prepare_project(project: Path | None, work: Path, python: str) -> Path:
    if project is not None:
        return project
    subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", "-o", str(work), str(TEMPLATE_DIR)],
        check=True,
        capture_output=True,
    )
    baked = work / "iris-classifier"
    for step in (["make", "init", f"PYTHON={python}"], ["make", "repro"]):
        subprocess.run(step, cwd=baked, check=True, capture_output=True)
    return baked


def image_size() -> str:
    if shutil.which("podman") is None:
        return "n/a (no podman)"
    listed = subprocess.run(
        ["podman", "--storage-driver", "vfs", "images", "--format", "{{.Repository}}:{{.Tag}} {{.Size}}"],
        capture_output=True,
        text=True,
    ).stdout
    sizes = [line.split(" ", 1)[1] for line in listed.splitlines() if "iris-classifier" in line]
    return sizes[0] if sizes else "n/a (no image built: make build-image)"


@dataclass
class Server:
    """One server under test, and what was measured on it."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    path: str
    single: bytes  # one record
    batch: bytes | None = None  # 1,000 records; when given, one-connection latencies are measured
    runtime: str | None = None  # for the generated API: the runtime /metadata must report
    process: subprocess.Popen | None = None
    port: int = 0
    cold: float = 0.0
    rounds: list[dict[str, float]] = field(default_factory=list)

    def launch(self, env: dict[str, str]) -> None:
        self.port = free_port()
        command = [part.replace("{port}", str(self.port)) for part in self.command]
        env = {**env, **self.env, "PORT": str(self.port)}
        self.process, self.cold = start(command, self.cwd, env, self.port, self.path, self.single)
        if self.runtime is not None:  # a row must measure what its name says
            url = f"http://127.0.0.1:{self.port}/metadata"
            request = urllib.request.Request(url, headers={"Authorization": AUTHORIZATION})
            with urllib.request.urlopen(request, timeout=10) as response:
                runtime = json.loads(response.read())["runtime"]
            if runtime != self.runtime:
                sys.exit(f"{self.name}: the API serves {runtime}, not {self.runtime}")

    def measure(self, duration: int, connections: int) -> None:
        group = self.process.pid  # started in a session of its own: the group holds its workers too
        cpu_before = cpu_seconds(group)
        figures = wrk(self.port, self.path, self.single, duration, connections)
        figures["cpu_us"] = (cpu_seconds(group) - cpu_before) / figures.pop("requests") * 1e6
        if self.batch is not None:
            figures["one_ms"] = wrk(self.port, self.path, self.single, duration, 1)["p50"]
            figures["batch_ms"] = wrk(self.port, self.path, self.batch, duration, 1)["p50"]
        self.rounds.append(figures)

    def figures(self) -> dict[str, float]:
        """The median of each figure over the rounds, and the cold start."""
        keys = self.rounds[0].keys()
        return {"cold": self.cold} | {k: statistics.median(r[k] for r in self.rounds) for k in keys}


def varied_records(train_csv: Path, count: int) -> list[dict[str, float]]:
    """`count` records spread over the training data's range (seeded): no cache-friendly repeats."""
    with train_csv.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    ranges = {name: [float(row[name]) for row in rows] for name in RECORD}
    rng = random.Random(0)
    return [
        {name: round(rng.uniform(min(values), max(values)), 1) for name, values in ranges.items()} for _ in range(count)
    ]


def in_process_scoring(python: Path, project: Path, records: list[dict[str, float]]) -> dict:
    """The served model's median scoring time for one record and for all of them, in-process."""
    result = subprocess.run(
        [str(python), "-c", SCORING],
        cwd=project,
        input=json.dumps(records),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(result.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--project", type=Path, help="a generated project after make init and make repro")
    parser.add_argument("--python", default=sys.executable, help="interpreter for a fresh bake's venv")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (bounded load)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    os.environ.setdefault("UV_CACHE_DIR", str(TEMPLATE_DIR / ".cache" / "uv"))
    # The template's venv provides cookiecutter and uv (make init uses uv from PATH).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    # One worker for every generated-API server, whatever the project's .env says: the stub lives in it.
    env = {"DVC_NO_ANALYTICS": "1", "LOG_LEVEL": "warning", "WORKERS": "1", "API_KEYS": API_KEY}

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        project = prepare_project(args.project, Path(tmp), args.python).resolve()
        venv = project / ".venv" / "bin"
        meta = json.loads((project / "models" / "model_meta.json").read_text())
        meta |= json.loads((project / "reports" / "lineage.json").read_text())  # registered version
        records = varied_records(project / "data" / "processed" / "train.csv", 1000)
        single = json.dumps({"records": [RECORD]}).encode()
        batch = json.dumps({"records": records}).encode()
        mlflow_single = json.dumps({"dataframe_records": [RECORD]}).encode()
        mlflow_batch = json.dumps({"dataframe_records": records}).encode()

        fallback = Path(tmp) / "sklearn-models"
        shutil.copytree(project / "models", fallback)
        (fallback / "model.onnx").unlink(missing_ok=True)
        bare_dir = Path(tmp) / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare_app.py").write_text(BARE_APP)
        python = str(venv / "python")
        model_uri = f"models:/{meta['model_name']}/{meta['model_version']}"
        mlflow_serve = [str(venv / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local"]
        mlflow_env = {
            "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",  # it execs `uvicorn` from PATH
            "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db",
        }
        bare = [python, "-m", "uvicorn", "bare_app:app", "--port", "{port}", "--log-level", "warning"]
        api = [python, "-m", "api"]
        servers = [
            Server("generated API (ONNX)", api, project, {}, "/predict", single, batch, runtime="onnx"),
            Server(
                "generated API (scoring stubbed)",
                [python, "-c", STUBBED_API],
                project,
                {},
                "/predict",
                single,
                runtime="onnx",
            ),
            Server(
                "generated API (scikit-learn)",
                api,
                project,
                {"MODEL_DIR": str(fallback)},
                "/predict",
                single,
                batch,
                runtime="scikit-learn",
            ),
            Server(
                "mlflow models serve",
                [*mlflow_serve, "--host", "127.0.0.1", "--port", "{port}"],
                project,
                mlflow_env,
                "/invocations",
                mlflow_single,
                mlflow_batch,
            ),
            Server("bare ASGI (constant)", bare, bare_dir, {}, "/", single),
        ]
        try:
            for server in servers:  # one at a time: each cold start is its own
                server.launch(env)
            for _ in range(args.rounds):
                for server in servers:
                    server.measure(args.duration, args.connections)
        finally:
            for server in servers:
                if server.process is not None:
                    stop(server.process)
        scoring = in_process_scoring(venv / "python", project, records)

    print_table({server.name: server.figures() for server in servers}, scoring, args, image_size())


def print_table(results: dict[str, dict[str, float]], scoring: dict, args: argparse.Namespace, image: str) -> None:
    ours = results["generated API (ONNX)"]
    stubbed = results["generated API (scoring stubbed)"]
    reference = results["mlflow models serve"]
    bare = results["bare ASGI (constant)"]
    print(
        f"Serving benchmark, {date.today()}, {platform.node()}: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}; wrk on loopback, "
        f"medians of {args.rounds} alternating round(s) of {args.duration} s"
    )
    header = (
        f"{'server':<33}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'CPU us/req':>12}"
        f"{'1 rec ms*':>11}{'1000 rec ms*':>14}{'cold s':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, figures in results.items():
        one = f"{figures['one_ms']:.2f}" if "one_ms" in figures else "-"
        batch = f"{figures['batch_ms']:.1f}" if "batch_ms" in figures else "-"
        print(
            f"{name:<33}{figures['rps']:>9.0f}{figures['p50']:>9.2f}{figures['p99']:>9.2f}{figures['cpu_us']:>12.1f}"
            f"{one:>11}{batch:>14}{figures['cold']:>8.2f}"
        )
    print(
        f"req/s, p50, p99 and the server's CPU time per request: {args.connections} connections;"
        " * one connection (latency without queueing); 1000 records: varied, over the training data's range"
    )
    print()

    def verdict(met: bool) -> str:
        return "met" if met else "NOT met"

    throughput = ours["rps"] / reference["rps"]
    p99 = ours["p99"] / reference["p99"]
    # The server's own CPU time per request: unlike req/s, not capped by wrk sharing the cores.
    own = stubbed["cpu_us"] / bare["cpu_us"]
    whole = ours["cpu_us"] / bare["cpu_us"]
    batch = ours["batch_ms"] / (10 * ours["one_ms"])
    print(f"throughput vs mlflow models serve:          {throughput:7.1f}x  goal >= 10x   {verdict(throughput >= 10)}")
    print(f"p99 latency vs mlflow models serve:         {p99:7.2f}x  goal <= 0.2x  {verdict(p99 <= 0.2)}")
    print(f"API's own time per request vs bare ASGI:    {own:7.2f}x  goal <= 2x    {verdict(own <= 2)}")
    print(
        f"  (CPU time per request, the API with the model's scoring stubbed out; with the model scored it is "
        f"{whole:.2f}x; in req/s the stubbed API is {bare['rps'] / stubbed['rps']:.2f}x)"
    )
    print(f"1000 records vs 10 single records:          {batch:7.2f}x  goal < 1x     {verdict(batch < 1)}")
    print(
        f"  (scoring in-process, {scoring['runtime']} runtime, the model call with its input and output"
        f" conversion: one record {scoring['one'] * 1e3:.3f} ms, 1000 records {scoring['batch'] * 1e3:.2f} ms)"
    )
    cold = ours["cold"]
    print(f"cold start to first /predict:               {cold:7.2f} s  goal < 1.5 s  {verdict(cold < 1.5)}")
    print(f"serving image size:                         {image}")


if __name__ == "__main__":
    main()
