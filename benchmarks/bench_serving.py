"""Serving speed of the generated API next to other model servers and bare floors. Not a test.

    python benchmarks/bench_serving.py [--project DIR] [--duration 10] [--connections 4] [--rounds 3]
                                       [--other-servers install|cached|skip] [--cache DIR]

Bakes the default project (or uses --project, already after `make init` and `make repro`), then on
this machine, in this one run, with wrk (Debian's `wrk`) sending a bounded load on loopback:
  * the generated API (`python -m api`, ONNX runtime) as in production, with API keys and metrics
    on (every request to every server carries the key) on single-record and 1,000-record /predict;
  * the same API with the model's scoring replaced by a constant answer (an ablation: what is
    left is the API's own cost per request: HTTP, middleware, dependencies, validation, rendering);
  * the same API forced onto the scikit-learn model (no model.onnx), for the fallback's figures;
  * `mlflow models serve` on the same model (the registered version training logged);
  * MLServer (Seldon's scikit-learn runtime) and BentoML on the same models/model.joblib, each in
    a virtual environment of its own made with uv under --cache (with the project's scikit-learn);
    a server that cannot be installed, started or measured here gets a row that says why;
  * a minimal FastAPI route and a bare ASGI app under the same uvicorn, answering a constant: the
    floors for a FastAPI app and for any Python API.
The programs and config files these servers run are in benchmarks/servers/ (wrk's, benchmarks/wrk_post.lua).
All servers run side by side and are measured in alternating rounds (medians reported), so a change
in the machine's load hits them alike. Also: the cold start (process start to the first 200 on the server's
readiness path, each server started alone), one-connection latencies of a single record and of a
batch of 1,000 varied records, the model's own scoring time in-process, and the size of the serving
image when podman has it. Prints one table with ratios, the goals of the serving-performance issue
(met or not), the machine and the date.
"""

from __future__ import annotations

import argparse
import contextlib
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
from typing import IO

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
SERVERS_DIR = Path(__file__).resolve().parent / "servers"  # the programs and configs started here
WRK_SCRIPT = Path(__file__).resolve().parent / "wrk_post.lua"
RECORD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
API_KEY = secrets.token_urlsafe(32)  # the generated API's API_KEYS; the other servers ignore it
AUTHORIZATION = f"Bearer {API_KEY}"
# The other servers, each in a virtual environment of its own, next to the project's scikit-learn.
OTHER_SERVERS = {
    "mlserver": ["mlserver", "mlserver-sklearn"],
    "bentoml": ["bentoml"],
}


class Unavailable(Exception):
    """A server that cannot be installed, started or measured here: its row says why."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def call(port: int, path: str, body: bytes | None = None, timeout: float = 5) -> int:
    """The status of a GET (no body) or a JSON POST, with the API key."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", AUTHORIZATION)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def output_of(log: IO[bytes]) -> str:
    """The end of a server's output, for the reason in its row."""
    log.seek(0)
    return log.read().decode(errors="replace").strip()[-1500:]


def start(server: Server, env: dict[str, str]) -> tuple[subprocess.Popen, float]:
    """Start a server; return (process, seconds from start to its first 200 on its ready path).

    Then wait for its first 200 on /predict (or its equivalent): a ready server may still warm up.
    """
    log = tempfile.TemporaryFile()  # noqa: SIM115 (read on failure; a pipe nobody reads could stall the server)
    command = [part.replace("{port}", str(server.port)) for part in server.command]
    started = time.perf_counter()
    try:
        process = subprocess.Popen(
            command, cwd=server.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    except OSError as error:
        raise Unavailable(f"cannot start {command[0]}: {error}") from error
    deadline = started + 180
    cold = None
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise Unavailable(f"{Path(command[0]).name} exited with status {process.returncode}: {output_of(log)}")
        try:
            if cold is None and call(server.port, server.ready, timeout=2) == 200:
                cold = time.perf_counter() - started
            if cold is not None:
                status = call(server.port, server.path, server.single, timeout=10)
                if status == 200:
                    return process, cold
                if status not in (404, 503):  # not a server still loading its model: a wrong request
                    stop(process)
                    raise Unavailable(f"{server.path} answered {status} to a valid record: {output_of(log)}")
        except OSError:
            pass
        time.sleep(0.01)
    stop(process)
    raise Unavailable(f"did not answer {server.ready} and {server.path} within 180 s: {output_of(log)}")


def stop(process: subprocess.Popen) -> None:
    tree = process_tree(process.pid)
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    for pid, fields in tree.items():  # workers a supervisor left behind (in its process group or not)
        with contextlib.suppress(OSError, IndexError):
            # The same process (same start time), not a new one that got its pid.
            if Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19] == fields[19]:
                os.kill(pid, signal.SIGKILL)


