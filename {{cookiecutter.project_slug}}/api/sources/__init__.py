"""Where the served model comes from: the pipeline's directory (MODEL_DIR, the default) or an
MLflow model URI (MODEL_URI). Any failure to load becomes an ArtifactError saying what to do."""

from __future__ import annotations

from api.model import ServedModel
from api.model_uri import parse_model_uri
from api.settings import Settings
from api.sources.directory import load_from_dir
from api.sources.mlflow_model import load_from_mlflow


def load_model(settings: Settings) -> ServedModel:
    """The model the settings name: from MLflow when MODEL_URI is set, else from MODEL_DIR."""
    if settings.model_uri:
        return load_from_mlflow(parse_model_uri(settings.model_uri))
    return load_from_dir(settings.model_dir, settings.lineage_file)
