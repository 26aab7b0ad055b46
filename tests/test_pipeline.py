"""The generated project's pipeline, run the way a user runs it: make repro, dvc exp, sweeps, MLflow.

Read-only checks use the shared `trained_project`; tests that edit configs, force reruns or move
data use this module's own bake (`project`), in file order.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
from helpers import MODULE, SLUG, MakeServer, call, mlflow_query, reproduced_project, run, sh, stages_run

pytestmark = pytest.mark.full

OUTPUTS = [
    "data/raw/dataset.csv",
    "data/processed/train.csv",
    "data/processed/test.csv",
    "models/model.joblib",
    "models/model.onnx",
    "reports/metrics.json",
    "reports/predictions.csv",
    "data/processed/schema.json",
    "models/model_meta.json",
]


def hashes(project: Path, paths: list[str] = OUTPUTS) -> dict[str, str]:
    return {p: hashlib.sha256((project / p).read_bytes()).hexdigest() for p in paths}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bake of this module's own, reproduced once and committed, so experiments have a baseline."""
    return reproduced_project(tmp_path_factory.mktemp("pipeline"))


def test_shipped_params_yaml_is_a_fresh_composition(installed_project: Path) -> None:
    # params.yaml ships pre-composed so `dvc params diff` works from the first commit; it must be
    # exactly what the `config` stage (and DVC's Hydra integration) would write.
    code = f"from {MODULE}.config import compose, to_params_yaml; print(to_params_yaml(compose()), end='')"
    fresh = run([str(installed_project / ".venv/bin/python"), "-c", code], cwd=installed_project).stdout
    assert fresh == (installed_project / "params.yaml").read_text()


# --- the shared trained project: read-only ------------------------------------------------------


def test_repro_writes_the_artifacts_dvc_understands(trained_project: Path) -> None:
    for relative in [*OUTPUTS, "reports/lineage.json", "dvc.lock"]:
        assert (trained_project / relative).is_file(), relative
    metrics = json.loads((trained_project / "reports/metrics.json").read_text())
    assert 0 < metrics["accuracy"] <= 1 and metrics["n_test"] == 30
    assert "accuracy" in sh("dvc metrics show", trained_project).stdout
    plots = sh("dvc plots show --json", trained_project).stdout
    assert "reports/predictions.csv" in plots and '"type": "rect"' in plots  # the confusion matrix
    # A second repro has nothing to do.
    second = sh("make repro", trained_project).stdout
    assert stages_run(second) == [] and "didn't change" in second
    assert "up to date" in sh("dvc status", trained_project).stdout


def test_the_training_run_is_in_mlflow_with_lineage(trained_project: Path) -> None:
    meta = json.loads((trained_project / "models/model_meta.json").read_text())
    meta |= json.loads((trained_project / "reports/lineage.json").read_text())  # run id, version
    found = mlflow_query(
        trained_project,
        f"run = client.get_run({meta['run_id']!r})\n"
        f"version = client.get_model_version({SLUG!r}, {meta['model_version']!r})\n"
        "result = {'params': run.data.params, 'metrics': run.data.metrics, 'tags': run.data.tags,\n"
        "          'version_run': version.run_id, 'source': version.source}",
    )
    commit = sh("git rev-parse HEAD", trained_project).stdout.strip()
    train_sha = hashlib.sha256((trained_project / "data/processed/train.csv").read_bytes()).hexdigest()
    assert found["params"]["model.estimator.n_estimators"] == "100"
    assert found["params"]["model.name"] == "random_forest"
    assert found["metrics"]["accuracy"] == meta["metrics"]["accuracy"]
    assert found["tags"]["git_commit"] == commit == meta["git_commit"]
    assert found["tags"]["git_dirty"] in ("True", "False")
    assert found["tags"]["data_hash"] == train_sha == meta["data_hash"]
    assert found["tags"]["config_name"] == "baseline"
    assert found["version_run"] == meta["run_id"]
    # The logged model has a signature and an input example, and loads back through MLflow.
    loaded = mlflow_query(
        trained_project,
        "import mlflow.pyfunc, pandas as pd\n"
        f"model = mlflow.pyfunc.load_model('models:/{SLUG}/{meta['model_version']}')\n"
        "rows = pd.read_csv('data/processed/test.csv').drop(columns='species').head(3)\n"
        "result = {'inputs': model.metadata.get_input_schema().input_names(),\n"
        "          'example': model.metadata.saved_input_example_info is not None,\n"
        "          'predictions': [str(p) for p in model.predict(rows)]}",
    )
    assert loaded["inputs"] == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    assert loaded["example"] and len(loaded["predictions"]) == 3


def test_make_predict_writes_a_csv_of_predictions(trained_project: Path, tmp_path: Path) -> None:
    out = tmp_path / "predictions.csv"
    sh(f"make predict INPUT=data/processed/test.csv OUTPUT={out}", trained_project)
    header, *rows = out.read_text().splitlines()
    assert "prediction" in header.split(",") and "proba_setosa" in header and len(rows) == 30
    missing = sh("make predict", trained_project, check=False)
    assert missing.returncode != 0 and "name the files" in missing.stderr


