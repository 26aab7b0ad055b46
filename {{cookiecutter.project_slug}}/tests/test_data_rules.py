"""The data stage's rules for columns that mean nothing or leak: identifiers, dates, numbers with
placeholder texts, and a CSV file's delimiter. Each rule with the case it must leave alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.data import TableSchema, load_source, prepare
from {{ cookiecutter.module_name }}.params import parse_params
from {{ cookiecutter.module_name }}.utils.errors import PipelineError, shown
from {{ cookiecutter.module_name }}.utils.kinds import CATEGORICAL, ISO_8601, NUMERIC, date_number

ROWS = 120


def table(**columns: object) -> pd.DataFrame:
    """A classification table: a real feature, a target, and the columns under test."""
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"size": rng.normal(10, 2, ROWS).round(3), **columns})
    frame["label"] = np.where(frame["size"] > 10, "big", "small")
    return frame


def left_out(frame: pd.DataFrame, **options: object) -> dict[str, str]:
    return prepare(frame, "label", **options)[1].left_out  # type: ignore[arg-type]


RNG = np.random.default_rng(7)

# Columns that identify rows, however they are written.
IDENTIFIERS = {
    "row-number": np.arange(ROWS),
    "shuffled-row-number": RNG.permutation(ROWS) + 1,
    "id-in-file-order": np.cumsum(RNG.integers(1, 50, ROWS)) + 10_000,
    "id-counting-down": 10_000 - np.cumsum(RNG.integers(1, 50, ROWS)),
    "ids-with-gaps-shuffled": RNG.permutation(np.arange(ROWS) * 3 + 5_000),
    "name": np.array([f"customer {i:04d}" for i in RNG.permutation(ROWS)], dtype=object),
    "row-number-as-float": np.arange(ROWS, dtype=float),
}
# Columns a model may learn from: they must stay.
MEASUREMENTS = {
    "distinct-floats": RNG.normal(0, 1, ROWS),
    "distinct-whole-numbers-in-no-order": RNG.choice(np.arange(10**6), ROWS, replace=False),
    "incomes-in-dollars": RNG.normal(50_000, 15_000, ROWS).round(),
    "sorted-whole-numbers-that-repeat": np.sort(RNG.integers(0, 40, ROWS)),
    "a-few-categories": RNG.choice(["red", "green", "blue"], ROWS).astype(object),
    "booleans": RNG.choice([True, False], ROWS),
    "many-categories-that-repeat": RNG.choice([f"c{i}" for i in range(60)], ROWS).astype(object),
}


@pytest.mark.parametrize("name", list(IDENTIFIERS))
def test_a_column_that_identifies_rows_is_left_out_with_one_line(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = table(**{name: IDENTIFIERS[name]})
    typed, schema, _ = prepare(frame, "label")
    assert name not in schema.features and name not in typed.columns
    assert schema.features == ["size"] and name in schema.left_out
    lines = [line for line in capsys.readouterr().out.splitlines() if name in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"data: left out {name!r}, which identifies rows")
    assert "data.kinds" in lines[0] and "data.identifiers: keep" in lines[0]


@pytest.mark.parametrize("name", list(MEASUREMENTS))
def test_a_measurement_is_kept(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    _, schema, _ = prepare(table(**{name: MEASUREMENTS[name]}), "label")
    assert name in schema.features and schema.left_out == {}
    assert "left out" not in capsys.readouterr().out


def test_an_index_column_pandas_wrote_is_left_out_when_its_rows_were_shuffled(
    tmp_path: Path,
) -> None:
    """pandas writes the index of a shuffled, filtered frame as a header-less column of
    distinct, unordered whole numbers: neither a run nor in file order, yet an identifier."""
    frame = table(other=RNG.normal(0, 1, ROWS)).sample(frac=1.0, random_state=3).iloc[: ROWS - 9]
    path = tmp_path / "written-with-index.csv"
    frame.to_csv(path)  # index=True: the header cell of the index is empty
    read = load_source(str(path))
    assert read.columns[0] == "Unnamed: 0"
    assert "Unnamed: 0" in left_out(read) and "other" in prepare(read, "label")[1].features


def test_identifiers_need_enough_values_to_tell() -> None:
    few = table(row=np.arange(ROWS)).head(12)
    assert left_out(few) == {}


def test_identifiers_are_kept_when_declared_or_switched_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    frame = table(row=np.arange(ROWS), name=IDENTIFIERS["name"])
    _, schema, _ = prepare(frame, "label", kinds={"row": NUMERIC})
    assert "row" in schema.features and "name" not in schema.features
    assert "left out 'row'" not in capsys.readouterr().out
    _, schema, _ = prepare(frame, "label", identifiers="keep")
    assert schema.features == ["size", "row", "name"] and schema.left_out == {}
    assert capsys.readouterr().out == ""


def test_listed_features_are_used_and_an_identifier_among_them_is_named(
    capsys: pytest.CaptureFixture[str],
) -> None:
    frame = table(row=np.arange(ROWS))
    _, schema, _ = prepare(frame, "label", features=["size", "row"])
    assert schema.features == ["size", "row"] and schema.left_out == {}
    assert capsys.readouterr().out.splitlines() == [
        "data: 'row' looks like an identifier (the whole numbers 0 to 119, each once: they count"
        " the rows); used: data.features lists it"
    ]


def test_a_table_of_identifiers_only_says_what_was_left_out() -> None:
    frame = table(row=np.arange(ROWS)).drop(columns="size")
    with pytest.raises(PipelineError, match=r"no feature is left: row were left out"):
        prepare(frame, "label")


# --- dates ---------------------------------------------------------------------------------------

DAYS = pd.date_range("2023-12-25 06:00", periods=ROWS, freq="37h")


@pytest.mark.parametrize(
    ("written", "fmt"),
    [
        (DAYS.strftime("%Y-%m-%d"), "%Y-%m-%d"),
        (DAYS.strftime("%Y-%m-%d %H:%M:%S"), "%Y-%m-%d %H:%M:%S"),
        (DAYS.strftime("%m/%d/%Y %H:%M"), "%m/%d/%Y %H:%M"),
        (DAYS.strftime("%d/%m/%Y"), "%d/%m/%Y"),  # day first: 25/12/2023 cannot be month first
        (DAYS.strftime("%Y-%m-%dT%H:%M:%SZ"), "%Y-%m-%dT%H:%M:%S%z"),
        (DAYS.strftime("%d %B %Y"), "%d %B %Y"),
    ],
    ids=["iso-date", "iso-date-time", "us", "day-first", "utc", "month-name"],
)
def test_dates_become_one_numeric_feature_of_days(
    written: pd.Index, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    frame = table(when=np.asarray(written, dtype=object))
    typed, schema, _ = prepare(frame, "label")
    assert schema.kinds["when"] == NUMERIC and schema.dtypes["when"] == "str"
    assert schema.dates == {"when": fmt}
    expected = [date_number(text, fmt) for text in written]
    assert typed["when"].tolist() == expected and typed["when"].dtype == np.float64
    assert typed["when"].is_monotonic_increasing and expected[0] == pytest.approx(19716, abs=1)
    assert f"data: 'when' holds dates ({fmt}): a numeric feature, the days since 1970-01-01" in (
        capsys.readouterr().out
    )


def test_a_date_typed_column_is_sent_as_iso_text(tmp_path: Path) -> None:
    path = tmp_path / "dated.parquet"
    table(when=DAYS).to_parquet(path)
    typed, schema, _ = prepare(load_source(str(path)), "label")
    assert schema.dates == {"when": ISO_8601}
    assert typed["when"].iloc[1] == date_number(DAYS[1].isoformat(), ISO_8601)


def test_dates_left_out_on_request_and_kept_when_listed(capsys: pytest.CaptureFixture[str]) -> None:
    frame = table(when=np.asarray(DAYS.strftime("%Y-%m-%d"), dtype=object))
    _, schema, _ = prepare(frame, "label", dates="drop")
    assert schema.features == ["size"] and schema.left_out == {"when": "dates (%Y-%m-%d)"}
    line = capsys.readouterr().out.strip()
    assert line.startswith("data: left out 'when', which holds dates (%Y-%m-%d)")
    assert "data.dates: days" in line
    _, listed, _ = prepare(frame, "label", features=["size", "when"], dates="drop")
    assert listed.dates == {"when": "%Y-%m-%d"}


def test_a_date_declared_categorical_is_a_category(capsys: pytest.CaptureFixture[str]) -> None:
    frame = table(when=np.asarray(DAYS.strftime("%Y-%m-%d"), dtype=object))
    typed, schema, _ = prepare(frame, "label", kinds={"when": CATEGORICAL})
    assert schema.kinds["when"] == CATEGORICAL and schema.dates == {}
    assert typed["when"].iloc[0] == "2023-12-25"


@pytest.mark.parametrize(
    "values",
    [
        ["Jan", "Feb", "Mar"],  # no year: a category
        ["A-12", "B-07", "C-03"],
        ["12:30", "08:15", "17:45"],  # times of day without a date
    ],
    ids=["month-names", "codes", "times"],
)
def test_text_that_is_not_a_date_stays_categorical(values: list[str]) -> None:
    frame = table(code=np.resize(np.array(values, dtype=object), ROWS))
    _, schema, _ = prepare(frame, "label")
    assert schema.kinds["code"] == CATEGORICAL and schema.dates == {}


def test_numbers_that_read_like_dates_stay_numbers() -> None:
    frame = table(stamp=np.resize([20240301, 20240302, 20230101, 20240301], ROWS))
    _, schema, _ = prepare(frame, "label")
    assert schema.kinds["stamp"] == NUMERIC and schema.dates == {}


def test_a_stray_text_among_dates_is_named_with_the_fix() -> None:
    written = np.asarray(DAYS.strftime("%Y-%m-%d"), dtype=object)
    written[[3, 50]] = "unknown"
    frame = table(when=written)
    with pytest.raises(PipelineError) as raised:
        prepare(frame, "label")
    assert str(raised.value) == (
        "column 'when' holds dates (%Y-%m-%d) but also the text 'unknown' (2 cells, the first in"
        ' row 4 of the data): declare them missing (data.missing_values: ["unknown"]) or the'
        ' column categorical (data.kinds: {"when": "categorical"}).'
    )
    typed, _, _ = prepare(frame, "label", missing_values=["unknown"])
    assert typed["when"].isna().sum() == 2


# --- numbers with placeholder texts -------------------------------------------------------------


def with_placeholders(share: float, *tokens: str) -> np.ndarray:
    values = RNG.normal(100, 20, ROWS).round(1).astype(object)
    spots = RNG.choice(ROWS, int(share * ROWS), replace=False)
    values[spots] = np.resize(np.array(tokens, dtype=object), len(spots))
    return values


@pytest.mark.parametrize(
    ("tokens", "listed"),
    [
        (("unknown",), "'unknown'"),
        (("?", "-", "n.a."), None),  # all three, most frequent first
    ],
    ids=["one-word", "symbols"],
)
def test_numbers_with_placeholder_texts_are_named_with_the_fix(
    tokens: tuple[str, ...], listed: str | None
) -> None:
    frame = table(power=with_placeholders(0.2, *tokens))
    with pytest.raises(PipelineError) as raised:
        prepare(frame, "label")
    message = str(raised.value)
    assert message.startswith("column 'power' holds numbers but also the text ")
    assert all(shown(token) in message for token in tokens)
    assert listed is None or listed in message
    assert "data.missing_values: [" in message and 'data.kinds: {"power": "categorical"}' in message
    typed, schema, _ = prepare(frame, "label", missing_values=list(tokens))
    assert schema.kinds["power"] == NUMERIC and schema.dtypes["power"] == "float"
    assert typed["power"].isna().sum() == int(0.2 * ROWS)


def test_text_with_a_few_numbers_stays_categorical() -> None:
    sizes = np.resize(np.array(["S", "M", "L", "XL", "XXL", "38", "40"], dtype=object), ROWS)
    _, schema, _ = prepare(table(fit=sizes), "label")
    assert schema.kinds["fit"] == CATEGORICAL


def test_a_numeric_placeholder_and_a_placeholder_target_are_missing() -> None:
    frame = table(depth=np.resize([3.5, -999.0, 4.25, 7.0], ROWS))
    frame.loc[[0, 1], "label"] = "unknown"
    typed, _, dropped = prepare(frame, "label", missing_values=[-999, "unknown"])
    assert dropped == 2 and typed["depth"].isna().sum() == ROWS // 4 - 1
    assert set(typed["label"]) == {"big", "small"}


# --- the delimiter --------------------------------------------------------------------------------


@pytest.mark.parametrize(("mark", "shown_as"), [(";", '";"'), ("\t", '"\\t"'), ("|", '"|"')])
def test_a_file_read_as_one_merged_column_gets_a_delimiter_hint(
    tmp_path: Path, mark: str, shown_as: str
) -> None:
    path = tmp_path / "rows.csv"
    support.mixed_frame(30).to_csv(path, sep=mark, index=False)
    with pytest.raises(PipelineError) as raised:
        load_source(str(path))
    message = str(raised.value)
    assert f"its delimiter looks like {shown_as}" in message and "\n" not in message
    assert message.endswith(f"declare it in the data config (data.delimiter: {shown_as}).")
    assert list(load_source(str(path), mark).columns) == list(support.mixed_frame(30).columns)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("5,1;3,5;a\n4,9;3,0;b\n", "reads as one column, 'width;height;label'"),
        ("5,1;3,5;a\n4,9;3,0,1;b\n", "is not a readable CSV table: "),  # 3 fields, then 4
    ],
    ids=["same-count", "parser-error"],
)
def test_a_semicolon_file_with_decimal_commas_gets_the_hint_too(
    tmp_path: Path, rows: str, message: str
) -> None:
    path = tmp_path / "european.csv"
    path.write_text("width;height;label\n" + rows, encoding="utf-8")
    with pytest.raises(PipelineError, match=message + r'.*\(data.delimiter: ";"\)\.$'):
        load_source(str(path))


def test_a_single_column_file_needs_no_hint(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("value\n1\n2\n", encoding="utf-8")
    assert list(load_source(str(path)).columns) == ["value"]


def test_the_data_stage_reads_with_the_declared_delimiter(tmp_path: Path) -> None:
    from {{ cookiecutter.module_name }}.data import load_schema, prepare_data

    source = tmp_path / "rows.csv"
    support.mixed_frame(60).to_csv(source, sep=";", index=False)
    overrides = [f"data.source={source}", "data.target=label", "data.delimiter=';'"]
    params = support.params(tmp_path, "data=csv", *overrides)
    prepare_data(params)
    schema = load_schema(Path(params.paths.schema_))
    assert isinstance(schema, TableSchema) and "city" in schema.features


# --- the switches are checked like every setting -------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("identifiers", "dorp", r"data.identifiers: Input should be 'drop' or 'keep'"),
        ("dates", "day", r"data.dates: Input should be 'days' or 'drop'"),
        ("delimiter", ";;", r"data.delimiter: must be one character"),
        ("missing_values", "unknown", r"data.missing_values: Input should be a valid list"),
    ],
)
def test_a_wrong_switch_is_named_with_its_values(key: str, value: str, message: str) -> None:
    raw = support.composed()
    raw["data"][key] = value
    with pytest.raises(PipelineError, match=rf"^params.yaml: {message}"):
        parse_params(raw)


def test_numbers_in_messages_are_plain_numbers() -> None:
    assert shown(np.float64(0.9167)) == "0.9167" and shown(np.int64(3)) == "3"
    assert shown("high") == "'high'" and shown(2.5) == "2.5"
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.5, 0.25, 1.5, 2.5]})
    with pytest.raises(PipelineError, match=r"\(for example 0.5\)"):
        prepare(frame, "y", task="classification")


# --- end to end: the data stage, training and batch prediction -----------------------------------


def own_table(rows: int = 240) -> pd.DataFrame:
    """What a first export of a real table looks like: an index, ids, names, dates, placeholders."""
    frame = support.mixed_frame(rows).drop(columns="label")
    frame.insert(0, "customer_id", np.arange(rows) * 7 + 1000)
    frame["name"] = [f"customer {i}" for i in RNG.permutation(rows)]
    frame["signed"] = np.asarray(
        (pd.Timestamp("2022-01-03") + pd.to_timedelta(np.arange(rows) * 31, unit="h")).strftime(
            "%Y-%m-%d"
        ),
        dtype=object,
    )
    frame["rooms"] = RNG.integers(1, 6, rows).astype(object)
    frame.loc[RNG.random(rows) < 0.15, "rooms"] = "unknown"
    return frame


def test_a_table_with_ids_and_dates_trains_on_what_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from {{ cookiecutter.module_name }}.artifact.read import load_artifacts
    from {{ cookiecutter.module_name }}.data import prepare_data
    from {{ cookiecutter.module_name }}.predict import predict_frame
    from {{ cookiecutter.module_name }}.train import train

    source = tmp_path / "own.csv"
    own_table().to_csv(source)  # with pandas' index: an `Unnamed: 0` column
    overrides = [
        f"data.source={source}",
        "data.target=price",
        "data.task=regression",
        "model=random_forest_regressor",
        "data.missing_values=[unknown]",
    ]
    params = support.params(tmp_path, "data=csv", *overrides)
    prepare_data(params)
    out = capsys.readouterr().out
    for name in ("Unnamed: 0", "customer_id", "name"):
        assert f"data: left out {name!r}, which identifies rows" in out
    schema = json.loads(Path(params.paths.schema_).read_text(encoding="utf-8"))
    assert set(schema["left_out"]) == {"Unnamed: 0", "customer_id", "name"}
    assert schema["dates"] == {"signed": "%Y-%m-%d"} and schema["kinds"]["rooms"] == NUMERIC
    train(params, track=False)
    model, meta = load_artifacts(Path(params.paths.model_dir))
    names = [feature.name for feature in meta.features]
    assert names == ["age", "income", "city", "member", "grade", "signed", "rooms"]
    assert [f.date_format for f in meta.features if f.name == "signed"] == ["%Y-%m-%d"]
    rows = own_table(12).drop(columns="price")
    rows["rooms"] = rows["rooms"].replace("unknown", None)  # new rows send a gap, not the token
    answered = predict_frame(model, meta, rows)  # the batch predictor takes the dates as text
    assert answered["prediction"].notna().all() and len(answered) == 12
    rows.loc[3, "signed"] = "03/01/2022"
    with pytest.raises(PipelineError) as raised:
        predict_frame(model, meta, rows)
    assert str(raised.value) == (
        "column 'signed' must hold dates written %Y-%m-%d, as in training, not '03/01/2022'"
        " (row 4)."
    )
