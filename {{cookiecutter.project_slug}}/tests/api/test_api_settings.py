"""Settings come from the environment, mistakes are reported clearly, the default path is light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from api.settings import Settings


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


@pytest.mark.parametrize("uri", ["iris", "models:/", "s3://bucket/model", "models:/a b@x"], ids=str)
def test_other_model_uris_are_refused(uri: str) -> None:
    with pytest.raises(ValidationError, match="models:/<name>@<alias>"):
        Settings(_env_file=None, model_uri=uri)


@pytest.mark.parametrize(
    ("name", "value"), [("MAX_BATCH_SIZE", "0"), ("MAX_BODY_BYTES", "10"), ("PORT", "70000")]
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


def test_a_bad_setting_stops_the_server_with_one_clear_message(tmp_path: Path) -> None:
    result = run_python(["-m", "api"], PORT="eighty", MODEL_DIR=str(tmp_path))
    assert result.returncode == 2
    assert "ERROR: setting PORT:" in result.stderr
    assert "Traceback" not in result.stderr


def test_importing_the_app_does_not_import_mlflow(tmp_path: Path) -> None:
    # A fresh interpreter: this test process may have imported mlflow for other tests.
    code = "import sys, api.main; print('mlflow' in sys.modules, 'pandas' in sys.modules)"
    result = run_python(["-c", code], MODEL_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "False"
