"""MODEL_URI: serve a model from the MLflow registry by alias (imports mlflow, so marked slow).

The models are logged to the session's tracking store (tests/conftest.py), under names of this
module's own, with their requirements listed as training lists them (inferring them costs seconds).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.module_name }}.artifact.meta import META_FILE
from {{ cookiecutter.module_name }}.tracking.logged_model import model_requirements

from api.main import create_app
from api.settings import Settings

# mlflow_store: MLFLOW_TRACKING_URI names the session's store, for the app too.
pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("mlflow_store")]


@pytest.fixture(scope="module")
def experiment(tracking_uri: str, tracking_dir: Path) -> str:
    """This module's experiment in the session's store."""
    import mlflow

    mlflow.set_tracking_uri(tracking_uri)
    artifacts = (tracking_dir / "api-mlflow").as_uri()
    return mlflow.create_experiment("api-mlflow", artifact_location=artifacts)


@pytest.fixture(scope="module")
def registry(experiment: str, iris_model) -> str:
    """iris-test version 1 under the alias 'champion'."""
    import mlflow

    with mlflow.start_run(
        experiment_id=experiment, tags={"git_commit": "c0ffee", "git_dirty": "False"}
    ):
        mlflow.sklearn.log_model(
            iris_model.estimator,
            name="model",
            registered_model_name="iris-test",
            pip_requirements=model_requirements(),
        )
        mlflow.log_artifact(str(iris_model.model_dir / META_FILE))
    mlflow.MlflowClient().set_registered_model_alias("iris-test", "champion", "1")
    return "models:/iris-test@champion"


def test_model_is_served_from_the_registry_by_alias(registry: str, iris_model) -> None:
    with TestClient(create_app(Settings(_env_file=None, model_uri=registry))) as client:
        assert client.get("/ready").status_code == 200
        metadata = client.get("/metadata").json()
        assert metadata["model_version"] == "1"
        assert metadata["source"] == registry
        # model_meta.json holds no lineage: the commit and training time come from the run.
        assert (metadata["git_commit"], metadata["git_dirty"]) == ("c0ffee", False)
        assert metadata["trained_at"]
        records = iris_model.sample.to_dict(orient="records")
        response = client.post("/predict", json={"records": records})
        assert response.status_code == 200
        assert (
            response.json()["predictions"]
            == iris_model.estimator.predict(iris_model.sample).tolist()
        )


def test_without_a_meta_artifact_the_signature_and_tags_describe_the_model(
    experiment: str, iris_model
) -> None:
    import mlflow
    from mlflow.models import infer_signature

    sample = iris_model.sample
    with mlflow.start_run(experiment_id=experiment, tags={"git_commit": "abc", "data_hash": "d"}):
        mlflow.log_metric("accuracy", 0.5)
        mlflow.sklearn.log_model(
            iris_model.estimator,
            name="model",
            signature=infer_signature(sample, iris_model.estimator.predict(sample)),
            registered_model_name="iris-bare",
            pip_requirements=model_requirements(),
        )
    with TestClient(
        create_app(Settings(_env_file=None, model_uri="models:/iris-bare/1"))
    ) as client:
        metadata = client.get("/metadata").json()
        assert metadata["model_name"] == "iris-bare"
        assert (metadata["git_commit"], metadata["data_hash"]) == ("abc", "d")
        assert metadata["metrics"] == {"accuracy": 0.5}
        assert [f["dtype"] for f in metadata["features"]] == ["float"] * 4
        response = client.post("/predict", json={"records": sample.to_dict(orient="records")})
        assert response.json()["predictions"] == iris_model.estimator.predict(sample).tolist()


def test_a_runs_uri_serves_the_run_s_model_with_no_version(registry: str, iris_model) -> None:
    import mlflow

    run_id = mlflow.MlflowClient().get_model_version("iris-test", "1").run_id
    settings = Settings(_env_file=None, model_uri=f"runs:/{run_id}/model")
    with TestClient(create_app(settings)) as client:
        metadata = client.get("/metadata").json()
        assert (metadata["run_id"], metadata["model_version"]) == (run_id, None)
        assert metadata["git_commit"] == "c0ffee"
        records = iris_model.sample.to_dict(orient="records")
        response = client.post("/predict", json={"records": records})
        assert (
            response.json()["predictions"]
            == iris_model.estimator.predict(iris_model.sample).tolist()
        )


def test_unknown_alias_leaves_the_app_not_ready(registry: str) -> None:
    settings = Settings(_env_file=None, model_uri="models:/iris-test@nobody")
    with TestClient(create_app(settings)) as client:
        response = client.get("/ready")
        assert response.status_code == 503
        assert "models:/iris-test@nobody" in response.json()["detail"]


def test_a_model_the_pipeline_trained_is_served_from_the_registry(
    tracked_params, iris_model
) -> None:
    """What training logs (the pickled model, model_meta.json) and registers, served back."""
    from {{ cookiecutter.module_name }}.artifact.read import load_artifacts
    from {{ cookiecutter.module_name }}.data import prepare_data
    from {{ cookiecutter.module_name }}.train import train

    prepare_data(tracked_params)
    meta = train(tracked_params)
    published, _ = load_artifacts(Path(tracked_params.paths.model_dir))
    uri = f"models:/{tracked_params.mlflow.registered_model}/{meta.model_version}"
    with TestClient(create_app(Settings(_env_file=None, model_uri=uri))) as client:
        metadata = client.get("/metadata").json()
        assert (metadata["run_id"], metadata["runtime"]) == (meta.run_id, "scikit-learn")
        assert metadata["data_hash"] == meta.data_hash
        records = iris_model.sample.to_dict(orient="records")
        response = client.post("/predict", json={"records": records})
        assert response.json()["predictions"] == published.predict(iris_model.sample).tolist()
