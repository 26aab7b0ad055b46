"""MODEL_URI with a tracking server that does not answer: the app starts without the model after
one short check (not MLflow's minutes of retries), /health answers, /ready says which server did
not answer. Real sockets: a closed port, and one that accepts connections and never answers."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
import support
from fastapi.testclient import TestClient

from {{ cookiecutter.module_name }}.tracking import server as tracking_server

from api.main import create_app
from api.settings import Settings


@pytest.fixture(params=["nothing-listens", "never-answers"])
def dead_server(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setattr(tracking_server, "CHECK_TIMEOUT_S", 1.0)  # 3 s by default
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        uri = f"http://127.0.0.1:{sock.getsockname()[1]}"
        if request.param == "never-answers":
            sock.listen(64)  # the kernel accepts connections; nobody ever reads or answers
            yield uri
            return
    yield uri  # closed: nothing listens


def test_the_app_starts_and_says_the_tracking_server_did_not_answer(
    dead_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MLFLOW_TRACKING_URI", dead_server)
    settings = Settings(_env_file=None, model_uri="models:/iris-test@champion")
    app = support.within(30, create_app, settings)  # MLflow alone retried for minutes
    with TestClient(app) as client:
        assert client.get("/health").json() == {"status": "ok"}
        ready = client.get("/ready")
        assert ready.status_code == 503
        detail = ready.json()["detail"]
        assert "models:/iris-test@champion" in detail
        assert f"the MLflow tracking server at {dead_server} did not answer" in detail
        assert client.post("/predict", json={"records": [{}]}).status_code == 503
