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
The programs and config files these servers run are in benchmarks/servers/ (wrk's, benchmarks/wrk_post.lua);
starting, loading and measuring a server is harness.py's job, the printed table serving_table.py's.
All servers run side by side and are measured in alternating rounds (medians reported), so a change
in the machine's load hits them alike. Also: the cold start (process start to the first 200 on the server's
readiness path, each server started alone), one-connection latencies of a single record and of a
batch of 1,000 varied records, the model's own scoring time in-process, and the size of the serving
image when podman has it. Prints one table with ratios, the goals of the serving-performance issue
(met or not), the machine and the date.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from baked import TEMPLATE_DIR, bake_and_init, checked, prepare_environment
from harness import API_KEY, Server, Unavailable, free_port, stop
from serving_table import print_table

SERVERS_DIR = Path(__file__).resolve().parent / "servers"  # the programs and configs started here
RECORD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
# The other servers, each in a virtual environment of its own, next to the project's scikit-learn.
OTHER_SERVERS = {
    "mlserver": ["mlserver", "mlserver-sklearn"],
    "bentoml": ["bentoml"],
}


def prepare_project(project: Path | None, work: Path, python: str) -> Path:
    if project is not None:
        return project
    baked = bake_and_init(work, python)
    checked(["make", "repro"], baked)
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
    prepare_environment()
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


if __name__ == "__main__":
    main()
