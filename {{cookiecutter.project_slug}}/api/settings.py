"""Serving settings, read from the environment and `.env` (environment wins).

Every setting is listed with its default in `.env.template`. The image sets HOST=0.0.0.0; everywhere
else the server listens on loopback only unless told otherwise.
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The URIs MLflow resolves: models:/<name>@<alias>, models:/<name>/<version>, runs:/<run id>/<path>.
MODEL_URI_RE = re.compile(r"^(models:/[^/@\s]+(@[\w-]+|/\d+)|runs:/[0-9a-f]+/\S+)$")


class Settings(BaseSettings):
    """What the API serves and how much it accepts per request."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", protected_namespaces=()
    )

    model_dir: Path = Field(Path("models"), description="Directory written by the pipeline.")
    model_uri: str | None = Field(
        None,
        description="Serve this MLflow model instead of model_dir, e.g. models:/name@champion.",
    )
    max_batch_size: int = Field(1000, ge=1, description="Most records one /predict call may send.")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Largest request body accepted.")
    host: str = Field("127.0.0.1", description="Interface to listen on (0.0.0.0 inside the image).")
    port: int = Field(8000, ge=1, le=65535)
    workers: int = Field(1, ge=1, le=64)
    log_level: str = Field("info", pattern="^(critical|error|warning|info|debug|trace)$")

    @field_validator("model_uri", mode="before")
    @classmethod
    def _check_model_uri(cls, value: object) -> object:
        # An empty MODEL_URI= line in .env means "not set", not "an empty URI".
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if not isinstance(value, str) or not MODEL_URI_RE.match(value.strip()):
            raise ValueError(
                "expected models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>/<path>"
            )
        return value.strip()
