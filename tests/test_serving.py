"""Serve a trained model with the generated project's own `make serve` and call every endpoint over HTTP.

Uses the session's shared `trained_project` (after `make repro`) read-only; each server is a real uvicorn
process on a free loopback port, stopped at the end of its fixture.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import http.client
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import MakeServer, call, run, start_server

pytestmark = pytest.mark.full

RECORD = {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2}
CLASSES = ["setosa", "versicolor", "virginica"]
API_KEY = "template-test-key-" + "k" * 24


@pytest.fixture(scope="module")
def server(trained_project: Path) -> Iterator[int]:
    served = start_server(trained_project)
    yield served.port
    output = served.stop()
    assert "Traceback" not in output, output


def test_health_and_ready(server: int) -> None:
    assert call(server, "GET", "/health") == (200, {"status": "ok"})
    status, body = call(server, "GET", "/ready")
    assert status == 200
    assert body["status"] == "ready"


def test_metadata_names_the_model_and_its_lineage(server: int, trained_project: Path) -> None:
    status, body = call(server, "GET", "/metadata")
    assert status == 200
    saved = json.loads((trained_project / "models" / "model_meta.json").read_text())
    saved |= json.loads((trained_project / "reports" / "lineage.json").read_text())
    for key in ("model_name", "run_id", "git_commit", "data_hash", "trained_at", "metrics"):
        assert body[key] == saved[key], key
    assert [feature["name"] for feature in body["features"]] == list(RECORD)
    assert body["run_id"] and body["git_commit"] and body["data_hash"] and body["metrics"]


def test_the_fast_runtime_answers_like_the_trained_model(server: int, trained_project: Path) -> None:
    """The served ONNX export against the scikit-learn model itself, on the held-out rows."""
    assert call(server, "GET", "/metadata")[1]["runtime"] == "onnx"
    script = (
        "import json, joblib, pandas as pd\n"
        "model = joblib.load('models/model.joblib')\n"
        "rows = pd.read_csv('data/processed/test.csv').drop(columns='species')\n"
        "print(json.dumps({'records': rows.to_dict('records'), 'predictions': model.predict(rows).tolist(),\n"
        "                  'probabilities': model.predict_proba(rows).tolist()}))\n"
    )
    expected = json.loads(run([str(trained_project / ".venv/bin/python"), "-c", script], cwd=trained_project).stdout)
    status, body = call(server, "POST", "/predict", {"records": expected["records"]})
    assert status == 200, body
    assert body["predictions"] == expected["predictions"]
    differences = [
        abs(got - want)
        for got_row, want_row in zip(body["probabilities"], expected["probabilities"], strict=True)
        for got, want in zip(got_row, want_row, strict=True)
    ]
    assert max(differences) <= 1e-5


def test_predict_a_batch(server: int) -> None:
    virginica = {"sepal_length": 7.7, "sepal_width": 3.0, "petal_length": 6.1, "petal_width": 2.3}
    status, body = call(server, "POST", "/predict", {"records": [RECORD, virginica]})
    assert status == 200, body
    assert body["predictions"] == ["setosa", "virginica"]
    assert body["classes"] == CLASSES
    assert [round(sum(row), 6) for row in body["probabilities"]] == [1.0, 1.0]


@pytest.mark.parametrize(
    ("records", "loc", "error_type"),
    [
        ([{**RECORD, "colour": "blue"}], ["body", "records", 0, "colour"], "extra_forbidden"),
        ([{**RECORD, "petal_width": "0.2"}], ["body", "records", 0, "petal_width"], "float_type"),
        ([], ["body", "records"], "too_short"),
        ([RECORD] * 1001, ["body", "records"], "too_long"),
    ],
    ids=["extra", "wrong-type", "empty", "over-batch-limit"],
)
def test_bad_records_get_422_naming_the_field(server: int, records: list, loc: list, error_type: str) -> None:
    status, body = call(server, "POST", "/predict", {"records": records})
    assert status == 422
    assert body["detail"][0]["loc"] == loc
    assert body["detail"][0]["type"] == error_type


def test_fields_the_model_imputes_may_be_left_out(server: int) -> None:
    """The example's pipeline imputes every feature: a field left out is null."""
    left_out = call(server, "POST", "/predict", {"records": [{"sepal_length": 5.1}]})
    nulls = {**dict.fromkeys(RECORD), "sepal_length": 5.1}
    assert left_out == call(server, "POST", "/predict", {"records": [nulls]})
    assert left_out[0] == 200


def test_malformed_json_gets_422(server: int) -> None:
    status, body = call(server, "POST", "/predict", raw=b'{"records": [')
    assert status == 422
    assert body["detail"][0]["type"] == "json_invalid"


