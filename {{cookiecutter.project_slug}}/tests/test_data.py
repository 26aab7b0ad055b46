"""Loading, checking, typing and splitting data, including the mistakes a user can make."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.data import load_source, prepare, read_split, split
from {{ cookiecutter.module_name }}.utils.errors import PipelineError
from {{ cookiecutter.module_name }}.utils.kinds import CATEGORICAL, NUMERIC


def test_the_shipped_iris_file_has_the_configured_columns() -> None:
    frame = load_source(str(support.PROJECT_ROOT / "data/external/iris.csv"))
    assert list(frame.columns) == [*support.IRIS_FEATURES, "species"]
    assert len(frame) == 150 and set(frame.species) == set(support.IRIS_CLASSES)


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".parquet"])
def test_csv_tsv_and_parquet_read_the_same(
    tmp_path: Path, mixed_frame: pd.DataFrame, suffix: str
) -> None:
    path = tmp_path / f"rows{suffix}"
    if suffix == ".parquet":
        mixed_frame.to_parquet(path)
    else:
        mixed_frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    loaded, schema, _ = prepare(load_source(str(path)), "label", kinds={"grade": CATEGORICAL})
    assert schema.kinds == {
        "age": NUMERIC,
        "income": NUMERIC,
        "city": CATEGORICAL,
        "member": CATEGORICAL,
        "grade": CATEGORICAL,
        "price": NUMERIC,
    }
    assert schema.dtypes["member"] == "bool" and schema.dtypes["grade"] == "int"
    assert set(loaded["member"]) == {"True", "False", ""} and set(loaded["grade"]) == {
        "1",
        "2",
        "3",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "data file not found"),
        (b"", "is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not a readable CSV table"),
    ],
    ids=["missing", "empty", "not-a-table"],
)
def test_unreadable_sources_are_named(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "rows.csv"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(PipelineError, match=message):
        load_source(str(path))


def test_a_parquet_name_on_a_non_parquet_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rows.parquet"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(PipelineError, match="not a readable parquet table"):
        load_source(str(path))


def test_an_unknown_format_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PipelineError, match="cannot tell the format"):
        load_source(__file__)


def test_rows_without_a_target_are_dropped_and_counted(mixed_frame: pd.DataFrame) -> None:
    mixed_frame.loc[[0, 5], "label"] = None
    frame, _, dropped = prepare(mixed_frame, "label")
    assert dropped == 2 and len(frame) == len(mixed_frame) - 2


def test_features_default_to_every_other_column(mixed_frame: pd.DataFrame) -> None:
    _, schema, _ = prepare(mixed_frame.drop(columns="price"), "label")
    assert schema.features == ["age", "income", "city", "member", "grade"]


def test_missing_numbers_stay_missing_and_categories_become_text(mixed_frame: pd.DataFrame) -> None:
    frame, _, _ = prepare(mixed_frame, "label", kinds={"grade": CATEGORICAL})
    assert frame["age"].isna().sum() == mixed_frame["age"].isna().sum()
    assert (frame["city"] == "").sum() == mixed_frame["city"].isna().sum()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda f: f.drop(columns="city"), r"lacks the column\(s\) city"),
        (lambda f: f.assign(city=None), r"city hold no values at all"),
        (lambda f: f.assign(label="high"), r"single class \('high'\)"),
        (lambda f: f.iloc[0:0], "no rows"),
    ],
    ids=["missing-column", "all-missing-column", "single-class", "no-rows"],
)
def test_unusable_tables_stop_with_one_clear_message(
    mixed_frame: pd.DataFrame, change, message
) -> None:
    with pytest.raises(PipelineError, match=message):
        prepare(change(mixed_frame), "label", features=["age", "income", "city"])


def test_the_offending_non_numeric_value_is_named(mixed_frame: pd.DataFrame) -> None:
    bad = mixed_frame.assign(age=mixed_frame["age"].astype(object))
    bad.loc[17, "age"] = "unknown"
    with pytest.raises(
        PipelineError,
        match=r"'age' holds numbers but also the text 'unknown' \(1 cell, the first in row 18",
    ):
        prepare(bad, "label")
    with pytest.raises(PipelineError, match="declared numeric"):
        prepare(mixed_frame, "label", kinds={"city": NUMERIC})


def test_infinite_numbers_are_refused_with_their_row(mixed_frame: pd.DataFrame) -> None:
    mixed_frame.loc[4, "income"] = np.inf
    with pytest.raises(PipelineError, match=r"'income' holds an infinite value \(inf, row 5"):
        prepare(mixed_frame, "label")


def test_a_task_that_contradicts_the_target_is_refused(mixed_frame: pd.DataFrame) -> None:
    with pytest.raises(PipelineError, match="regression, but the target 'label' holds text"):
        prepare(mixed_frame, "label", task="regression")
    with pytest.raises(PipelineError, match="classification, but the target 'price' holds"):
        prepare(mixed_frame, "price", task="classification")


def test_whole_number_classes_are_text_labels(mixed_frame: pd.DataFrame) -> None:
    frame, schema, _ = prepare(mixed_frame.drop(columns="label"), "grade", task="classification")
    assert schema.task == "classification" and set(frame["grade"]) == {"1", "2", "3"}


def test_classification_split_is_seeded_and_stratified(mixed_frame: pd.DataFrame) -> None:
    frame, schema, _ = prepare(mixed_frame, "label")
    train, test = split(frame, schema, 0.25, seed=7)
    again, _ = split(frame, schema, 0.25, seed=7)
    pd.testing.assert_frame_equal(train, again)
    assert len(train) + len(test) == len(frame) and set(test.label) == {"high", "low"}


def test_regression_split_is_unstratified(mixed_frame: pd.DataFrame) -> None:
    frame, schema, _ = prepare(mixed_frame, "price", task="regression")
    train, test = split(frame, schema, 0.2, seed=0)
    assert len(test) == 40 and train["price"].dtype == np.float64


def test_split_refuses_a_class_with_one_row(tiny_frame: pd.DataFrame) -> None:
    frame, schema, _ = prepare(tiny_frame.iloc[:10], "species")
    with pytest.raises(PipelineError, match="too few rows to split"):
        split(frame.iloc[[0, 1, 2, 3, 4, 6]], schema, 0.5, seed=0)


def test_a_written_split_reads_back_with_its_types(
    tmp_path: Path, mixed_frame: pd.DataFrame
) -> None:
    from {{ cookiecutter.module_name }}.utils.files import write_csv

    frame, schema, _ = prepare(mixed_frame, "label", kinds={"grade": CATEGORICAL})
    write_csv(tmp_path / "train.csv", frame)
    pd.testing.assert_frame_equal(read_split(tmp_path / "train.csv", schema), frame)


def test_categories_are_held_once_each_however_many_rows(
    tmp_path: Path, mixed_frame: pd.DataFrame
) -> None:
    """A million rows of a few categories must not cost a million strings (issue: own data at
    scale): every cell of a categorical column points at one string per category."""
    from {{ cookiecutter.module_name }}.utils.files import write_csv

    frame, schema, _ = prepare(pd.concat([mixed_frame] * 50, ignore_index=True), "label")
    for table in (frame, None):
        if table is None:  # and as the train stage reads it back
            write_csv(tmp_path / "train.csv", frame)
            table = read_split(tmp_path / "train.csv", schema)
        for name in [*schema.categorical, schema.target]:
            column = table[name]
            assert column.dtype == object  # what scikit-learn takes without converting
            assert len({id(value) for value in column}) == column.nunique()


def test_a_large_csv_is_read_in_chunks_saying_how_many_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from {{ cookiecutter.module_name }}.data import read

    path = tmp_path / "big.csv"
    support.mixed_frame(rows=50).to_csv(path, index=False)
    whole = load_source(str(path))
    assert capsys.readouterr().err == ""  # a small file: one read, no progress lines
    monkeypatch.setattr(read, "LARGE_FILE_BYTES", 1)
    monkeypatch.setattr(read, "CHUNK_ROWS", 20)
    chunked = load_source(str(path))
    pd.testing.assert_frame_equal(chunked, whole)
    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" rows read")[0] for line in lines] == ["data: 20", "data: 40", "data: 50"]
    assert lines[-1].endswith("(100 % of 0 MiB)")