def test_make_mlflow_ui_serves_the_project_store(trained_project: Path) -> None:
    with MakeServer(trained_project, "mlflow-ui", "MLFLOW_PORT={port}") as server:
        server.wait_until_answering("/health")
        status, body = call(server.port, "GET", f"/api/2.0/mlflow/registered-models/get?name={SLUG}")
        assert status == 200, body
        assert body["registered_model"]["name"] == SLUG


# --- this module's own project: edits, reruns, experiments ---------------------------------------


def test_two_forced_reproductions_are_byte_identical(project: Path) -> None:
    before = hashes(project)
    sh("dvc repro --force", project)
    assert hashes(project) == before


def test_a_model_edit_reruns_only_train_and_evaluate(project: Path) -> None:
    config = project / "configs/model/random_forest.yaml"
    config.write_text(config.read_text().replace("n_estimators: 100", "n_estimators: 60"))
    assert stages_run(sh("make repro", project).stdout) == ["config", "train", "evaluate"]
    diff = sh("dvc params diff", project).stdout
    assert "model.estimator.n_estimators" in diff and "60" in diff
    sh("dvc metrics diff", project)  # works against the committed metrics
    sh("git checkout -- configs params.yaml dvc.lock reports && make repro", project)


def test_a_data_edit_reruns_everything(project: Path) -> None:
    config = project / "configs/data/iris.yaml"
    config.write_text(config.read_text().replace("test_size: 0.2", "test_size: 0.3"))
    output = sh("make repro", project).stdout
    assert stages_run(output) == ["config", "data", "train", "evaluate"]
    assert json.loads((project / "reports/metrics.json").read_text())["n_test"] == 45
    sh("git checkout -- configs params.yaml dvc.lock reports && make repro", project)


def test_a_paths_change_reproduces_in_one_run(project: Path) -> None:
    """Moving the model (paths.model_dir) takes one `make repro`: trained, registered once, up to date."""
    count = "result = len(client.search_model_versions(\"name='iris-classifier'\"))"
    before = mlflow_query(project, count)
    config = project / "configs/config.yaml"
    config.write_text(config.read_text().replace("model_dir: models", "model_dir: artifacts/model"))
    try:
        sh("make repro", project)
        assert (project / "artifacts/model/model.joblib").is_file()
        assert "up to date" in sh("dvc status", project).stdout
        assert mlflow_query(project, count) == before + 1
    finally:
        sh("git checkout -- configs params.yaml dvc.lock reports && rm -rf artifacts && make repro", project)


def test_dvc_exp_run_with_hydra_overrides(project: Path) -> None:
    swapped = sh("dvc exp run -n swapped -S model=logistic_regression", project).stdout
    assert stages_run(swapped) == ["config", "train", "evaluate"]
    assert "name: logistic_regression" in (project / "params.yaml").read_text()
    sh("dvc exp run -n smaller -S model.estimator.n_estimators=20", project)
    shown = sh("dvc exp show --json", project).stdout
    experiments = {
        rev["name"]: rev["data"]["params"]["params.yaml"]["data"]["model"]
        for baseline in json.loads(shown)
        for experiment in baseline.get("experiments") or []
        for rev in experiment["revs"]
    }
    assert experiments["swapped"]["name"] == "logistic_regression"
    assert experiments["smaller"]["estimator"]["n_estimators"] == 20
    sh("git checkout -- params.yaml dvc.lock reports && make repro", project)


def sweep_runs(project: Path) -> list[dict[str, str]]:
    return mlflow_query(
        project,
        "df = mlflow.search_runs(experiment_names=['" + SLUG + "'])\n"
        "df = df.astype(str)\n"
        "result = df[[c for c in df.columns if c.startswith('tags.') or c == 'run_id']]"
        ".to_dict('records')",
    )


@pytest.mark.parametrize("launcher", ["parallel", "submitit_local"], ids=["joblib", "submitit"])
def test_make_sweep_logs_two_child_runs_under_one_parent(project: Path, launcher: str) -> None:
    earlier = {r["run_id"] for r in sweep_runs(project)}
    # Two models, in joblib or submitit processes; FORCE: the other launcher's sweep is the same one.
    sh(f"make sweep LAUNCHER={launcher} FORCE=1", project)
    runs = [r for r in sweep_runs(project) if r["run_id"] not in earlier]
    parents = [r for r in runs if r.get("tags.sweep") == "true"]
    assert len(parents) == 1
    children = [r for r in runs if r.get("tags.mlflow.parentRunId") == parents[0]["run_id"]]
    assert sorted(r["tags.model"] for r in children) == ["logistic_regression", "random_forest"]
    newest = max((project / "multirun").iterdir())
    assert len(list(newest.glob("*/models/model.joblib"))) == 2