def test_oversized_body_gets_413_before_it_is_sent(server: int) -> None:
    # Declare a body over MAX_BODY_BYTES and send none of it: the server must answer from the
    # header alone (a client streaming the whole body may see the connection closed instead).
    connection = http.client.HTTPConnection("127.0.0.1", server, timeout=30)
    try:
        connection.putrequest("POST", "/predict")
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", "1000001")
        connection.endheaders()
        response = connection.getresponse()
        assert response.status == 413
        assert "MAX_BODY_BYTES" in json.loads(response.read())["detail"]
    finally:
        connection.close()


def test_openapi_docs(server: int) -> None:
    status, schema = call(server, "GET", "/openapi.json")
    assert status == 200
    record = schema["components"]["schemas"]["Record"]
    assert list(record["properties"]) == list(RECORD)
    assert "required" not in record  # every feature is imputed: null, or left out
    assert all({"type": "null"} in field["anyOf"] for field in record["properties"].values())
    status, page = call(server, "GET", "/docs")
    assert status == 200
    assert "swagger" in page.lower()


def test_without_a_model_the_server_starts_but_is_not_ready(trained_project: Path, tmp_path: Path) -> None:
    served = start_server(trained_project, MODEL_DIR=str(tmp_path / "nothing-here"))
    port = served.port
    try:
        assert call(port, "GET", "/health")[0] == 200
        status, body = call(port, "GET", "/ready")
        assert status == 503
        assert "no model loaded" in body["detail"]
        assert call(port, "POST", "/predict", {"records": [RECORD]})[0] == 503
    finally:
        output = served.stop()
    assert "Serving without a model" in output


def test_a_bad_setting_stops_make_serve_with_one_message(trained_project: Path) -> None:
    result = run(["make", "serve", "PORT=eighty"], cwd=trained_project, check=False, timeout=120)
    assert result.returncode != 0
    assert "ERROR: setting PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_api_keys_protect_the_model_but_not_the_probes(trained_project: Path) -> None:
    served = start_server(trained_project, API_KEYS=API_KEY)
    port = served.port
    try:
        assert call(port, "GET", "/health")[0] == 200
        assert call(port, "GET", "/ready")[0] == 200
        status, body = call(port, "POST", "/predict", {"records": [RECORD]})
        assert (status, "API key" in body["detail"]) == (401, True)
        assert call(port, "GET", "/metadata")[0] == 401
        bearer = {"Authorization": f"Bearer {API_KEY}"}
        assert call(port, "POST", "/predict", {"records": [RECORD]}, headers=bearer)[0] == 200
        assert call(port, "GET", "/metadata", headers={"X-API-Key": API_KEY})[0] == 200
        assert call(port, "GET", "/metadata", headers={"X-API-Key": API_KEY[:-1]})[0] == 401
    finally:
        output = served.stop()
    assert API_KEY not in output
    assert "without API_KEYS" not in output  # on loopback: no warning


def scrape_requests(port: int, route: str) -> float:
    """http_requests_total of GET `route` answered 200, from one scrape of /metrics."""
    status, text = call(port, "GET", "/metrics")
    assert status == 200, text
    pattern = r"^http_requests_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$"
    for found in re.finditer(pattern, text, flags=re.MULTILINE):
        labels = dict(re.findall(r'(\w+)="([^"]*)"', found["labels"]))
        if labels == {"method": "GET", "route": route, "status": "200"}:
            return float(found["value"])
    return 0.0


def test_metrics_add_up_over_workers_and_json_logs_parse(trained_project: Path) -> None:
    """WORKERS=2: every scrape, whichever worker answers it, counts the requests of both."""
    served = start_server(trained_project, WORKERS="2", LOG_FORMAT="json")
    port = served.port
    try:
        sent = 0
        pids: set[int] = set()
        # Until both workers have answered some (the kernel hands connections to either).
        while len(pids) < 2 and sent < 400:
            for _ in range(10):
                assert call(port, "GET", "/ready")[0] == 200
                sent += 1
            pids = {line["pid"] for line in json_lines(served.output()) if line.get("path") == "/ready"}
        assert len(pids) == 2, "one worker answered every request"
        for _ in range(6):  # either worker may answer a scrape
            assert scrape_requests(port, "/ready") == sent
    finally:
        output = served.stop()
    lines = json_lines(output)
    # Every line the server wrote is JSON; make's own (the command, "Interrupt") are not its.
    server_lines = [line for line in output.splitlines() if line.strip() and not is_make_line(line)]
    assert len(lines) == len(server_lines), output
    assert "Traceback" not in output
    access = [line for line in lines if line["logger"] == "api.access" and line["path"] == "/ready"]
    assert len(access) == sent
    assert all(line["status"] == 200 and len(line["request_id"]) == 32 for line in access)


