"""A user's own data, run for real: a mixed-type classification table with gaps and a text target,
then a regression table, neither of them iris. The generated project's own commands train them
(`make repro`), serve them (`make serve`, both runtimes), predict in batch (`make predict`); DVC
reruns exactly the stages an edit affects and reproduces byte-identical outputs.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml
from helpers import MODULE, MakeServer, call, reproduced_project, run, sh, stages_run

pytestmark = pytest.mark.full

STAGES = ["config", "data", "train", "evaluate"]


# Runs in the generated project's venv (the template's own venv has no numpy or pandas).
TABLE_SCRIPT = """
import sys
import numpy as np, pandas as pd
path, rows, seed, drop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
rng = np.random.default_rng(seed)
frame = pd.DataFrame({
    "age": rng.integers(18, 80, rows).astype(float),
    "income": rng.normal(50_000, 15_000, rows).round(2),
    "city": rng.choice(["Paris", "Lyon", "Nice", "Lille"], rows).astype(object),
    "member": rng.choice([True, False], rows).astype(object),
    "grade": rng.integers(1, 4, rows),
})
frame.loc[rng.random(rows) < 0.1, "age"] = np.nan
frame.loc[rng.random(rows) < 0.1, "city"] = None
frame.loc[rng.random(rows) < 0.1, "member"] = None
frame["segment"] = np.where(frame["income"] > 52_000, "premium", "standard")
frame.loc[rng.random(rows) < 0.02, "segment"] = None  # rows without a target: dropped
frame["spend"] = (frame["income"] / 1_000 + 3 * frame["grade"] + rng.normal(0, 2, rows)).round(3)
frame.drop(columns=drop).to_csv(path, index=False)
"""


def write_table(project: Path, path: Path, rows: int, seed: int, *drop: str) -> Path:
    """A mixed table: numbers, text and booleans with gaps, an integer code, two targets."""
    python = str(project / ".venv/bin/python")
    run([python, "-c", TABLE_SCRIPT, str(path), str(rows), str(seed), *drop], cwd=project)
    return path


DATA_CONFIG = """name: {name}
source: data/external/{name}.csv
target: {target}
task: {task}
features: [age, income, city, member, grade]
kinds:
  grade: categorical
test_size: 0.25
"""


def use_data(project: Path, name: str, target: str, task: str, model: str) -> None:
    """Write the table and its data config, and select both (as docs/your-own-data.md says)."""
    other = "spend" if target == "segment" else "segment"
    write_table(project, project / "data/external" / f"{name}.csv", 400, len(name), other)
    (project / "configs/data" / f"{name}.yaml").write_text(
        DATA_CONFIG.format(name=name, target=target, task=task), encoding="utf-8"
    )
    config = project / "configs/config.yaml"
    text = re.sub(r"- data: \w+", f"- data: {name}", config.read_text())
    config.write_text(re.sub(r"- model: \w+", f"- model: {model}", text))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bake trained on the mixed classification table, committed as the baseline."""
    return reproduced_project(
        tmp_path_factory.mktemp("own-data"),
        prepare=lambda path: use_data(path, "customers", "segment", "classification", "random_forest"),
        message="Own data",
    )


def expected_predictions(project: Path, rows_file: Path, model_dir: str = "models") -> dict:
    """What the scikit-learn model itself predicts for the raw rows in rows_file."""
    script = (
        "import json, sys, pandas as pd\n"
        f"from {MODULE}.artifact.read import load_artifacts\n"
        f"from {MODULE}.predict import model_inputs\n"
        f"model, meta = load_artifacts(__import__('pathlib').Path({model_dir!r}))\n"
        f"rows = pd.read_csv({str(rows_file)!r})[[f.name for f in meta.features]]\n"
        "records = json.loads(rows.to_json(orient='records'))\n"
        "print(json.dumps({'records': records, 'predictions': model.predict(model_inputs(meta, rows)).tolist()}))\n"
    )
    return json.loads(run([str(project / ".venv/bin/python"), "-c", script], cwd=project).stdout)


