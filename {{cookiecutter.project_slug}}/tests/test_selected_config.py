"""The data and model you select in configs/config.yaml: the pipeline's contract, on your data.

Every other test module tests the shipped examples with configs of their own (support.composed pins
iris and a random forest; a test names diabetes when it needs a regression) or synthetic tables, so
they pass whatever you select. This module reads your selection, as `make repro` does, and checks
what the pipeline promises for any table: the configs compose and check; the data stage writes a
schema that matches the file and a split of the configured share; training and evaluation run (with
a small model: support.shrink) and write the task's metrics{% if cookiecutter.include_api == "yes" %}; the API asks for exactly the
schema's features and answers rows of the table as the model does{% endif %}.

A table of more than SAMPLE_ROWS rows is tested on a seeded sample of them (every class kept), so
these tests stay fast; `make repro` runs the whole table. docs/your-own-data.md says how to add
tests of your own.
"""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.artifact.meta import ModelMeta
from {{ cookiecutter.module_name }}.config import compose, to_params_yaml
from {{ cookiecutter.module_name }}.data import TableSchema, load_schema, load_source, prepare_data, read_split
from {{ cookiecutter.module_name }}.params import Params, is_url, parse_params
from {{ cookiecutter.module_name }}.stages import evaluate
from {{ cookiecutter.module_name }}.train import train
from {{ cookiecutter.module_name }}.utils.kinds import JSON_TYPES, KINDS, NUMERIC

SAMPLE_ROWS = 2_000
# What reports/metrics.json holds for each task (docs/your-own-data.md).
METRICS = {
    "classification": {"accuracy", "f1_macro", "n_test"},
    "regression": {"rmse", "mae", "r2", "n_test"},
}
INTERVALS = ("cv", "test_interval")


def tracked_by_dvc(path: Path) -> bool:
    """Whether path (or a folder holding it) was `dvc add`-ed: a .dvc file beside it."""
    return any(Path(f"{p}.dvc").is_file() for p in (path, *path.parents))


@pytest.fixture(scope="module")
def selection() -> dict[str, Any]:
    return support.selected()


@pytest.fixture(scope="module")
def source(selection: dict[str, Any]) -> pd.DataFrame:
    """The selected table, read as the data stage reads it."""
    path = selection["data"]["source"]
    if not is_url(path) and not Path(path).exists() and tracked_by_dvc(Path(path)):
        pytest.skip(f"{path} is tracked by DVC and not in the workspace: `dvc pull` it first")
    return load_source(path)


def sample(frame: pd.DataFrame, target: str, task: str, rows: int, seed: int) -> pd.DataFrame:
    """About `rows` rows of frame, drawn with a seed, in their order; for classification, a share
    of each class and at least two rows of it (what the stratified split needs)."""
    rng = np.random.default_rng(seed)
    if task != "classification":
        return frame.iloc[np.sort(rng.choice(len(frame), rows, replace=False))]
    share = rows / len(frame)
    codes, _ = pd.factorize(frame[target], use_na_sentinel=False)  # rows without a target too
    picked = []
    for code in np.unique(codes):
        members = np.flatnonzero(codes == code)
        count = min(len(members), max(2, round(share * len(members))))
        picked.append(rng.choice(members, count, replace=False))
    return frame.iloc[np.sort(np.concatenate(picked))]


@pytest.fixture(scope="module")
def table(selection: dict[str, Any], source: pd.DataFrame) -> pd.DataFrame:
    """The rows the data stage reads here: the whole table, or a sample of a large one."""
    data = selection["data"]
    if len(source) <= SAMPLE_ROWS:
        return source
    return sample(source, data["target"], data["task"], SAMPLE_ROWS, selection["seed"])


