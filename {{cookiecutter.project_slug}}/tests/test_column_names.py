"""Any column name a table may hold goes through the whole pipeline: the data stage, training (with
its ONNX export kept, and the mapping of names to ONNX inputs recorded), evaluation, the report
(names shown as written, in tables and plots) and batch predictions; and category text is normalised
as the data config says, in training and in everything that serves the model."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import support

from {{ cookiecutter.module_name }}.artifact.meta import ONNX_FILE
from {{ cookiecutter.module_name }}.artifact.read import load_artifacts
from {{ cookiecutter.module_name }}.data import prepare_data
from {{ cookiecutter.module_name }}.predict import main as predict_main
from {{ cookiecutter.module_name }}.reports.report import write_report
from {{ cookiecutter.module_name }}.reports.tables import literal
from {{ cookiecutter.module_name }}.stages import evaluate
from {{ cookiecutter.module_name }}.train import train
from {{ cookiecutter.module_name }}.utils.kinds import CategoryRule

# Spaces, dots, slashes, brackets, unicode, a leading digit, a Python keyword, JSON Schema
# keywords, Markdown and HTML, matplotlib's mathematical notation, a very long name.
NAMES = {
    "age": "age (years)",
    "income": "income.usd/yr",
    "city": "home city ü",
    "member": "class",
    "grade": "1st *grade*",
}
EXTRA = ["$ref", "x<b>y</b>", r"$\frac$", "long " * 50]


def awkward_table(path: Path, rows: int = 200) -> Path:
    rng = np.random.default_rng(1)
    frame = support.mixed_frame(rows).drop(columns="price").rename(columns=NAMES)
    frame["home city ü"] = frame["home city ü"].map(
        {"Paris": " Paris", "Lyon": "LYON", "Nice": "nice"}, na_action="ignore"
    )
    for name in EXTRA:
        frame[name] = rng.normal(size=rows).round(3)
    frame = frame.rename(columns={"label": "the target"})
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def trained_awkward(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("awkward")
    source = awkward_table(root / "awkward.csv")
    params = support.params(
        root,
        f"data.source={source}",
        "data.target='the target'",
        "data.features=null",
        "data.normalize_categories.case=lower",
    )
    prepare_data(params)
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        train(params, track=False)
    (root / "train.out").write_text(printed.getvalue(), encoding="utf-8")
    evaluate.run(params)
    write_report(params, root / "report.md", root / "report.html", root / "card.md", runs=None)
    return root


def test_training_keeps_the_onnx_export_and_records_the_input_names(trained_awkward: Path) -> None:
    _, meta = load_artifacts(trained_awkward / "models")
    names = {*NAMES.values(), *EXTRA}
    assert {f.name for f in meta.features} == names
    assert (trained_awkward / "models" / ONNX_FILE).is_file() and meta.onnx_skipped is None
    assert meta.onnx_inputs is not None and set(meta.onnx_inputs) == names
    printed = (trained_awkward / "train.out").read_text(encoding="utf-8").splitlines()
    assert printed[-1].startswith("train: ONNX export kept (checked on ")


def test_category_text_is_normalised_as_configured(trained_awkward: Path) -> None:
    _, meta = load_artifacts(trained_awkward / "models")
    assert meta.normalize_categories == CategoryRule(strip=True, case="lower")
    city = next(f for f in meta.features if f.name == "home city ü")
    assert city.categories == ["lyon", "nice", "paris"]


def test_the_report_shows_the_names_as_written(trained_awkward: Path) -> None:
    page = (trained_awkward / "report.md").read_text(encoding="utf-8")
    for name in [*NAMES.values(), *EXTRA]:
        assert literal(name) in page, name
    html = (trained_awkward / "report.html").read_text(encoding="utf-8")
    assert "x&lt;b&gt;y&lt;/b&gt;" in html and "<b>y</b>" not in html
    assert "1st *grade*" in html  # not emphasis
    assert (trained_awkward / "report" / "feature_importance.png").stat().st_size > 0


def test_batch_predictions_keep_the_names_and_count_unseen_categories(
    trained_awkward: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = pd.read_csv(trained_awkward / "awkward.csv").drop(columns="the target").head(5)
    rows["home city ü"] = ["PARIS ", "Rome", "Oslo", None, "nice"]
    rows.to_csv(tmp_path / "rows.csv", index=False)
    out = tmp_path / "out.csv"
    predict_main(
        [str(tmp_path / "rows.csv"), str(out), "--model-dir", str(trained_awkward / "models")]
    )
    written = pd.read_csv(out)
    assert list(written.columns[: len(rows.columns)]) == list(rows.columns)
    assert "categories never seen in training, predicted anyway: 'home city ü' in 2 rows" in (
        capsys.readouterr().err
    )


def test_batch_predictions_never_overwrite_a_column_of_the_table(trained_awkward: Path) -> None:
    from {{ cookiecutter.module_name }}.predict import predict_frame

    model, meta = load_artifacts(trained_awkward / "models")
    rows = pd.read_csv(trained_awkward / "awkward.csv").head(4)
    rows["prediction"] = "the user's"
    rows["proba_high"] = -1.0
    answered = predict_frame(model, meta, rows)
    assert answered["prediction"].tolist() == ["the user's"] * 4
    assert answered["proba_high"].tolist() == [-1.0] * 4
    assert set(answered["prediction_"]) <= {"high", "low"}
    assert answered["proba_high_"].between(0, 1).all()


def test_a_typo_in_the_normalisation_is_refused_naming_the_setting() -> None:
    from {{ cookiecutter.module_name }}.params import parse_params
    from {{ cookiecutter.module_name }}.utils.errors import PipelineError

    raw = support.composed()
    raw["data"]["normalize_categories"]["case"] = "upper"
    expected = r"data\.normalize_categories\.case: .*'keep' or 'lower'"
    with pytest.raises(PipelineError, match=expected):
        parse_params(raw)