def held_out_rows(project: Path, tmp_path: Path) -> Path:
    """Rows the model never saw, as a user has them: raw values, gaps included, no targets."""
    return write_table(project, tmp_path / "rows.csv", 60, 99, "segment", "spend")


def test_the_mixed_table_trains_with_kinds_recorded(project: Path) -> None:
    meta = json.loads((project / "models/model_meta.json").read_text())
    kinds = {f["name"]: (f["kind"], f["dtype"], f["nullable"]) for f in meta["features"]}
    assert kinds == {
        "age": ("numeric", "float", True),
        "income": ("numeric", "float", True),
        "city": ("categorical", "str", True),
        "member": ("categorical", "bool", True),
        "grade": ("categorical", "int", True),
    }
    assert meta["task"] == "classification" and meta["classes"] == ["premium", "standard"]
    assert meta["onnx_parity"] is not None  # the whole pipeline, one-hot of text included
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert set(metrics) == {"accuracy", "f1_macro", "n_test", "cv", "test_interval"}
    assert {"accuracy", "f1_macro"} <= set(metrics["cv"]) and {"accuracy", "f1_macro"} <= set(metrics["test_interval"])


@pytest.mark.parametrize("runtime", ["onnx", "scikit-learn"])
def test_http_predictions_equal_the_models_own(project: Path, tmp_path: Path, runtime: str) -> None:
    rows = held_out_rows(project, tmp_path)
    expected = expected_predictions(project, rows)
    settings = []
    if runtime == "scikit-learn":  # the same model without its export: the fallback runtime
        shutil.copytree(project / "models", tmp_path / "models")
        (tmp_path / "models/model.onnx").unlink()
        settings = [f"MODEL_DIR={tmp_path / 'models'}"]
    with MakeServer(project, "serve", "PORT={port}", *settings) as server:
        server.wait_until_answering("/health")
        assert call(server.port, "GET", "/metadata")[1]["runtime"] == runtime
        status, body = call(server.port, "POST", "/predict", {"records": expected["records"]})
        assert status == 200, body
        assert body["predictions"] == expected["predictions"]
        unseen = {**expected["records"][0], "city": "Marseille", "age": None}
        assert call(server.port, "POST", "/predict", {"records": [unseen]})[0] == 200
        bad = {**expected["records"][0], "income": "high"}
        status, body = call(server.port, "POST", "/predict", {"records": [bad]})
        assert status == 422 and body["detail"][0]["loc"] == ["body", "records", 0, "income"]


def test_make_predict_on_raw_rows(project: Path, tmp_path: Path) -> None:
    rows = held_out_rows(project, tmp_path)
    out = tmp_path / "predictions.csv"
    sh(f"make predict INPUT={rows} OUTPUT={out}", project)
    with out.open(newline="") as handle:
        answered = list(csv.DictReader(handle))
    assert [row["prediction"] for row in answered] == expected_predictions(project, rows)["predictions"]
    assert {"proba_premium", "proba_standard"} <= set(answered[0])


def stale_stages(project: Path) -> list[str]:
    status = json.loads(sh("dvc status --json", project).stdout or "{}")
    return [stage for stage in STAGES if stage in status]


def code_deps(project: Path) -> dict[str, set[str]]:
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    return {name: {d for d in stage["deps"] if d.startswith("src/")} for name, stage in stages.items()}


def test_editing_nothing_leaves_everything_up_to_date(project: Path) -> None:
    assert stale_stages(project) == []


def test_editing_the_source_makes_data_train_and_evaluate_stale(project: Path) -> None:
    source = project / "data/external/customers.csv"
    original = source.read_text()
    source.write_text(original + original.splitlines()[1] + "\n")
    try:
        assert stale_stages(project) == ["data"]  # DVC sees the rest once data's outputs change
        assert stages_run(sh("make repro", project).stdout) == ["data", "train", "evaluate"]
    finally:
        source.write_text(original)
    sh("make repro", project)
    assert stale_stages(project) == []