def json_lines(output: str) -> list[dict]:
    """The lines of the server's output that are JSON objects (make's own lines are not)."""
    parsed = []
    for line in output.splitlines():
        with contextlib.suppress(ValueError):
            value = json.loads(line)
            if isinstance(value, dict):
                parsed.append(value)
    return parsed


def is_make_line(line: str) -> bool:
    return line.startswith("make") or line.endswith("python -m api")


def server_process(served: MakeServer) -> int:
    """The pid of the uvicorn process `make serve` started (make leads the process group)."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[2]) == served.process.pid and cmdline[1:3] == [b"-m", b"api"]:
            return int(stat.parent.name)
    served.fail("no `python -m api` process under make serve")


def open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def rss_mb(pid: int) -> float:
    line = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("VmRSS"))
    return int(line.split()[1]) / 1024


SLOW_CLIENTS = 300
BODY_TIMEOUT = 2


async def trickle_a_body(port: int) -> tuple[str, float]:
    """Declare a body and send one byte of it every half second; (status line or what happened, seconds)."""
    start = time.monotonic()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = "POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    writer.write(head.encode())
    try:
        while time.monotonic() - start < BODY_TIMEOUT + 8:  # then give up: the server never answered
            writer.write(b" ")
            await writer.drain()
            with contextlib.suppress(asyncio.TimeoutError):
                line = await asyncio.wait_for(reader.readline(), 0.5)
                await reader.read()  # the rest of the answer, up to the server closing the connection
                return line.decode().strip() or "closed without an answer", time.monotonic() - start
        return "no answer", time.monotonic() - start
    except ConnectionError as error:
        return type(error).__name__, time.monotonic() - start
    finally:
        writer.close()


async def probe_health(port: int, stop: asyncio.Event) -> list[float]:
    """Seconds each GET /health took (a new connection each time, as an orchestrator's probe)."""
    took = []
    while not stop.is_set():
        start = time.monotonic()
        status, _ = await asyncio.to_thread(call, port, "GET", "/health")
        assert status == 200
        took.append(time.monotonic() - start)
        await asyncio.sleep(0.2)
    return took


async def slow_client_attack(port: int) -> tuple[list[tuple[str, float]], list[float]]:
    stop = asyncio.Event()
    probe = asyncio.create_task(probe_health(port, stop))
    answers = await asyncio.gather(*(trickle_a_body(port) for _ in range(SLOW_CLIENTS)))
    stop.set()
    return answers, await probe


def test_slow_clients_are_cut_off_while_health_keeps_answering(trained_project: Path) -> None:
    """Clients that declare a body and trickle it used to hold their connections for good (thousands of them
    exhausted the file descriptors, and /health was reset); now each gets a 408 after BODY_TIMEOUT."""
    served = start_server(trained_project, BODY_TIMEOUT=str(BODY_TIMEOUT))
    try:
        pid = server_process(served)
        fds_before, rss_before = open_fds(pid), rss_mb(pid)
        answers, health_took = asyncio.run(slow_client_attack(served.port))
        deadline = time.monotonic() + 5  # the server closes its side as the clients read their answers
        while open_fds(pid) > fds_before and time.monotonic() < deadline:
            time.sleep(0.2)
        fds_after, rss_after = open_fds(pid), rss_mb(pid)
    finally:
        output = served.stop()
    # The server answers 408 and closes; a byte the client sends meanwhile may meet the closed socket, and the
    # reset can overtake the 408 on the client's side. The server's access log has every 408.
    outcomes = collections.Counter(status for status, _ in answers)
    assert set(outcomes) <= {"HTTP/1.1 408 Request Timeout", "ConnectionResetError"}, outcomes
    assert output.count('"POST /predict HTTP/1.1" 408') == SLOW_CLIENTS
    took = [seconds for _, seconds in answers]
    assert min(took) > BODY_TIMEOUT - 0.5 and max(took) < BODY_TIMEOUT + 5, (min(took), max(took))
    assert len(health_took) >= 5
    assert max(health_took) < 1.0, health_took
    assert fds_after <= fds_before, (fds_before, fds_after)
    assert rss_after - rss_before < 64, (rss_before, rss_after)
    # One warning, not one per client: a flood of slow clients must not flood the log.
    assert output.count(f"did not arrive within BODY_TIMEOUT={BODY_TIMEOUT} s") == 1, output[-3000:]
    assert "Traceback" not in output
