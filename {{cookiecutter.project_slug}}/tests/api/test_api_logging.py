"""The server's log: one access line per request (with its request id), as text or as one JSON
object per line (LOG_FORMAT=json); and the shared metrics directory of `python -m api`."""

from __future__ import annotations

import functools
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest

from api.__main__ import share_metrics
from api.logs import JSONFormatter, log_config
from api.settings import Settings


def test_a_json_line_holds_the_fields_and_the_traceback_on_one_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("api.access").makeRecord(
            "api.access", logging.ERROR, __file__, 1, "%s failed", ("x",), sys.exc_info(),
            extra={"request_id": "r1", "status": 500},
        )  # fmt: skip
    line = JSONFormatter().format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert {key: parsed[key] for key in ("level", "logger", "message")} == {
        "level": "ERROR",
        "logger": "api.access",
        "message": "x failed",
    }
    assert (parsed["request_id"], parsed["status"]) == ("r1", 500)
    assert "ValueError: boom" in parsed["exception"]
    assert parsed["time"].endswith("+00:00")


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_the_log_config_is_accepted_by_logging(log_format: str) -> None:
    config = log_config(log_format, "warning")
    assert config["loggers"]["api.access"]["level"] == logging.WARNING
    # Checked in a fresh interpreter: dictConfig would reconfigure this test process.
    code = "import logging.config, json, sys; logging.config.dictConfig(json.loads(sys.argv[1]))"
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(config)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_two_requests(log_format: str, directory: Path) -> str:
    """The whole output of `python -m api` (no model) after two requests to /health, with
    X-Request-ID: id-1 and id-2."""
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "PORT": str(port),
        "MODEL_DIR": str(directory / "no-model"),
        "LOG_FORMAT": log_format,
        "WORKERS": "1",
    }
    output = directory / f"server-{log_format}.log"
    with output.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "api"], env=env, stdout=sink, stderr=subprocess.STDOUT
        )
        try:
            deadline = time.monotonic() + 60
            answered = 0
            while answered < 2 and time.monotonic() < deadline:
                request_id = f"id-{answered + 1}"
                call = urllib.request.Request(
                    f"http://127.0.0.1:{port}/health", headers={"X-Request-ID": request_id}
                )
                try:
                    with urllib.request.urlopen(call, timeout=5):
                        answered += 1
                except OSError:  # not listening yet
                    time.sleep(0.2)
            assert answered == 2, output.read_text()
        finally:
            server.send_signal(signal.SIGINT)
            server.wait(timeout=30)
    return output.read_text()


@pytest.fixture(scope="module")
def server_log(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    """LOG_FORMAT -> the output of serve_two_requests, one server per format."""
    directory = tmp_path_factory.mktemp("server")
    return functools.cache(lambda log_format: serve_two_requests(log_format, directory))


@pytest.mark.slow
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_each_request_has_one_access_line_with_its_id(
    server_log: Callable[[str], str], log_format: str
) -> None:
    output = server_log(log_format)
    lines = [line for line in output.splitlines() if "GET /health" in line]
    assert len(lines) == 2, output  # ours only: uvicorn's access log is off
    assert "request_id=id-1" in lines[0]
    assert "request_id=id-2" in lines[1]


@pytest.mark.slow
def test_json_logs_are_one_object_per_line(server_log: Callable[[str], str]) -> None:
    entries = [json.loads(line) for line in server_log("json").splitlines() if line.strip()]
    assert all({"time", "level", "logger", "message"} <= set(entry) for entry in entries)
    assert any(
        e["logger"] == "uvicorn.error" and "Serving without a model" in e["message"]
        for e in entries
    )
    access = [e for e in entries if e["logger"] == "api.access"]
    assert [(e["method"], e["path"], e["status"], e["request_id"]) for e in access] == [
        ("GET", "/health", 200, "id-1"),
        ("GET", "/health", 200, "id-2"),
    ]


@pytest.fixture
def environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """No PROMETHEUS_MULTIPROC_DIR, and none left behind: share_metrics sets it in os.environ,
    where it would turn the next tests' apps multiprocess."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # recorded, so removed after the test
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")


@pytest.mark.usefixtures("environ")
def test_one_worker_counts_in_memory() -> None:
    assert share_metrics(Settings(_env_file=None, workers=1)) is None
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


@pytest.mark.usefixtures("environ")
def test_several_workers_share_a_fresh_directory() -> None:
    made = share_metrics(Settings(_env_file=None, workers=2))
    assert made is not None
    try:
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(made)
        assert list(made.iterdir()) == []
    finally:
        made.rmdir()


@pytest.mark.usefixtures("environ")
def test_a_given_directory_is_emptied_of_old_counts_only(tmp_path: Path) -> None:
    (tmp_path / "counter_123.db").write_bytes(b"old counts")
    (tmp_path / "notes.txt").write_text("not ours")
    settings = Settings(_env_file=None, workers=1, prometheus_multiproc_dir=tmp_path)
    assert share_metrics(settings) is None  # the user's directory: kept at exit
    assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
    assert [path.name for path in tmp_path.iterdir()] == ["notes.txt"]


@pytest.mark.usefixtures("environ")
def test_no_directory_when_metrics_are_off() -> None:
    assert share_metrics(Settings(_env_file=None, workers=4, metrics=False)) is None
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