def test_editing_a_module_makes_stale_exactly_the_stages_that_run_it(project: Path) -> None:
    declared = code_deps(project)
    modules = sorted(str(p.relative_to(project)) for p in (project / "src" / MODULE).rglob("*.py"))
    for module in modules:
        path = project / module
        original = path.read_text()
        path.write_text(original + "\n# an edit\n")
        try:
            expected = [stage for stage in STAGES if module in declared[stage]]
            assert stale_stages(project) == expected, module
        finally:
            path.write_text(original)


def test_every_module_a_stage_imports_is_one_of_its_dependencies(project: Path) -> None:
    """The derived lists cover what the stages really import (python -X importtime lists it)."""
    declared = code_deps(project)
    for stage in STAGES:
        result = sh(f".venv/bin/python -X importtime -m {MODULE}.stages {stage}", project)
        imported = set(re.findall(rf"\|\s+({MODULE}(?:\.\w+)*)\s*$", result.stderr, re.MULTILINE))
        files = set()
        for module in imported:
            base = project / "src" / Path(*module.split("."))
            found = base.with_suffix(".py") if base.with_suffix(".py").is_file() else base / "__init__.py"
            files.add(str(found.relative_to(project)))
        assert files and files <= declared[stage], (stage, files - declared[stage])
    sh("git checkout -- . && make repro", project)  # the train stage above logged a run: restore


def test_two_forced_reproductions_hash_every_output_alike(project: Path) -> None:
    def out_hashes() -> dict[str, str]:
        lock = yaml.safe_load((project / "dvc.lock").read_text())["stages"]
        return {f"{name}:{out['path']}": out["md5"] for name, stage in lock.items() for out in stage.get("outs", [])}

    sh("dvc repro --force", project)
    first = out_hashes()
    sh("dvc repro --force", project)
    assert out_hashes() == first and any(key.startswith("train:models") for key in first)


def test_a_regression_table_trains_serves_and_predicts(project: Path, tmp_path: Path) -> None:
    use_data(project, "spending", "spend", "regression", "random_forest_regressor")
    output = sh("make repro", project).stdout
    assert stages_run(output) == ["config", "data", "train", "evaluate"]
    metrics = json.loads((project / "reports/metrics.json").read_text())
    assert set(metrics) == {"rmse", "mae", "r2", "n_test", "cv", "test_interval"}
    for name in ("rmse", "mae", "r2"):
        assert metrics["cv"][name]["low"] <= metrics["cv"][name]["mean"] <= metrics["cv"][name]["high"], name
    assert '"type": "point"' in sh("dvc plots show --json", project).stdout  # predicted vs actual
    rows = held_out_rows(project, tmp_path)
    expected = expected_predictions(project, rows)
    with MakeServer(project, "serve", "PORT={port}") as server:
        server.wait_until_answering("/health")
        status, body = call(server.port, "POST", "/predict", {"records": expected["records"]})
    assert status == 200 and set(body) == {"predictions", "unseen", "model_name", "model_version"}
    assert max(abs(a - b) for a, b in zip(body["predictions"], expected["predictions"], strict=True)) <= 1e-5
    out = tmp_path / "predictions.csv"
    sh(f"make predict INPUT={rows} OUTPUT={out}", project)
    with out.open(newline="") as handle:
        written = [float(row["prediction"]) for row in csv.DictReader(handle)]
    assert max(abs(a - b) for a, b in zip(written, expected["predictions"], strict=True)) <= 1e-5
    sh("git checkout -- . && git clean -fdq configs data/external && make repro", project)


