"""Settings come from the environment, mistakes are reported clearly, the default path is light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.model_uri import ModelURI, parse_model_uri
from api.settings import Settings

KEY = "k1-" + "a" * 29
OTHER_KEY = "k2-" + "b" * 29


def test_settings_are_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODEL_DIR", "elsewhere")
    monkeypatch.setenv("MAX_BATCH_SIZE", "7")
    monkeypatch.setenv("PORT", "9001")
    settings = Settings(_env_file=None)
    assert (settings.model_dir, settings.max_batch_size, settings.port) == (
        Path("elsewhere"),
        7,
        9001,
    )
    assert settings.host == "127.0.0.1"  # loopback unless asked: never exposed by accident


def test_settings_are_read_from_a_dotenv_file(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MAX_BODY_BYTES=5000\nMODEL_URI=\n", encoding="utf-8")
    settings = Settings(_env_file=env_file)
    assert settings.max_body_bytes == 5000
    assert settings.model_uri is None  # an empty line means "not set"


@pytest.mark.parametrize(
    "uri", ["models:/iris@champion", "models:/iris/3", "runs:/0a1b2c/model"], ids=str
)
def test_model_uris_mlflow_can_resolve_are_accepted(uri: str) -> None:
    assert Settings(_env_file=None, model_uri=uri).model_uri == uri


@pytest.mark.parametrize(
    ("uri", "parts"),
    [
        ("models:/iris@champion", {"name": "iris", "alias": "champion"}),
        ("models:/iris/3", {"name": "iris", "version": "3"}),
        (" runs:/0a1b2c/sub/model ", {"run_id": "0a1b2c", "path": "sub/model"}),
    ],
    ids=str,
)
def test_model_uris_are_read_into_their_parts(uri: str, parts: dict[str, str]) -> None:
    parsed = parse_model_uri(uri)
    assert parsed == ModelURI(uri.strip(), **parts)
    assert parsed.registered == ("name" in parts)


@pytest.mark.parametrize("uri", ["iris", "models:/", "s3://bucket/model", "models:/a b@x"], ids=str)
def test_other_model_uris_are_refused(uri: str) -> None:
    with pytest.raises(ValidationError, match="models:/<name>@<alias>"):
        Settings(_env_file=None, model_uri=uri)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("MAX_BATCH_SIZE", "0"),
        ("MAX_BODY_BYTES", "10"),
        ("PORT", "70000"),
        ("BODY_TIMEOUT", "0"),
        ("LIMIT_CONCURRENCY", "0"),
        ("TIMEOUT_KEEP_ALIVE", "0"),
    ],
)
def test_unsafe_limits_are_refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings(_env_file=None)


def run_python(code_or_module: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *code_or_module],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=120,
    )


@pytest.mark.slow
def test_a_bad_setting_stops_the_server_with_one_clear_message(tmp_path: Path) -> None:
    result = run_python(["-m", "api"], PORT="eighty", MODEL_DIR=str(tmp_path))
    assert result.returncode == 2
    assert "ERROR: setting PORT:" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_importing_the_app_module_builds_no_app_and_imports_no_mlflow(tmp_path: Path) -> None:
    # A fresh interpreter: this test process may have imported mlflow for other tests.
    code = "import sys, api.main; print('mlflow' in sys.modules, hasattr(api.main, 'app'))"
    result = run_python(["-c", code], MODEL_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]
    assert "Serving without a model" not in result.stderr  # no model load was even tried


def test_python_m_api_runs_the_app_factory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import uvicorn
    from uvicorn.importer import import_from_string

    from api.__main__ import main
    from api.main import create_app

    calls: list[tuple[str, dict]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append((app, options)))
    monkeypatch.chdir(tmp_path)  # no .env here
    monkeypatch.setenv("PORT", "8123")
    assert main() == 0
    [(target, options)] = calls
    assert import_from_string(target) is create_app
    assert options["factory"] is True
    assert options["port"] == 8123
    # Our access log line (with the request id) replaces uvicorn's.
    assert options["access_log"] is False
    assert "api.access" in options["log_config"]["loggers"]


def test_python_m_api_limits_connections_and_keep_alive(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without limit_concurrency uvicorn accepts connections until the process runs out of file
    descriptors, and then resets every one, /health included."""
    import uvicorn

    from api.__main__ import main

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: calls.append(options))
    monkeypatch.chdir(tmp_path)  # no .env here
    assert main() == 0
    assert (calls[0]["limit_concurrency"], calls[0]["timeout_keep_alive"]) == (1000, 5)
    monkeypatch.setenv("LIMIT_CONCURRENCY", "200")
    monkeypatch.setenv("TIMEOUT_KEEP_ALIVE", "2")
    assert main() == 0
    assert (calls[1]["limit_concurrency"], calls[1]["timeout_keep_alive"]) == (200, 2)


