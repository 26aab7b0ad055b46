"""The model as MLflow stores it: the sklearn flavor's files written around model.joblib's very
bytes (serialised once, hard-linked where it can be), with the requirements given, not inferred."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd

# What loading the logged model needs: given, never inferred (MLflow would load the model and
# watch its imports, seconds per run).
MODEL_REQUIREMENTS = ("scikit-learn", "numpy", "pandas", "scipy")


def model_requirements() -> list[str]:
    from importlib.metadata import version

    return [f"{name}=={version(name)}" for name in MODEL_REQUIREMENTS]


def save_model(
    model_file: Path,
    path: str,
    mlflow_model: Any,
    sk_model: Any,
    signature: Any,
    input_example: pd.DataFrame,
    pip_requirements: list[str],
    **_: Any,
) -> None:
    """What mlflow.sklearn.save_model writes for the pickle format, with model_file as the model
    (hard-linked when it can be: no copy) and the requirements as given: none inferred, none
    checked against the environment (MLflow's check reads every installed package's metadata)."""
    import mlflow.pyfunc
    import mlflow.utils.environment
    import sklearn
    import yaml
    from mlflow.models.model import MLMODEL_FILE_NAME
    from mlflow.models.utils import _save_example
    from mlflow.version import VERSION

    pyfunc: Any = mlflow.pyfunc  # untyped functions
    environment: Any = mlflow.utils.environment

    directory = Path(path)
    directory.mkdir(parents=True)
    _save_example(mlflow_model, input_example, path)
    mlflow_model.signature = signature
    pickled = directory / "model.pkl"
    try:
        os.link(model_file, pickled)
    except OSError:  # another file system, or no hard links there
        shutil.copyfile(model_file, pickled)
    pyfunc.add_to_model(
        mlflow_model,
        loader_module="mlflow.sklearn",
        model_path=pickled.name,
        conda_env="conda.yaml",
        python_env="python_env.yaml",
        predict_fn="predict",
    )
    mlflow_model.add_flavor(
        "sklearn",
        pickled_model=pickled.name,
        sklearn_version=sklearn.__version__,
        serialization_format="pickle",
        code=None,
    )
    mlflow_model.model_size_bytes = sum(
        f.stat().st_size for f in directory.rglob("*") if f.is_file()
    )
    mlflow_model.save(str(directory / MLMODEL_FILE_NAME))
    requirements = [f"mlflow=={VERSION}", *pip_requirements]
    (directory / "requirements.txt").write_text("\n".join(requirements), encoding="utf-8")
    conda_env = environment._mlflow_conda_env(
        additional_pip_deps=requirements, install_mlflow=False
    )
    (directory / "conda.yaml").write_text(
        yaml.safe_dump(conda_env, default_flow_style=False), encoding="utf-8"
    )
    environment._PythonEnv.current().to_yaml(str(directory / "python_env.yaml"))
