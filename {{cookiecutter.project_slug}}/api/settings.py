"""Serving settings, read from the environment and `.env` (environment wins).

Every setting is listed with its default in `.env.template`. The image sets HOST=0.0.0.0; everywhere
else the server listens on loopback only unless told otherwise.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from api.model_uri import EXPECTED, parse_model_uri

# What a browser sends in its Origin header: scheme://host[:port], no path, no trailing slash.
ORIGIN_RE = re.compile(r"^https?://[^/\s]+$")
MIN_KEY_LENGTH = 16
NEW_KEY_HINT = 'python -c "import secrets; print(secrets.token_urlsafe(32))"'


class Settings(BaseSettings):
    """What the API serves and how much it accepts per request."""

    # hide_input_in_errors: an error's text must not repeat a value (a key) into a log.
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        protected_namespaces=(),
        hide_input_in_errors=True,
    )

    model_dir: Path = Field(Path("models"), description="Directory written by the pipeline.")
    lineage_file: Path = Field(
        Path("reports/lineage.json"),
        description="The MLflow run, version and time of the model in model_dir (from training).",
    )
    model_uri: str | None = Field(
        None,
        description="Serve this MLflow model instead of model_dir, e.g. models:/name@champion.",
    )
    max_batch_size: int = Field(1000, ge=1, description="Most records one /predict call may send.")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest request body accepted.")
    body_timeout: float = Field(
        10.0, gt=0, le=3600, description="Seconds a request's whole body may take to arrive (408)."
    )
    limit_concurrency: int = Field(
        1000, ge=1, description="Open connections per worker beyond which uvicorn answers 503."
    )
    timeout_keep_alive: int = Field(
        5, ge=1, le=300, description="Seconds an idle keep-alive connection stays open."
    )
    host: str = Field("127.0.0.1", description="Interface to listen on (0.0.0.0 inside the image).")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    log_level: str = Field("info", pattern="^(critical|error|warning|info|debug|trace)$")
    log_format: Literal["text", "json"] = Field(
        "text", description="text: uvicorn's lines; json: one JSON object per line."
    )
    access_log: bool = Field(
        True, description="One log line per request, with its request id (api.access logger)."
    )
    metrics: bool = Field(True, description="Count requests and serve them at /metrics.")
    prometheus_multiproc_dir: Path | None = Field(
        None,
        description="Where the workers share their counts (emptied at start); `python -m api`"
        " makes a temporary one when WORKERS > 1.",
    )
    # NoDecode: comma-separated in the environment, not JSON. SecretStr: never shown in a repr.
    api_keys: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="Keys accepted on /metadata and /predict (none: the API is open).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Browser origins allowed to call the API (none: no CORS headers).",
    )

    @property
    def on_loopback(self) -> bool:
        """True when HOST is reachable from this machine only."""
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:  # a host name: assume it is reachable from elsewhere
            return False

    @field_validator("api_keys", "cors_origins", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("api_keys")
    @classmethod
    def _check_api_keys(cls, keys: list[SecretStr]) -> list[SecretStr]:
        # The message never repeats a key: it may end up in a log.
        if any(len(key.get_secret_value()) < MIN_KEY_LENGTH for key in keys):
            raise ValueError(
                f"each key needs {MIN_KEY_LENGTH} characters or more; make one with {NEW_KEY_HINT}"
            )
        return keys

    @field_validator("cors_origins")
    @classmethod
    def _check_origins(cls, origins: list[str]) -> list[str]:
        wrong = [origin for origin in origins if origin != "*" and not ORIGIN_RE.match(origin)]
        if wrong:
            raise ValueError(
                f"{', '.join(wrong)}: expected origins like https://app.example.com (scheme and"
                " host, no path or trailing slash), or *"
            )
        return origins

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower_log_format(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("prometheus_multiproc_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("prometheus_multiproc_dir")
    @classmethod
    def _check_multiproc_dir(cls, path: Path | None) -> Path | None:
        if path is not None and path.exists() and not path.is_dir():
            raise ValueError(f"{path} is a file; expected a directory for the workers' metrics")
        return path

    @field_validator("model_uri", mode="before")
    @classmethod
    def _check_model_uri(cls, value: object) -> object:
        # An empty MODEL_URI= line in .env means "not set", not "an empty URI".
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str):
            raise ValueError(EXPECTED)
        return parse_model_uri(value).text  # ValueError saying what is accepted
