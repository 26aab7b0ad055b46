"""The model in the pipeline's artifact directory (MODEL_DIR): no MLflow import.

The ONNX export is served when training wrote a checked one, else the scikit-learn model.
"""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path

from {{ cookiecutter.module_name }}.artifact.meta import ONNX_FILE, ArtifactError
from {{ cookiecutter.module_name }}.artifact.onnx_runtime import load_onnx
from {{ cookiecutter.module_name }}.artifact.read import load_artifacts, load_meta
from {{ cookiecutter.module_name }}.utils.errors import first_line

from api.model import ServedModel, serve, serve_onnx

logger = logging.getLogger("uvicorn.error")  # uvicorn's logger: lines land in the server log

# What loading model.joblib imports; the ONNX-only image has none of them.
SKLEARN_RUNTIME = ("joblib", "sklearn", "pandas")


def load_from_dir(model_dir: Path, lineage: Path | None = None) -> ServedModel:
    """model.onnx when training exported a checked one (fast), else the scikit-learn model.

    A model file that is not the one the metadata names (its hash differs) is refused outright.
    """
    meta = load_meta(model_dir, lineage)
    try:
        session = load_onnx(model_dir, meta)
    except ArtifactError:
        raise
    except Exception as error:  # a damaged model.onnx: the scikit-learn model is still right
        reason = f"{ONNX_FILE} could not be loaded ({first_line(error)})"
    else:
        if session is not None:
            return serve_onnx(session, meta, str(model_dir))
        # Training said why it kept no export (model_meta.json; not an older model's metadata).
        reason = (
            (meta.onnx_skipped or "training kept no checked ONNX export")
            if meta.onnx_parity is None
            else f"{ONNX_FILE} is missing from the model directory"
        )
    logger.warning("Serving the scikit-learn model from %s: %s.", model_dir, reason)
    missing = [name for name in SKLEARN_RUNTIME if importlib.util.find_spec(name) is None]
    if missing:  # an image built for the ONNX runtime (requirements-serve-onnx.txt)
        raise ArtifactError(
            f"{model_dir} has no usable model.onnx, and this environment cannot load model.joblib"
            f" (no {', '.join(missing)}: it holds the ONNX runtime only). Serve a model whose"
            " ONNX export passed its check, or rebuild the image: `make build-image` picks the"
            " scikit-learn runtime when models/ has no model.onnx."
        )
    try:
        estimator, meta = load_artifacts(model_dir, lineage)
    except ArtifactError:
        raise
    except Exception as error:  # unpickling runs arbitrary code: report any failure the same way
        raise ArtifactError(f"could not load the model in {model_dir}: {error}") from error
    return serve(estimator, meta, str(model_dir), reason)