def test_make_train_runs_outside_dvc(project: Path) -> None:
    sh("make train ARGS='experiment=quick'", project)
    assert len(list((project / "outputs").glob("*/models/model.joblib"))) == 1
    assert "up to date" in sh("dvc status", project).stdout  # DVC's outputs untouched


def test_make_promote_sets_the_champion_alias(project: Path) -> None:
    sh("make promote VERSION=1", project)
    alias = mlflow_query(project, f"result = client.get_model_version_by_alias({SLUG!r}, 'champion').version")
    assert str(alias) == "1"
    bad = sh("make promote VERSION=999", project, check=False)
    assert bad.returncode != 0 and "has no version '999'" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_push_then_pull_restores_identical_data(project: Path) -> None:
    before = hashes(project)
    sh("make push-data", project)
    assert (project.parent / f"{SLUG}-dvc-storage").is_dir()  # the default remote, next to the project
    for relative in (".dvc/cache", "data/raw", "data/processed", "models"):  # data/external is in git
        shutil.rmtree(project / relative)
    sh("make pull-data", project)
    assert hashes(project) == before
    assert "up to date" in sh("dvc status", project).stdout


HEADER = "sepal_length,sepal_width,petal_length,petal_width,species\n"
ROWS = "".join(f"{5 + i % 3}.1,3.{i},1.{i},0.{i},{['setosa', 'versicolor'][i % 2]}\n" for i in range(12))
BAD_SOURCES = {
    # `make repro` checks it before DVC runs anything.
    "missing": (None, "data.source: bad-missing.csv does not exist"),
    "not_a_table": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe" * 4, "not a readable CSV table"),
    "wrong_columns": ("a,b\n1,2\n", "lacks the column(s)"),
    "typo_in_numbers": (HEADER + ROWS.replace("3.4,", "wide,", 1), "holds numbers but also the text 'wide'"),
    "single_class": (HEADER + ROWS.replace("versicolor", "setosa"), "has a single class ('setosa')"),
    "empty": ("", "is empty"),
    "no_rows": (HEADER, "no rows"),
    "all_missing_column": (HEADER + re.sub(r",3\.\d+,", ",,", ROWS), "sepal_width hold no values at all"),
}


@pytest.mark.parametrize("case", list(BAD_SOURCES))
def test_bad_data_stops_with_one_clear_message(project: Path, case: str) -> None:
    content, message = BAD_SOURCES[case]
    source = project / f"bad-{case}.csv"
    if isinstance(content, bytes):
        source.write_bytes(content)
    elif content is not None:
        source.write_text(content)
    config = project / "configs/data/iris.yaml"
    config.write_text(config.read_text().replace("source: data/external/iris.csv", f"source: {source.name}"))
    try:
        result = sh("make repro", project, check=False)
        assert result.returncode != 0
        errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
        assert message in errors[0], result.stderr
        assert "Traceback" not in result.stderr
        if content is None:  # stopped before DVC ran any stage
            assert "Running stage" not in result.stdout
        else:  # DVC removed the stale outputs before the stage ran; the stage wrote none.
            assert not (project / "data/processed/train.csv").exists()
    finally:
        sh("git checkout -- configs params.yaml dvc.lock", project)
        source.unlink(missing_ok=True)


def test_a_task_that_contradicts_the_target_stops_before_training(project: Path) -> None:
    config = project / "configs/data/iris.yaml"
    config.write_text(config.read_text().replace("task: classification", "task: regression"))
    try:
        result = sh("make repro", project, check=False)
        assert result.returncode != 0 and "data.task is regression, but the target 'species'" in result.stderr
        assert "Traceback" not in result.stderr
        assert not (project / "data/processed/train.csv").exists()
    finally:
        sh("git checkout -- configs params.yaml dvc.lock", project)


def test_a_misspelt_setting_stops_the_config_stage_naming_it(project: Path) -> None:
    config = project / "configs/data/iris.yaml"
    config.write_text(config.read_text().replace("test_size: 0.2", "test_sise: 0.2"))
    try:
        result = sh("make repro", project, check=False)
        assert result.returncode != 0 and "data.test_sise: unknown setting" in result.stderr
        assert "Traceback" not in result.stderr
    finally:
        sh("git checkout -- configs params.yaml dvc.lock", project)


def test_an_unknown_config_option_stops_with_one_clear_message(project: Path) -> None:
    config = project / "configs/config.yaml"
    config.write_text(config.read_text().replace("model: random_forest", "model: nope"))
    try:
        named = "ERROR: model=nope: there is no configs/model/nope.yaml; the model choices are: logistic_regression,"
        result = sh("make repro", project, check=False)
        assert result.returncode != 0 and named in result.stderr
        assert "Traceback" not in result.stderr
        hydra = sh(f".venv/bin/python -m {MODULE}.train model=nope", project, check=False)
        assert hydra.returncode != 0 and hydra.stderr.startswith(named) and len(hydra.stderr.splitlines()) == 1
    finally:
        sh("git checkout -- configs params.yaml dvc.lock", project)
