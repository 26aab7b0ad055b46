"""API keys (API_KEYS) and CORS (CORS_ORIGINS): off by default, and when on, applied everywhere."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from fastapi.dependencies.utils import get_dependant
from fastapi.testclient import TestClient
from httpx import Response
from support import IRIS_RECORD, SavedModel, settings_for

import api.security
from api.main import create_app
from api.security import require_api_key

KEYS = ["k1-" + "a" * 29, "k2-" + "b" * 29]  # two keys: one per client, say
VALID = {"records": [IRIS_RECORD]}
INVALID = {"records": [{**IRIS_RECORD, "petal_width": "wide"}]}
ORIGIN = "https://dashboard.example.com"


@pytest.fixture(scope="module")
def keyed(iris_model: SavedModel) -> Iterator[TestClient]:
    settings = settings_for(iris_model.model_dir, api_keys=",".join(KEYS))
    with TestClient(create_app(settings)) as client:
        yield client


def test_health_and_ready_need_no_key(keyed: TestClient) -> None:
    assert keyed.get("/health").status_code == 200
    assert keyed.get("/ready").status_code == 200


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [("GET", "/metadata", None), ("POST", "/predict", VALID), ("POST", "/predict", INVALID)],
    ids=["metadata", "valid-predict", "invalid-predict"],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong-key"}, {"x-api-key": "wrong-key"}, {"x-api-key": ""}],
    ids=["none", "wrong-bearer", "wrong-header", "empty-header"],
)
def test_without_a_valid_key_the_model_is_not_served(
    keyed: TestClient, method: str, path: str, body: dict | None, headers: dict[str, str]
) -> None:
    response = keyed.request(method, path, json=body, headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert "API key" in response.json()["detail"]


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": f"Bearer {KEYS[0]}"},
        {"authorization": f"bearer {KEYS[1]}"},
        {"x-api-key": KEYS[1]},
    ],
    ids=["bearer", "bearer-lowercase", "x-api-key"],
)
def test_any_configured_key_in_either_header_is_accepted(
    keyed: TestClient, headers: dict[str, str]
) -> None:
    assert keyed.get("/metadata", headers=headers).status_code == 200
    assert keyed.post("/predict", json=VALID, headers=headers).status_code == 200
    assert keyed.post("/predict", json=INVALID, headers=headers).status_code == 422


def test_keys_are_compared_in_constant_time_with_every_key(
    keyed: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = api.security.hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(api.security.hmac, "compare_digest", spy)
    keyed.get("/metadata", headers={"x-api-key": KEYS[0]})
    assert sorted(b for _, b in compared) == sorted(key.encode() for key in KEYS)


def test_openapi_shows_the_security_schemes_on_protected_routes_only(keyed: TestClient) -> None:
    schema = keyed.get("/openapi.json").json()
    schemes = schema["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["scheme"] == "bearer"
    assert schemes["APIKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-API-Key",
        "description": schemes["APIKeyHeader"]["description"],
    }
    for path, method in (("/predict", "post"), ("/metadata", "get")):
        operation = schema["paths"][path][method]
        assert {name for entry in operation["security"] for name in entry} == set(schemes)
        refused = operation["responses"]["401"]["content"]["application/json"]["schema"]
        assert refused == {"$ref": "#/components/schemas/ErrorMessage"}
    for path in ("/health", "/ready"):
        assert "security" not in schema["paths"][path]["get"]


def test_every_refusal_is_sent_as_the_document_describes_it(keyed: TestClient) -> None:
    """Each operation behind a key answers 401 without one, in a media type its document lists for
    that answer (the JSON error, whatever the operation's own answers are: /metrics is text)."""
    schema = keyed.get("/openapi.json").json()
    protected = [
        (path, method)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if "security" in operation
    ]
    assert {("/predict", "post"), ("/metadata", "get"), ("/metrics", "get")} <= set(protected)
    for path, method in protected:
        response = keyed.request(method.upper(), path)
        assert response.status_code == 401, path
        documented = schema["paths"][path][method]["responses"]["401"]["content"]
        assert response.headers["content-type"].split(";")[0] in documented, (path, documented)
        assert response.json()["detail"].startswith("missing API key")


def test_the_key_check_is_a_single_dependency() -> None:
    # FastAPI solves every dependency for every request: the two schemes as sub-dependencies of
    # the check cost about 20 us per request, more than the rest of the check.
    assert get_dependant(path="/predict", call=require_api_key).dependencies == []


def test_without_keys_nothing_is_protected_or_documented_as_such(client: TestClient) -> None:
    assert client.get("/metadata").status_code == 200
    assert client.post("/predict", json=VALID).status_code == 200
    assert "securitySchemes" not in client.get("/openapi.json").json()["components"]


def test_tests_can_override_the_key_check(iris_model: SavedModel) -> None:
    app = create_app(settings_for(iris_model.model_dir, api_keys=KEYS[0]))
    app.dependency_overrides[require_api_key] = lambda: None
    with TestClient(app) as client:
        assert client.post("/predict", json=VALID).status_code == 200


def test_keys_never_reach_the_log_or_the_settings_repr(
    iris_model: SavedModel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(iris_model.model_dir, api_keys=KEYS[0], host="0.0.0.0")
    with TestClient(create_app(settings)) as client:
        client.post("/predict", json=VALID, headers={"x-api-key": KEYS[0]})
        client.post("/predict", json=VALID, headers={"x-api-key": KEYS[0] + "x"})
    assert KEYS[0] not in repr(settings) + str(settings) + caplog.text


@pytest.mark.parametrize(
    ("host", "keys", "warned"),
    [
        ("0.0.0.0", "", True),
        ("192.168.1.20", "", True),
        ("0.0.0.0", KEYS[0], False),
        ("127.0.0.1", "", False),
        ("localhost", "", False),
        ("::1", "", False),
    ],
    ids=["all-interfaces", "lan-address", "all-interfaces-with-keys", "ipv4", "name", "ipv6"],
)
def test_listening_beyond_loopback_without_keys_is_warned_about(
    iris_model: SavedModel, caplog: pytest.LogCaptureFixture, host: str, keys: str, warned: bool
) -> None:
    create_app(settings_for(iris_model.model_dir, host=host, api_keys=keys))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "API_KEYS" in r.msg]
    assert bool(warnings) == warned


@pytest.fixture(scope="module")
def cors(iris_model: SavedModel) -> Iterator[TestClient]:
    settings = settings_for(iris_model.model_dir, cors_origins=ORIGIN, api_keys=KEYS[0])
    with TestClient(create_app(settings)) as client:
        yield client


def preflight(client: TestClient, origin: str) -> Response:
    headers = {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type, x-api-key",
    }
    return client.options("/predict", headers=headers)


def test_a_preflight_from_an_allowed_origin_gets_the_cors_headers(cors: TestClient) -> None:
    response = preflight(cors, ORIGIN)  # browsers send no key with a preflight
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "x-api-key" in response.headers["access-control-allow-headers"].lower()
    answer = cors.post("/predict", json=VALID, headers={"origin": ORIGIN, "x-api-key": KEYS[0]})
    assert answer.headers["access-control-allow-origin"] == ORIGIN


def test_other_origins_get_no_cors_headers(cors: TestClient) -> None:
    response = preflight(cors, "https://evil.example.net")
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_without_cors_origins_there_are_no_cors_headers(client: TestClient) -> None:
    response = preflight(client, ORIGIN)
    assert response.status_code == 405
    assert "access-control-allow-origin" not in response.headers
