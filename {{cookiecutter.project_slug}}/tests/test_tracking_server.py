"""A tracking server that does not answer (nothing listens on its port, or it accepts connections
and never answers): training stops before it changes anything, with one line naming the server;
`compare` shows what it can and says so; MLflow's own retries are bounded. Real sockets, no mocks.
"""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import support

from {{ cookiecutter.module_name }}.config import load_params
from {{ cookiecutter.module_name }}.data import prepare_data
from {{ cookiecutter.module_name }}.params import Params
from {{ cookiecutter.module_name }}.reports.experiments import collect
from {{ cookiecutter.module_name }}.stages import evaluate
from {{ cookiecutter.module_name }}.stages.__main__ import main as run_stage
from {{ cookiecutter.module_name }}.tracking import server as tracking_server
from {{ cookiecutter.module_name }}.tracking.server import (
    HTTP_DEFAULTS,
    TrackingServerDown,
    bound_http_retries,
    check_tracking_server,
)
from {{ cookiecutter.module_name }}.train import train
from {{ cookiecutter.module_name }}.utils.errors import PipelineError

CHECK_TIMEOUT_S = 1.0  # the check's own timeout is 3 s; a silent server makes each test wait it


@pytest.fixture(autouse=True)
def quick_check(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tracking_server, "CHECK_TIMEOUT_S", CHECK_TIMEOUT_S)


def closed_port() -> Iterator[str]:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    yield f"http://127.0.0.1:{port}"


def silent_server() -> Iterator[str]:
    """A server whose port accepts connections (the kernel completes them) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(params=[closed_port, silent_server], ids=["nothing-listens", "never-answers"])
def dead_server(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from request.param()


def snapshot(*paths: Path) -> dict[str, str]:
    files = [p for path in paths for p in ([path] if path.is_file() else sorted(path.iterdir()))]
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def test_the_train_stage_stops_in_one_line_and_leaves_the_previous_model(
    dead_server: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # the stage reads ./params.yaml; its paths are relative
    support.write_params(tmp_path / "params.yaml", support.composed())
    params = load_params(tmp_path / "params.yaml")
    prepare_data(params)
    train(params, track=False)  # the previous model, evaluated
    evaluate.run(params)
    paths = params.paths
    before = snapshot(Path(paths.model_dir), Path(paths.metrics), Path(paths.predictions))
    capsys.readouterr()

    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead_server)
    with pytest.raises(SystemExit) as stopped:
        support.within(30, run_stage, ["train"])  # MLflow alone retried for minutes

    assert stopped.value.code == 1
    out, err = capsys.readouterr()
    (line,) = err.splitlines()
    assert line.startswith(f"ERROR: the MLflow tracking server at {dead_server} did not answer (")
    assert line.endswith("at one that runs. Nothing was trained or changed.")
    assert out == ""
    assert snapshot(Path(paths.model_dir), Path(paths.metrics), Path(paths.predictions)) == before


@pytest.mark.parametrize(
    ("server", "reason"),
    [(closed_port, "connection refused"), (silent_server, "no answer within 1 s")],
)
def test_the_line_says_why_the_server_did_not_answer(
    server: Callable[[], Iterator[str]], reason: str
) -> None:
    for uri in server():
        with pytest.raises(TrackingServerDown, match=rf"at {uri} did not answer \({reason}"):
            check_tracking_server(uri)


def test_a_server_that_answers_anything_passes_and_local_stores_are_not_asked() -> None:
    class Refusing(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_error(401)  # an answer: the server is up; MLflow's calls say the rest

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Refusing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        check_tracking_server(f"http://127.0.0.1:{server.server_address[1]}/prefix/")
    finally:
        server.shutdown()
        server.server_close()
    check_tracking_server("sqlite:///nowhere/mlflow.db")


def test_the_password_of_a_uri_is_never_shown() -> None:
    for uri in closed_port():
        with_password = uri.replace("http://", "http://alice:s3cret@")
        with pytest.raises(TrackingServerDown) as down:
            check_tracking_server(with_password)
        assert "s3cret" not in str(down.value) and "alice:***@127.0.0.1" in str(down.value)


def test_compare_lists_what_it_can_and_says_the_server_did_not_answer(
    dead_server: str, params: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead_server)
    rows, problems = support.within(30, collect, params, 10)
    (mlflow_problem,) = [p for p in problems if p.startswith("MLflow runs:")]
    assert f"the MLflow tracking server at {dead_server} did not answer" in mlflow_problem
    assert all(row.source == "DVC" for row in rows)


def test_mlflow_s_retries_are_bounded_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    from mlflow.environment_variables import (
        MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR,
        MLFLOW_HTTP_REQUEST_MAX_RETRIES,
        MLFLOW_HTTP_REQUEST_TIMEOUT,
    )

    for name in HTTP_DEFAULTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "5")  # the user's own (.env) wins
    bound_http_retries()
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 5
    assert MLFLOW_HTTP_REQUEST_TIMEOUT.get() == int(HTTP_DEFAULTS["MLFLOW_HTTP_REQUEST_TIMEOUT"])
    assert MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR.get() == int(
        HTTP_DEFAULTS["MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR"]
    )


def test_a_training_without_tracking_needs_no_server(
    params: Params, monkeypatch: pytest.MonkeyPatch
) -> None:
    for uri in closed_port():
        monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
        prepare_data(params)
        assert train(params, track=False).run_id is None
        with pytest.raises(PipelineError, match="did not answer"):
            train(params)
