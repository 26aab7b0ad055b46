"""Serving speed of the generated API next to `mlflow models serve` and a bare ASGI app. Not a test.

    python benchmarks/bench_serving.py [--project DIR] [--duration 10] [--connections 4]

Bakes the default project (or uses --project, already after `make init` and `make repro`), then on
this machine, in this one run, with wrk (Debian's `wrk`) sending a bounded load on loopback:
  * the generated API (`python -m api`, ONNX runtime) on single-record and 1,000-record /predict;
  * the same API forced onto the scikit-learn model (no model.onnx), for the fallback's figures;
  * `mlflow models serve` on the same model (the registered version training logged);
  * a bare ASGI app under the same uvicorn that answers a constant: the floor for any Python API.
Also the cold start (process start to first successful /predict) and the size of the serving
image when podman has it. Prints one table with ratios, the machine and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import date
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
RECORD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(port: int, path: str, body: bytes, timeout: float = 5) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def start(command: list[str], cwd: Path, env: dict[str, str], port: int, path: str, body: bytes) -> tuple:
    """Start a server; return (process, seconds from start to its first 200 on path)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = started + 180
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            sys.exit(f"{command[0]} exited: {process.stderr.read().decode()[-2000:]}")
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
    return {"rps": rate, "p50": latency_ms("50"), "p99": latency_ms("99")}


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--project", type=Path, help="a generated project after make init and make repro")
    parser.add_argument("--python", default=sys.executable, help="interpreter for a fresh bake's venv")
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per measurement")
    parser.add_argument("--connections", type=int, default=4, help="concurrent connections (bounded load)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    os.environ.setdefault("UV_CACHE_DIR", str(TEMPLATE_DIR / ".cache" / "uv"))
    # The template's venv provides cookiecutter and uv (make init uses uv from PATH).
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"
    os.environ.pop("MLFLOW_TRACKING_URI", None)
    env = {"DVC_NO_ANALYTICS": "1", "LOG_LEVEL": "warning"}
    single = json.dumps({"records": [RECORD]}).encode()
    batch = json.dumps({"records": [RECORD] * 1000}).encode()
    mlflow_single = json.dumps({"dataframe_records": [RECORD]}).encode()
    mlflow_batch = json.dumps({"dataframe_records": [RECORD] * 1000}).encode()

    with tempfile.TemporaryDirectory(prefix="bench-serving-") as tmp:
        project = prepare_project(args.project, Path(tmp), args.python).resolve()
        venv = project / ".venv" / "bin"
        meta = json.loads((project / "models" / "model_meta.json").read_text())
        results: dict[str, dict[str, float]] = {}

        def measure(name: str, command: list[str], cwd: Path, path: str, one: bytes, many: bytes | None) -> None:
            port = free_port()
            command = [part.replace("{port}", str(port)) for part in command]
            process, cold = start(command, cwd, {**env, "PORT": str(port)}, port, path, one)
            try:
                figures = {"cold": cold, **wrk(port, path, one, args.duration, args.connections)}
                if many is not None:
                    batch_figures = wrk(port, path, many, args.duration, 1)
                    figures["batch_ms"] = batch_figures["p50"]
                results[name] = figures
            finally:
                stop(process)

        api = [str(venv / "python"), "-m", "api"]
        measure("generated API (ONNX)", api, project, "/predict", single, batch)

        fallback = Path(tmp) / "sklearn-models"
        shutil.copytree(project / "models", fallback)
        (fallback / "model.onnx").unlink(missing_ok=True)
        env_fallback = {"MODEL_DIR": str(fallback)}
        env.update(env_fallback)
        measure("generated API (scikit-learn)", api, project, "/predict", single, batch)
        for key in env_fallback:
            env.pop(key)

        model_uri = f"models:/{meta['model_name']}/{meta['model_version']}"
        mlflow_serve = [
            str(venv / "mlflow"),
            "models",
            "serve",
            "-m",
            model_uri,
            "--env-manager",
            "local",
            "--host",
            "127.0.0.1",
            "--port",
            "{port}",
        ]
        # It execs `uvicorn` from PATH: the project's venv, as when activated.
        env["PATH"] = f"{venv}{os.pathsep}{os.environ['PATH']}"
        env["MLFLOW_TRACKING_URI"] = "sqlite:///mlflow.db"
        measure("mlflow models serve", mlflow_serve, project, "/invocations", mlflow_single, mlflow_batch)
        env.pop("MLFLOW_TRACKING_URI")
        env.pop("PATH")

        bare_dir = Path(tmp) / "bare"
        bare_dir.mkdir()
        (bare_dir / "bare_app.py").write_text(BARE_APP)
        bare = [str(venv / "python"), "-m", "uvicorn", "bare_app:app", "--port", "{port}", "--log-level", "warning"]
        measure("bare ASGI (constant)", bare, bare_dir, "/", single, None)

    print_table(results, image_size())


def print_table(results: dict[str, dict[str, float]], image: str) -> None:
    reference = results["mlflow models serve"]
    ours = results["generated API (ONNX)"]
    print(
        f"Serving benchmark, {date.today()}, {platform.node()}: {os.cpu_count()} cores, "
        f"{platform.machine()}, Python {platform.python_version()}; wrk on loopback"
    )
    header = f"{'server':<30}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'1000-rec ms':>13}{'cold s':>8}"
    print(header)
    print("-" * len(header))
    for name, figures in results.items():
        batch = f"{figures['batch_ms']:.1f}" if "batch_ms" in figures else "-"
        print(
            f"{name:<30}{figures['rps']:>9.0f}{figures['p50']:>9.2f}{figures['p99']:>9.2f}{batch:>13}"
            f"{figures['cold']:>8.2f}"
        )
    bare = results["bare ASGI (constant)"]
    print()
    print(f"throughput vs mlflow models serve:    {ours['rps'] / reference['rps']:.1f}x  (goal >= 10x)")
    print(f"p99 latency vs mlflow models serve:   {ours['p99'] / reference['p99']:.2f}x (goal <= 0.2x)")
    print(f"time per request vs bare ASGI:        {bare['rps'] / ours['rps']:.2f}x (goal <= 2x)")
    print(f"1000 records vs 10 single requests:   {ours['batch_ms'] / (10 * ours['p50']):.2f}x (goal < 1x)")
    print(f"cold start to first /predict:         {ours['cold']:.2f} s (goal < 1.5 s)")
    print(f"serving image size:                   {image}")


if __name__ == "__main__":
    main()
