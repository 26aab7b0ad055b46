"""A first export of a real table, run for real: `;`-separated, with pandas' index column, an id, a
row number in a file sorted by the target, a name per row, a date and a numeric column with
"unknown" in it. `make repro` says what to declare, one line at a time, then trains on the columns
that mean something, and the batch predictor takes the dates as text."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from helpers import bake_project, make_init, run, sh

pytestmark = pytest.mark.full

# Runs in the generated project's venv (the template's own venv has no numpy or pandas).
TABLE_SCRIPT = """
import sys
import numpy as np, pandas as pd
path, rows, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(seed)
opened = pd.Timestamp("2021-01-04") + pd.to_timedelta(rng.integers(0, 900, rows), unit="D")
frame = pd.DataFrame({
    "customer_id": np.arange(rows) * 3 + 5000,
    "name": [f"customer {i}" for i in rng.permutation(rows)],
    "income": rng.normal(50_000, 15_000, rows).round(2),
    "city": rng.choice(["Paris", "Lyon", "Nice"], rows).astype(object),
    "opened": opened.strftime("%Y-%m-%d"),
    "rooms": rng.integers(1, 7, rows).astype(object),
})
frame["spend"] = (frame["income"] / 1_000 + 2 * frame["rooms"].astype(float)
                  + (opened.year - 2020) + rng.normal(0, 6, rows)).round(3)
frame.loc[rng.random(rows) < 0.2, "rooms"] = "unknown"
frame = frame.sort_values("spend", ignore_index=True)  # sorted by the target ...
frame.insert(0, "row", np.arange(1, rows + 1))  # ... and numbered: a leak
frame.to_csv(path, sep=";")  # with pandas' index, as `Unnamed: 0`
"""

CONFIG = """name: shop
source: data/external/shop.csv
target: spend
task: {task}
features: null
kinds: {{}}
test_size: 0.25
identifiers: drop
dates: days
missing_values: {missing}
delimiter: {delimiter}
"""


def configure(project: Path, task: str = "regression", missing: str = "[]", delimiter: str = "null") -> None:
    text = CONFIG.format(task=task, missing=missing, delimiter=delimiter)
    (project / "configs/data/shop.yaml").write_text(text, encoding="utf-8")


def repro_error(project: Path) -> str:
    """The one ERROR line of a `make repro` that must fail, after checking nothing was trained."""
    result = sh("make repro", project, check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert not (project / "models/model.joblib").exists() and not (project / "reports/metrics.json").exists()
    # The stage's own line; DVC adds one of its own ("failed to reproduce 'data'").
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    errors = [line for line in errors if not line.startswith("ERROR: failed to reproduce")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = make_init(bake_project(tmp_path_factory.mktemp("own-data-rules")))
    table = path / "data/external/shop.csv"
    run([str(path / ".venv/bin/python"), "-c", TABLE_SCRIPT, str(table), "600", "5"], cwd=path)
    config = path / "configs/config.yaml"
    text = config.read_text().replace("- data: iris", "- data: shop")
    config.write_text(text.replace("- model: random_forest", "- model: random_forest_regressor"))
    return path


def test_each_thing_to_declare_is_one_line_then_the_table_trains_on_what_means_something(
    project: Path, tmp_path: Path
) -> None:
    configure(project, task="regresion")
    assert "data.task: Input should be 'classification' or 'regression'" in repro_error(project)

    configure(project)
    error = repro_error(project)
    assert "data/external/shop.csv reads as one column" in error
    assert error.endswith('declare it in the data config (data.delimiter: ";").')

    configure(project, delimiter='";"')
    error = repro_error(project)
    assert error.startswith("ERROR: column 'rooms' holds numbers but also the text 'unknown' (")
    assert 'data.missing_values: ["unknown"]' in error and 'data.kinds: {"rooms": "categorical"}' in error

    configure(project, missing="[unknown]", delimiter='";"')
    out = sh("make repro", project).stdout
    for column in ("Unnamed: 0", "row", "customer_id", "name"):
        lines = [line for line in out.splitlines() if line.startswith(f"data: left out {column!r}")]
        assert len(lines) == 1 and "data.identifiers: keep" in lines[0], out
    assert "data: 'opened' holds dates (%Y-%m-%d): a numeric feature, the days since 1970-01-01" in out

    meta = json.loads((project / "models/model_meta.json").read_text())
    features = {f["name"]: f for f in meta["features"]}
    assert list(features) == ["income", "city", "opened", "rooms"]
    assert (features["opened"]["dtype"], features["opened"]["date_format"]) == ("str", "%Y-%m-%d")
    assert features["rooms"]["kind"] == "numeric" and features["rooms"]["nullable"]
    schema = json.loads((project / "data/processed/schema.json").read_text())
    assert set(schema["left_out"]) == {"Unnamed: 0", "row", "customer_id", "name"}
    # With the row number of a file sorted by the target, R^2 would be about 1.
    assert json.loads((project / "reports/metrics.json").read_text())["r2"] < 0.99

    rows = tmp_path / "new.csv"
    rows.write_text(
        "customer_id,name,income,city,opened,rooms\n7001,someone,61000,Lyon,2023-05-17,3\n7002,else,42000,Nice,2022-11-02,\n",
        encoding="utf-8",
    )
    out_file = tmp_path / "predicted.csv"
    sh(f"make predict INPUT={rows} OUTPUT={out_file}", project)
    with out_file.open(newline="") as handle:
        predicted = list(csv.DictReader(handle))
    assert [row["customer_id"] for row in predicted] == ["7001", "7002"]
    assert all(float(row["prediction"]) > 0 for row in predicted)
