"""Loading, validating and splitting data, including the mistakes a user can make."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.data import load_iris_frame, load_source, read_csv, split, validate
from {{ cookiecutter.module_name }}.errors import PipelineError

FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def test_bundled_iris_has_the_configured_columns() -> None:
    frame = load_source("sklearn:iris")
    assert list(frame.columns) == [*FEATURES, "species"]
    assert len(frame) == 150 and set(frame.species) == {"setosa", "versicolor", "virginica"}
    pd.testing.assert_frame_equal(frame, load_iris_frame())


def test_an_unknown_bundled_dataset_is_refused() -> None:
    with pytest.raises(PipelineError, match="unknown bundled dataset 'sklearn:wine'"):
        load_source("sklearn:wine")


def test_a_csv_path_is_read(tmp_path: Path, tiny_frame: pd.DataFrame) -> None:
    path = tmp_path / "rows.csv"
    tiny_frame.to_csv(path, index=False)
    pd.testing.assert_frame_equal(load_source(str(path)), tiny_frame)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match=r"data file not found: .*nope\.csv"):
        read_csv(str(tmp_path / "nope.csv"))


def test_an_empty_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(PipelineError, match="is empty"):
        read_csv(str(path))


def test_validate_keeps_only_the_expected_columns(tiny_frame: pd.DataFrame) -> None:
    clean = validate(tiny_frame.assign(extra=1), FEATURES, "species")
    assert list(clean.columns) == [*FEATURES, "species"]


def test_validate_names_missing_columns(tiny_frame: pd.DataFrame) -> None:
    with pytest.raises(PipelineError, match="lacks the column\\(s\\) petal_width"):
        validate(tiny_frame.drop(columns="petal_width"), FEATURES, "species")


def test_validate_refuses_non_numeric_features(tiny_frame: pd.DataFrame) -> None:
    bad = tiny_frame.astype({"sepal_width": object})
    bad.loc[0, "sepal_width"] = "wide"
    with pytest.raises(PipelineError, match="sepal_width hold non-numeric values"):
        validate(bad, FEATURES, "species")


def test_validate_refuses_missing_values(tiny_frame: pd.DataFrame) -> None:
    bad = tiny_frame.copy()
    bad.loc[3, "species"] = None
    with pytest.raises(PipelineError, match=r"missing values in: species \(1\)"):
        validate(bad, FEATURES, "species")


def test_validate_refuses_an_empty_dataset(tiny_frame: pd.DataFrame) -> None:
    with pytest.raises(PipelineError, match="no rows"):
        validate(tiny_frame.iloc[0:0], FEATURES, "species")


def test_split_is_seeded_and_stratified(tiny_frame: pd.DataFrame) -> None:
    train, test = split(tiny_frame, "species", 0.25, seed=7)
    again_train, _ = split(tiny_frame, "species", 0.25, seed=7)
    pd.testing.assert_frame_equal(train, again_train)
    assert len(train) + len(test) == len(tiny_frame)
    assert set(test.species) == {"a", "b", "c"}


def test_split_refuses_a_bad_test_size(tiny_frame: pd.DataFrame) -> None:
    with pytest.raises(PipelineError, match="between 0 and 1"):
        split(tiny_frame, "species", 1.5, seed=0)


def test_split_refuses_too_few_rows(tiny_frame: pd.DataFrame) -> None:
    with pytest.raises(PipelineError, match="too few rows"):
        split(tiny_frame.head(3), "species", 0.5, seed=0)