def wrk(port: int, path: str, body: bytes, duration: int, connections: int) -> dict[str, float]:
    """Requests/s and p50/p99 latency (ms) under a bounded load: `connections` for `duration` s."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as body_file:
        body_file.write(body)
    url = f"http://127.0.0.1:{port}{path}"
    env = {**os.environ, "WRK_BODY_FILE": body_file.name, "WRK_AUTHORIZATION": AUTHORIZATION}
    try:
        output = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(WRK_SCRIPT), url],
            env=env,
            capture_output=True,
            text=True,
            check=True,
            timeout=duration + 60,
        ).stdout
    except subprocess.CalledProcessError as error:
        raise Unavailable(f"wrk failed on {path}: {error.stderr.strip()[-600:]}") from error
    finally:
        os.unlink(body_file.name)
    if "Non-2xx" in output:
        raise Unavailable(f"non-2xx answers under load on {path}: {output.strip()[-600:]}")

    def latency_ms(percentile: str) -> float:
        value, unit = re.search(rf"^\s+{percentile}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    return {"rps": rate, "p50": latency_ms("50"), "p99": latency_ms("99"), "requests": requests}


def process_tree(root: int) -> dict[int, list[str]]:
    """The /proc/<pid>/stat fields (after "pid (command)") of root and all its live descendants.

    By parentage, not process group: a supervisor's workers may start sessions of their own.
    """
    stats = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            stats[int(stat.parent.name)] = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended meanwhile
    tree, parents = {}, {root}
    while parents:
        tree |= {pid: stats[pid] for pid in parents if pid in stats}
        parents = {pid for pid, fields in stats.items() if int(fields[1]) in parents and pid not in tree}
    return tree


def cpu_seconds(root: int) -> float:
    """CPU time (user + system) used so far by a server's live processes (Linux /proc).

    Per request, it is the server's own cost, whether or not wrk (on the same cores) is what limits
    the request rate.
    """
    ticks = sum(int(fields[11]) + int(fields[12]) for fields in process_tree(root).values())  # utime, stime
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


def server_venv(name: str, packages: list[str], project_python: Path, cache: Path, install: bool) -> Path:
    """The interpreter of a virtual environment holding `packages` and the project's scikit-learn
    (the model file only loads with the version it was saved with), made with uv under `cache`."""
    versions = subprocess.run(
        [str(project_python), "-c", "import sklearn, platform; print(sklearn.__version__, platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    sklearn, python_version = versions
    venv = cache / f"{name}-py{python_version}-sklearn{sklearn}"
    python = venv / "bin" / "python"
    if (venv / "installed").exists():
        return python
    if not install:
        raise Unavailable(f"not installed: run without --other-servers=cached once to install it into {venv}")
    uv = shutil.which("uv")
    if uv is None:
        raise Unavailable("uv not found on PATH: cannot make its virtual environment")
    shutil.rmtree(venv, ignore_errors=True)
    steps = (
        [uv, "venv", "--quiet", "--python", str(project_python), str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(python), *packages, f"scikit-learn=={sklearn}", "pandas"],
    )
    for step in steps:
        result = subprocess.run(step, capture_output=True, text=True, timeout=1200)
        if result.returncode != 0:
            raise Unavailable(f"cannot install {' '.join(packages)}: {result.stderr.strip()[-600:]}")
    (venv / "installed").touch()
    return python


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
    """One server under test, and what was measured on it (or why it could not be)."""

    name: str
    command: list[str]
    cwd: Path
    env: dict[str, str]
    path: str  # where it predicts (POST)
    ready: str  # where it says it is ready (GET): the cold start ends at its first 200 there
    single: bytes  # one record
    batch: bytes | None = None  # 1,000 records; when given, one-connection latencies are measured
    runtime: str | None = None  # for the generated API: the runtime /metadata must report
    ours: bool = False  # the generated API: a failure stops the benchmark instead of filling a row
    unavailable: str | None = None  # why there are no figures
    process: subprocess.Popen | None = None
    port: int = 0
    cold: float = 0.0
    rounds: list[dict[str, float]] = field(default_factory=list)

    def launch(self, env: dict[str, str]) -> None:
        if self.unavailable is not None:
            return
        self.port = free_port()
        env = {**os.environ, **env, **self.env, "PORT": str(self.port)}
        env = {key: value.replace("{port}", str(self.port)) for key, value in env.items()}
        try:
            self.process, self.cold = start(self, env)
        except Unavailable as error:
            self.fail(error)
            return
        if self.runtime is not None:  # a row must measure what its name says
            url = f"http://127.0.0.1:{self.port}/metadata"
            request = urllib.request.Request(url, headers={"Authorization": AUTHORIZATION})
            with urllib.request.urlopen(request, timeout=10) as response:
                runtime = json.loads(response.read())["runtime"]
            if runtime != self.runtime:
                sys.exit(f"{self.name}: the API serves {runtime}, not {self.runtime}")

    def fail(self, error: Unavailable) -> None:
        if self.ours:
            sys.exit(f"{self.name}: {error}")
        self.unavailable = " ".join(str(error).split())  # one line in the table
        if self.process is not None:
            stop(self.process)
            self.process = None

    def measure(self, duration: int, connections: int) -> None:
        if self.unavailable is not None:
            return
        root = self.process.pid
        try:
            cpu_before = cpu_seconds(root)
            figures = wrk(self.port, self.path, self.single, duration, connections)
            figures["cpu_us"] = (cpu_seconds(root) - cpu_before) / figures.pop("requests") * 1e6
            if self.batch is not None:
                figures["one_ms"] = wrk(self.port, self.path, self.single, duration, 1)["p50"]
                figures["batch_ms"] = wrk(self.port, self.path, self.batch, duration, 1)["p50"]
        except Unavailable as error:
            self.fail(error)
            return
        self.rounds.append(figures)

    def figures(self) -> dict[str, float] | None:
        """The median of each figure over the rounds, and the cold start; None when unavailable."""
        if self.unavailable is not None:
            return None
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


def in_process_scoring(python: Path, project: Path, records: list[dict[str, float]], env: dict[str, str]) -> dict:
    """The served model's median scoring time for one record and for all of them, in-process."""
    result = subprocess.run(
        [str(python), str(SERVERS_DIR / "scoring.py")],
        cwd=project,
        env={**os.environ, **env},
        input=json.dumps(records),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return json.loads(result.stdout)


def mlserver_request(records: list[dict[str, float]]) -> bytes:
    """The V2 inference protocol's request for `records`: one input per column, decoded by
    MLServer's pandas codec into the DataFrame the pipeline takes; both outputs asked for."""
    inputs = [
        {"name": name, "shape": [len(records)], "datatype": "FP64", "data": [record[name] for record in records]}
        for name in RECORD
    ]
    outputs = [{"name": "predict"}, {"name": "predict_proba"}]
    return json.dumps({"inputs": inputs, "outputs": outputs, "parameters": {"content_type": "pd"}}).encode()


def other_servers(
    project: Path, work: Path, venv: Path, args: argparse.Namespace, single: list, records: list
) -> list[Server]:
    """MLServer and BentoML on the pipeline's model.joblib, each from its own virtual environment;
    a server that cannot be installed gets a row that says why."""
    model_file = project / "models" / "model.joblib"
    mlserver_dir = work / "mlserver"  # the config files, next to a copy of the model they name
    shutil.copytree(SERVERS_DIR / "mlserver", mlserver_dir)
    shutil.copy(model_file, mlserver_dir / "model.joblib")
    quiet = {"BENTOML_DO_NOT_TRACK": "true", "PYTHONWARNINGS": "ignore"}
    servers = []
    for key, name, command, env, path, ready, body in (
        (
            "mlserver",
            "MLServer (scikit-learn runtime)",
            ["{bin}/mlserver", "start", str(mlserver_dir)],
            {"MLSERVER_HTTP_PORT": "{port}", "MLSERVER_GRPC_PORT": str(free_port())}
            | {"MLSERVER_METRICS_PORT": str(free_port())},
            "/v2/models/classifier/infer",
            "/v2/health/ready",
            mlserver_request,
        ),
        (
            "bentoml",
            "BentoML",
            ["{bin}/bentoml", "serve", "bento_service:Classifier", "--host", "127.0.0.1", "--port", "{port}"],
            {"BENCH_MODEL_FILE": str(model_file)},
            "/predict",
            "/readyz",
            lambda rows: json.dumps({"records": rows}).encode(),
        ),
    ):
        server = Server(name, command, SERVERS_DIR, {**quiet, **env}, path, ready, body(single), body(records))
        if args.other_servers == "skip":
            server.unavailable = "skipped (--other-servers=skip)"
        else:
            try:
                install = args.other_servers == "install"
                python = server_venv(key, OTHER_SERVERS[key], venv / "python", args.cache, install)
            except Unavailable as error:
                server.unavailable = str(error)
            else:
                server.command = [part.replace("{bin}", str(python.parent)) for part in command]
        servers.append(server)
    return servers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--project", type=Path, help="a generated project after make init and make repro")
    parser.add_argument("--python", default=sys.executable, help="interpreter for a fresh bake's venv")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (bounded load)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians are reported")
    parser.add_argument(
        "--other-servers",
        choices=("install", "cached", "skip"),
        default="install",
        help="MLServer and BentoML: install their virtual environments when missing (default), use them"
        " only when already installed, or leave them out",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=TEMPLATE_DIR / ".cache" / "bench-servers",
        help="where the other servers' virtual environments are kept",
    )
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    os.environ.setdefault("UV_CACHE_DIR", str(TEMPLATE_DIR / ".cache" / "uv"))
    # The template's venv provides cookiecutter and uv (make init uses uv from PATH).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    env = {"DVC_NO_ANALYTICS": "1"}
    # The generated API as in production, API keys and metrics on (every request to every server
    # carries the key); one worker, whatever the project's .env says: the stub lives in it. No
    # access line (LOG_LEVEL=warning), like the other servers.
    api_env = {"LOG_LEVEL": "warning", "WORKERS": "1", "API_KEYS": API_KEY, "METRICS": "true"}

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        project = prepare_project(args.project, Path(tmp), args.python).resolve()
        venv = project / ".venv" / "bin"
        meta = json.loads((project / "models" / "model_meta.json").read_text())
        meta |= json.loads((project / "reports" / "lineage.json").read_text())  # registered version
        records = varied_records(project / "data" / "processed" / "train.csv", 1000)
        ours = {"records": [RECORD]}, {"records": records}
        single, batch = (json.dumps(body).encode() for body in ours)
        mlflow_single, mlflow_batch = (json.dumps({"dataframe_records": b["records"]}).encode() for b in ours)

        fallback = Path(tmp) / "sklearn-models"
        shutil.copytree(project / "models", fallback)
        (fallback / "model.onnx").unlink(missing_ok=True)
        python = str(venv / "python")
        model_uri = f"models:/{meta['model_name']}/{meta['model_version']}"
        mlflow_serve = [str(venv / "mlflow"), "models", "serve", "-m", model_uri, "--env-manager", "local"]
        mlflow_env = {
            "PATH": f"{venv}{os.pathsep}{os.environ['PATH']}",  # it execs `uvicorn` from PATH
            "MLFLOW_TRACKING_URI": "sqlite:///mlflow.db",
        }
        uvicorn = [python, "-m", "uvicorn", "--port", "{port}", "--log-level", "warning"]
        bare, floor = [*uvicorn, "bare_app:app"], [*uvicorn, "fastapi_floor:app"]
        api = [python, "-m", "api"]
        stubbed = [python, str(SERVERS_DIR / "stubbed_api.py")]
        sklearn_env = {**api_env, "MODEL_DIR": str(fallback)}
        ours_paths = ("/predict", "/ready")
        servers = [
            Server("generated API (ONNX)", api, project, api_env, *ours_paths, single, batch, "onnx", ours=True),
            Server("generated API (scoring stubbed)", stubbed, project, api_env, *ours_paths, single, ours=True),
            Server(
                "generated API (scikit-learn)",
                api,
                project,
                sklearn_env,
                *ours_paths,
                single,
                batch,
                "scikit-learn",
                ours=True,
            ),
            Server(
                "mlflow models serve",
                [*mlflow_serve, "--host", "127.0.0.1", "--port", "{port}"],
                project,
                mlflow_env,
                "/invocations",
                "/health",
                mlflow_single,
                mlflow_batch,
            ),
            *other_servers(project, Path(tmp), venv, args, [RECORD], records),
            Server("minimal FastAPI route (constant)", floor, SERVERS_DIR, {}, "/", "/", single),
            Server("bare ASGI (constant)", bare, SERVERS_DIR, {}, "/", "/", single),
        ]
        scorings = []
        try:
            for server in servers:  # one at a time: each cold start is its own
                server.launch(env)
            for _ in range(args.rounds):
                for server in servers:
                    server.measure(args.duration, args.connections)
                # In every round too: the request and the in-process scoring meet the same load.
                scorings.append(in_process_scoring(venv / "python", project, records, {**env, **api_env}))
        finally:
            for server in servers:
                if server.process is not None:
                    stop(server.process)
        timed = ("one", "batch", "batch_answer")
        scoring = scorings[0] | {key: statistics.median(s[key] for s in scorings) for key in timed}

    print_table(servers, scoring, args, image_size())


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


if __name__ == "__main__":
    main()
