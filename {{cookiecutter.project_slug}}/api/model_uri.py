"""The MLflow model URIs the API serves (MODEL_URI), parsed in one place.

    models:/<name>@<alias>      a registered model by alias (models:/iris@champion)
    models:/<name>/<version>    a registered model by version number (models:/iris/3)
    runs:/<run id>/<path>       a model logged by a run (runs:/0a1b2c/model)

The settings refuse any other text at start-up; the MLflow source reads the parts from here.
Without MODEL_URI the API serves the pipeline's directory (MODEL_DIR) instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

EXPECTED = "expected models:/<name>@<alias>, models:/<name>/<version> or runs:/<run id>/<path>"

_REGISTERED = re.compile(r"models:/(?P<name>[^/@\s]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))")
_RUN = re.compile(r"runs:/(?P<run_id>[0-9a-f]+)/(?P<path>\S+)")


@dataclass(frozen=True)
class ModelURI:
    """A parsed model URI: either a registered model (name and alias or version) or a run's model
    (run id and artifact path). `text` is the URI as MLflow takes it."""

    text: str
    name: str | None = None
    alias: str | None = None
    version: str | None = None
    run_id: str | None = None
    path: str | None = None

    @property
    def registered(self) -> bool:
        """True for models:/ URIs (a registered model), False for runs:/ ones."""
        return self.name is not None

    def __str__(self) -> str:
        return self.text


def parse_model_uri(text: str) -> ModelURI:
    """The parts of a model URI; ValueError (saying what is accepted) for anything else."""
    text = text.strip()
    registered = _REGISTERED.fullmatch(text)
    if registered:
        return ModelURI(text, **registered.groupdict())
    run = _RUN.fullmatch(text)
    if run:
        return ModelURI(text, **run.groupdict())
    raise ValueError(EXPECTED)