@pytest.fixture(scope="module")
def prepared(
    selection: dict[str, Any],
    source: pd.DataFrame,
    table: pd.DataFrame,
    tmp_path_factory: pytest.TempPathFactory,
) -> Params:
    """The data stage run on the selected data, its outputs under a temporary directory."""
    root = tmp_path_factory.mktemp("selected")
    raw = copy.deepcopy(selection)
    if table is not source:
        path = Path(raw["data"]["source"])
        if path.suffix.lower() in (".parquet", ".pq"):
            table.to_parquet(root / "sample.parquet", index=False)
            raw["data"]["source"] = str(root / "sample.parquet")
        else:  # CSV, tab-separated when the source is
            separator = "\t" if path.suffix.lower() == ".tsv" else ","
            name = "sample.tsv" if separator == "\t" else "sample.csv"
            table.to_csv(root / name, index=False, sep=separator)
            raw["data"]["source"] = str(root / name)
    support.shrink(raw["model"]["estimator"])
    params = support.checked(raw, root)
    prepare_data(params)
    return params


@pytest.fixture(scope="module")
def schema(prepared: Params) -> TableSchema:
    return load_schema(Path(prepared.paths.schema_))


@pytest.fixture(scope="module")
def trained(prepared: Params) -> ModelMeta:
    """Training and evaluation on the prepared data, as the pipeline's stages run them."""
    meta = train(prepared, track=False)
    evaluate.run(prepared)
    return meta


def test_the_selected_configs_compose_and_check() -> None:
    cfg = compose(config_dir=support.CONFIG_DIR)
    params = parse_params(support.selected())
    assert params.data.name == cfg.data.name and params.model.name == cfg.model.name


def test_params_yaml_is_the_composition_of_the_selected_configs() -> None:
    # The `config` stage would rewrite it otherwise, and DVC would see a change nobody made.
    shipped = (support.PROJECT_ROOT / "params.yaml").read_text(encoding="utf-8")
    assert shipped == to_params_yaml(compose(config_dir=support.CONFIG_DIR)), (
        "params.yaml is not the composition of configs/: run `make repro` and commit params.yaml"
    )


def test_the_schema_describes_columns_of_the_file(
    prepared: Params, schema: TableSchema, table: pd.DataFrame
) -> None:
    data = prepared.data
    assert schema.target == data.target and schema.task == data.task
    assert schema.features and data.target not in schema.features
    assert set(schema.features) <= set(table.columns)
    if data.features is not None:
        assert schema.features == list(data.features)
    assert set(schema.kinds) == set(schema.dtypes) == set(schema.features)
    for name in schema.features:
        kind, dtype = schema.kinds[name], schema.dtypes[name]
        assert kind in KINDS and dtype in JSON_TYPES, name
        assert kind == data.kinds.get(name, kind), f"{name}: declared {data.kinds[name]}"
        if name in schema.dates:  # a request sends the date as text; the model takes days
            assert kind == NUMERIC and dtype == "str", name
        elif kind == NUMERIC:
            assert dtype == "float", name


def test_the_split_files_hold_the_schemas_columns_and_values(
    prepared: Params, schema: TableSchema
) -> None:
    for path in (prepared.paths.train, prepared.paths.test):
        written = pd.read_csv(path, nrows=0)
        assert list(written.columns) == [*schema.features, schema.target], path
        frame = read_split(Path(path), schema)
        for name in schema.numeric:
            assert frame[name].dtype == "float64", name
        for name in schema.categorical:
            present = frame[name][frame[name] != ""]
            if schema.dtypes[name] == "bool":
                assert set(present) <= {"True", "False"}, name
            if schema.dtypes[name] == "int":
                assert present.str.fullmatch(r"-?\d+").all(), name


def test_the_split_holds_every_row_with_a_target_in_the_configured_share(
    prepared: Params, schema: TableSchema, table: pd.DataFrame
) -> None:
    train_rows = read_split(Path(prepared.paths.train), schema)
    test_rows = read_split(Path(prepared.paths.test), schema)
    rows = len(train_rows) + len(test_rows)
    # What the data stage recorded: every row read, those without a target dropped.
    without_target = int(table[schema.target].isna().sum())
    assert (schema.rows_read, schema.rows_without_target) == (len(table), without_target)
    assert rows == len(table) - without_target
    assert len(test_rows) == math.ceil(prepared.data.test_size * rows)  # scikit-learn's rounding
    if schema.task == "classification":  # stratified: every class is learnt and tested
        assert set(test_rows[schema.target]) == set(train_rows[schema.target])