def test_a_connection_limit_above_the_file_descriptor_limit_is_warned_about(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    resource = pytest.importorskip("resource")  # no such limit on Windows

    from api.__main__ import warn_if_over_fd_limit

    monkeypatch.setattr(resource, "getrlimit", lambda _: (1024, 4096))
    warn_if_over_fd_limit(900)
    assert capsys.readouterr().err == ""
    warn_if_over_fd_limit(1000)
    warning = capsys.readouterr().err
    assert "LIMIT_CONCURRENCY=1000" in warning
    assert "ulimit -n is 1024" in warning
    assert "lower it to 960" in warning


def test_api_keys_and_cors_origins_are_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", f" {KEY}, {OTHER_KEY} ,")
    monkeypatch.setenv("CORS_ORIGINS", "https://app.example.com,http://localhost:3000")
    settings = Settings(_env_file=None)
    assert [key.get_secret_value() for key in settings.api_keys] == [KEY, OTHER_KEY]
    assert settings.cors_origins == ["https://app.example.com", "http://localhost:3000"]


def test_api_keys_and_cors_are_off_by_default(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("API_KEYS=\nCORS_ORIGINS=\n", encoding="utf-8")
    for settings in (Settings(_env_file=None), Settings(_env_file=env_file)):
        assert (settings.api_keys, settings.cors_origins) == ([], [])


def test_short_api_keys_are_refused_without_repeating_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEYS", f"{KEY},guessable-key")
    with pytest.raises(ValidationError) as refused:
        Settings(_env_file=None)
    assert "secrets.token_urlsafe(32)" in str(refused.value)
    assert "guessable-key" not in str(refused.value)
    assert KEY not in str(refused.value)


def test_api_keys_are_hidden_in_the_settings_repr() -> None:
    settings = Settings(_env_file=None, api_keys=KEY)
    assert [key.get_secret_value() for key in settings.api_keys] == [KEY]
    assert KEY not in repr(settings)
    assert KEY not in str(settings.model_dump())


@pytest.mark.parametrize(
    "origin", ["https://app.example.com/", "app.example.com", "https://a.example.com/path"], ids=str
)
def test_cors_origins_browsers_never_send_are_refused(origin: str) -> None:
    with pytest.raises(ValidationError, match="expected origins like"):
        Settings(_env_file=None, cors_origins=origin)


@pytest.mark.slow
def test_a_bad_api_key_stops_the_server_without_printing_it(tmp_path: Path) -> None:
    result = run_python(["-m", "api"], API_KEYS="guessable-key", MODEL_DIR=str(tmp_path))
    assert result.returncode == 2
    assert "ERROR: setting API_KEYS:" in result.stderr
    assert "guessable-key" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    ("value", "expected"), [("json", "json"), (" JSON ", "json"), ("text", "text")]
)
def test_log_format_is_text_or_json(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: str
) -> None:
    monkeypatch.setenv("LOG_FORMAT", value)
    assert Settings(_env_file=None).log_format == expected


def test_other_log_formats_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(ValidationError, match="'text' or 'json'"):
        Settings(_env_file=None)


def test_the_metrics_directory_cannot_be_a_file(tmp_path: Path) -> None:
    (tmp_path / "metrics").write_text("")
    with pytest.raises(ValidationError, match="expected a directory"):
        Settings(_env_file=None, prometheus_multiproc_dir=tmp_path / "metrics")
    assert Settings(_env_file=None, prometheus_multiproc_dir="").prometheus_multiproc_dir is None