# Column names a CSV may hold that are not identifiers, the ONNX converter rewrites, or mean
# something in JSON Schema, Python, Markdown or matplotlib; and one very long.
AWKWARD_SCRIPT = """
import sys
import numpy as np, pandas as pd
path, rows, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
frame = pd.DataFrame({
    "age (years)": rng.integers(18, 80, rows).astype(float),
    "income.usd/yr": rng.normal(50_000, 15_000, rows).round(2),
    "home city": rng.choice([" Paris", "Lyon ", "Nice"], rows).astype(object),
    "class": rng.choice(["a", "b"], rows).astype(object),
    "1st grade": rng.integers(1, 4, rows),
    "$ref": rng.choice(["x", "y"], rows).astype(object),
    "*note* $x$": rng.normal(size=rows).round(3),
    "très " * 40: rng.normal(size=rows).round(3),
})
frame.loc[rng.random(rows) < 0.1, "age (years)"] = np.nan
frame["segment type"] = np.where(frame["income.usd/yr"] > 52_000, "premium", "standard")
frame.to_csv(path, index=False)
"""
AWKWARD_CONFIG = """name: awkward
source: data/external/awkward.csv
target: segment type
task: classification
features: null
test_size: 0.25
"""


def unseen_count(port: int, feature: str) -> float:
    """model_unseen_categories_total{feature=...} in /metrics."""
    status, text = call(port, "GET", "/metrics")
    assert status == 200
    found = re.search(rf'^model_unseen_categories_total{{feature="{re.escape(feature)}"}} (\S+)$', text, re.MULTILINE)
    assert found, text
    return float(found.group(1))


def test_any_column_name_keeps_the_onnx_export_and_is_served_as_written(project: Path, tmp_path: Path) -> None:
    python = str(project / ".venv/bin/python")
    table = project / "data/external/awkward.csv"
    run([python, "-c", AWKWARD_SCRIPT, str(table), "400", "11"], cwd=project)
    (project / "configs/data/awkward.yaml").write_text(AWKWARD_CONFIG, encoding="utf-8")
    config = project / "configs/config.yaml"
    config.write_text(re.sub(r"- data: \w+", "- data: awkward", config.read_text()))
    try:
        output = sh("make repro", project)
        assert "train: ONNX export kept" in output.stdout, output.stdout + output.stderr
        assert "no ONNX export" not in output.stderr
        meta = json.loads((project / "models/model_meta.json").read_text())
        names = [feature["name"] for feature in meta["features"]]
        assert len(names) == 8 and "home city" in names and "très " * 40 in names
        assert (project / "models/model.onnx").is_file() and meta["onnx_parity"] is not None
        assert sorted(meta["onnx_inputs"]) == sorted(names) and meta["onnx_skipped"] is None
        run([python, "-c", AWKWARD_SCRIPT, str(tmp_path / "rows.csv"), "20", "12"], cwd=project)
        expected = expected_predictions(project, tmp_path / "rows.csv")
        records = expected["records"][:3]
        records[1] = {**records[1], "home city": "Marseille"}  # never seen in training
        records[2] = {**records[2], "home city": "  Nice "}  # seen: surrounding spaces are stripped
        with MakeServer(project, "serve", "PORT={port}") as server:
            server.wait_until_answering("/health")
            metadata = call(server.port, "GET", "/metadata")[1]
            assert (metadata["runtime"], metadata["runtime_reason"][:10]) == ("onnx", "model.onnx")
            document = call(server.port, "GET", "/openapi.json")[1]
            assert set(document["components"]["schemas"]["Record"]["properties"]) == set(names)
            status, body = call(server.port, "POST", "/predict", {"records": records})
            assert status == 200, body
            assert body["predictions"][0] == expected["predictions"][0]
            assert body["unseen"] == [[], ["home city"], []]
            assert unseen_count(server.port, "home city") == 1 and unseen_count(server.port, "$ref") == 0
            log = server.stop()
        assert 'unseen={"home city": 1}' in log, log[-3000:]
        batch = sh(f"make predict INPUT={tmp_path / 'rows.csv'} OUTPUT={tmp_path / 'out.csv'}", project)
        with (tmp_path / "out.csv").open(newline="") as handle:
            written = list(csv.DictReader(handle))
        assert [row["prediction"] for row in written] == expected["predictions"]
        assert "categories never seen" not in batch.stderr  # every city of these rows was seen
    finally:
        sh("git checkout -- . && git clean -fdq configs data/external && make repro", project)