def test_training_and_evaluation_write_the_tasks_metrics(
    prepared: Params, schema: TableSchema, trained: ModelMeta
) -> None:
    assert trained.task == schema.task and trained.target == schema.target
    assert [feature.name for feature in trained.features] == schema.features
    assert {feature.kind for feature in trained.features} <= set(KINDS)
    metrics = json.loads(Path(prepared.paths.metrics).read_text(encoding="utf-8"))
    # The test split's figures at the top (what `dvc metrics diff` compares), then their
    # intervals: the cross-validated estimate and the test split's bootstrap.
    figures = {name: value for name, value in metrics.items() if name not in INTERVALS}
    assert set(figures) == METRICS[schema.task]
    assert all(math.isfinite(value) for value in figures.values()), metrics
    for section in INTERVALS:  # (the cross-validation also says how it was made: k, repeats)
        assert METRICS[schema.task] - {"n_test"} <= set(metrics[section]), section
    test_rows = read_split(Path(prepared.paths.test), schema)
    assert metrics["n_test"] == len(test_rows)
    predictions = pd.read_csv(prepared.paths.predictions)
    assert len(predictions) == len(test_rows)
    if schema.task == "classification":
        train_rows = read_split(Path(prepared.paths.train), schema)
        assert sorted(trained.classes or []) == sorted(set(train_rows[schema.target]))
{%- if cookiecutter.include_api == "yes" %}


# The JSON Schema type of each feature's dtype, as the API's request documents it.
JSON_SCHEMA_TYPES = {"float": "number", "int": "integer", "str": "string", "bool": "boolean"}


def client_records(table: pd.DataFrame, meta: ModelMeta) -> list[dict[str, Any]]:
    """Rows of the table as a client sends them: numbers as numbers, text as text, gaps as null."""
    from {{ cookiecutter.module_name }}.utils.kinds import category_text

    columns = {}
    for feature in meta.features:
        column = table[feature.name]
        if feature.dtype == "float":
            column = pd.to_numeric(column, errors="coerce")
        elif feature.dtype == "str":
            column = column.map(lambda value: None if pd.isna(value) else category_text(value))
        columns[feature.name] = column
    records: list[dict[str, Any]] = json.loads(pd.DataFrame(columns).to_json(orient="records"))
    return records


def test_the_api_asks_for_the_schemas_features_and_answers_like_the_model(
    prepared: Params, schema: TableSchema, trained: ModelMeta, table: pd.DataFrame
) -> None:
    from fastapi.testclient import TestClient

    from {{ cookiecutter.module_name }}.artifact.read import load_artifacts
    from {{ cookiecutter.module_name }}.predict import model_inputs

    from api.main import create_app

    model_dir = Path(prepared.paths.model_dir)
    lineage = Path(prepared.paths.lineage)
    settings = support.settings_for(
        model_dir, lineage_file=lineage, max_body_bytes=10**6, max_batch_size=50
    )
    rows = table[table[schema.target].notna()].head(20)
    records = client_records(rows, trained)
    with TestClient(create_app(settings)) as client:
        spec = client.get("/openapi.json").json()
        answer = client.post("/predict", json={"records": records})
    request = spec["components"]["schemas"]["PredictRequest"]["properties"]["records"]["items"]
    record = spec["components"]["schemas"][request["$ref"].rsplit("/", 1)[1]]
    assert list(record["properties"]) == schema.features
    for feature in trained.features:
        field = record["properties"][feature.name]
        types = {option["type"] for option in field.get("anyOf", [field])}
        wanted = {JSON_SCHEMA_TYPES[schema.dtypes[feature.name]]}
        assert types == wanted | ({"null"} if feature.nullable else set()), feature.name
    assert answer.status_code == 200, answer.text
    model, meta = load_artifacts(model_dir)
    expected = model.predict(model_inputs(meta, rows)).tolist()
    if schema.task == "classification":
        assert answer.json()["predictions"] == expected
    else:  # ONNX Runtime computes in float32: within the export's own parity check
        assert answer.json()["predictions"] == pytest.approx(expected, rel=0, abs=1e-5)
{%- endif %}
