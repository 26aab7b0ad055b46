"""Fuzz the served API with Schemathesis: generated and mutated requests from its own OpenAPI document.

Real servers of the session's trained project (read-only): the ONNX runtime, the scikit-learn fallback
(a copy of models/ without model.onnx) and no model at all; then with API keys on, fuzzed with a key and
without one. Every answer must be a status the document lists for that operation, with the body and
content type it documents; with a model (and a key), no answer may be a server error, valid requests
must be served and invalid ones refused; without a key, every operation behind one must refuse.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from helpers import call, start_server

pytestmark = pytest.mark.full

SCHEMATHESIS = str(Path(sys.executable).parent / "st")
CONFORMANCE = ["status_code_conformance", "content_type_conformance", "response_schema_conformance"]
WITH_A_MODEL = [*CONFORMANCE, "not_a_server_error", "negative_data_rejection", "positive_data_acceptance"]
# /predict takes about this many generated cases (the GETs have no inputs: a few each); a few seconds.
EXAMPLES = 300
SEED = 20240611  # reproducible in CI; run `st run` by hand with other seeds to explore further


def fuzz(port: int, checks: list[str], workdir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """`st run` on the server's own document; its cache goes to workdir, not to the template."""
    return subprocess.run(
        [
            SCHEMATHESIS,
            "run",
            f"http://127.0.0.1:{port}/openapi.json",
            "--checks",
            ",".join(checks),
            "--max-examples",
            str(EXAMPLES),
            "--seed",
            str(SEED),
            "--continue-on-failure",
            "--generation-database",
            "none",
            "--no-color",
            *options,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("runtime", ["onnx", "scikit-learn", "no model"])
def test_schemathesis_finds_no_server_error_and_no_undocumented_answer(
    trained_project: Path, tmp_path: Path, runtime: str
) -> None:
    settings: dict[str, str] = {}
    if runtime == "scikit-learn":  # what training leaves when the ONNX export fails its check
        models = shutil.copytree(trained_project / "models", tmp_path / "models")
        (models / "model.onnx").unlink()
        settings["MODEL_DIR"] = str(models)
    elif runtime == "no model":
        settings["MODEL_DIR"] = str(tmp_path / "empty")
    server = start_server(trained_project, **settings)
    try:
        status, metadata = call(server.port, "GET", "/metadata")
        assert (status, metadata.get("runtime")) == ((503, None) if runtime == "no model" else (200, runtime))
        # Without a model every route but /health answers 503 by design (documented, as Schemathesis checks).
        result = fuzz(server.port, CONFORMANCE if runtime == "no model" else WITH_A_MODEL, tmp_path)
    finally:
        output = server.stop()
    assert result.returncode == 0, f"{result.stdout[-12000:]}\n{result.stderr[-3000:]}"
    assert "No issues found" in result.stdout, result.stdout[-12000:]
    assert "Traceback" not in output, output[-6000:]


KEY = "fuzz-" + "k" * 32
PROTECTED = ("/predict", "/metadata", "/metrics")


def answers_by_route(port: int) -> dict[tuple[str, str], float]:
    """(route, status) -> requests the server counted, from its own /metrics."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/metrics", headers={"X-API-Key": KEY})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    found = re.findall(r'^http_requests_total\{[^}]*route="([^"]+)",status="(\d+)"\} (\S+)$', text, re.M)
    return {(route, status): float(count) for route, status, count in found}


@pytest.mark.parametrize("key", ["sent", "not sent"])
def test_schemathesis_with_api_keys_on(trained_project: Path, tmp_path: Path, key: str) -> None:
    """With API_KEYS set, fuzzed with a key: the same checks as above. Fuzzed without one: every answer is
    one the document describes (the 401s included, in their media type), and no operation behind the key
    answered anything but a refusal (the server's own request counts say so)."""
    server = start_server(trained_project, API_KEYS=KEY)
    try:
        status, _ = call(server.port, "GET", "/metadata")
        assert status == 401
        if key == "sent":
            result = fuzz(server.port, WITH_A_MODEL, tmp_path, "--header", f"X-API-Key: {KEY}")
        else:
            result = fuzz(server.port, [*CONFORMANCE, "not_a_server_error"], tmp_path)
            answers = answers_by_route(server.port)
    finally:
        output = server.stop()
    assert result.returncode == 0, f"{result.stdout[-12000:]}\n{result.stderr[-3000:]}"
    assert "Traceback" not in output, output[-6000:]
    if key == "sent":
        assert "No issues found" in result.stdout, result.stdout[-12000:]
        return
    # Schemathesis warns, rather than fails, when operations answer nothing but 401: here that is the point.
    assert re.search(r"^\s+\d+ generated, \d+ passed$", result.stdout, re.M), result.stdout[-12000:]
    refused = re.search(r"^401 Unauthorized \(\d+ operations\):\n((?:  - .*\n)+)", result.stdout, re.M)
    assert refused, result.stdout[-12000:]
    assert sorted(line.split()[-1] for line in refused.group(1).splitlines()) == sorted(PROTECTED)
    protected = {(route, status): n for (route, status), n in answers.items() if route in PROTECTED}
    assert all(status.startswith("4") for _, status in protected), protected
    assert all(answers.get((route, "401"), 0) > 1 for route in PROTECTED), answers
