"""Build the model from the `model` config: an optional scaler, then the configured estimator."""

from __future__ import annotations

from typing import Any

from omegaconf import DictConfig
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from .errors import PipelineError


def build_estimator(estimator_cfg: DictConfig) -> Any:
    """Instantiate `model.estimator`; config mistakes become a PipelineError."""
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    if "_target_" not in estimator_cfg:
        raise PipelineError("model.estimator needs a _target_ (for example sklearn.svm.SVC).")
    try:
        return instantiate(estimator_cfg)
    except InstantiationException as error:
        # Hydra wraps the real cause (an unknown class, a misspelt argument): show that.
        cause = error.__cause__ or error
        message = f"cannot build model.estimator ({estimator_cfg._target_}): {cause}"
        raise PipelineError(message) from error


def build_model(model_cfg: DictConfig) -> Pipeline:
    """A scikit-learn Pipeline: StandardScaler when model.scale is true, then the estimator."""
    steps: list[tuple[str, Any]] = [("scale", StandardScaler())] if model_cfg.get("scale") else []
    steps.append(("estimator", build_estimator(model_cfg.estimator)))
    return Pipeline(steps)
