"""The results report, built from a small trained pipeline under tmp_path."""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import support
from PIL import Image
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from {{ cookiecutter.module_name }}.data import prepare_data
from {{ cookiecutter.module_name }}.params import Params
from {{ cookiecutter.module_name }}.reports.importance import feature_importance
from {{ cookiecutter.module_name }}.reports.model_card import user_sections
from {{ cookiecutter.module_name }}.reports.report import write_report
from {{ cookiecutter.module_name }}.stages import evaluate
from {{ cookiecutter.module_name }}.train import train
from {{ cookiecutter.module_name }}.utils.files import write_text

CARD = """<!-- a comment the card leaves out -->
# My notes

## Intended use

Sorting irises in the *teaching* garden.

## Limitations

Never seen a hybrid.

## Evaluation

Checked by hand on 10 flowers.
"""


def trained(params: Params) -> Params:
    prepare_data(params)
    train(params, track=False)
    evaluate.run(params)
    return params


def report(params: Params, tmp_path: Path, card: str | None = None) -> dict[str, Path]:
    out = {
        "md": tmp_path / "docs" / "report.md",
        "html": tmp_path / "reports" / "report.html",
        "card": tmp_path / "docs" / "model-card.md",
    }
    if card is not None:
        write_text(out["card"], card)
    write_report(params, out["md"], out["html"], out["card"], runs=None)
    return out


def table_value(markdown: str, label: str) -> str:
    """The last cell of the table row whose first cell is `label` (or starts with it in bold)."""
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("|") and (cells[0] == label or cells[0].startswith(f"**{label}**")):
            return cells[-1]
    raise AssertionError(f"no table row for {label!r}")


def decode(data: bytes) -> tuple[int, int]:
    image = Image.open(io.BytesIO(data))
    image.load()  # decodes every pixel: a damaged file raises here
    return image.size


@pytest.fixture(scope="module")
def trained_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory holding the pipeline's outputs of the default classifier, trained once."""
    root = tmp_path_factory.mktemp("trained")
    trained(support.params(root))
    return root


@pytest.fixture
def classification(trained_root: Path) -> Params:
    """Params of the module's trained classifier: read only (copy trained_root to change it)."""
    return support.params(trained_root)


def test_the_report_shows_the_metrics_plots_data_lineage_and_card(
    classification: Params, tmp_path: Path
) -> None:
    out = report(classification, tmp_path, CARD)
    page = out["md"].read_text(encoding="utf-8")
    metrics = json.loads(Path(classification.paths.metrics).read_text(encoding="utf-8"))
    for name in ("accuracy", "f1_macro", "n_test"):
        assert table_value(page, name) == f"{metrics[name]:.6g}", name
    # Each metric's intervals, as metrics.json holds them.
    uncertainty = page.split("## Uncertainty", 1)[1].split("\n## ", 1)[0]
    for name in ("accuracy", "f1_macro"):
        test, cv = metrics["test_interval"][name], metrics["cv"][name]
        row = f"| {name} | {metrics[name]:.6g} | [{test['low']:.4g}, {test['high']:.4g}] |"
        assert row in uncertainty, row
        assert f"| {cv['mean']:.4g} ± {cv['std']:.4g} | [{cv['low']:.4g}, {cv['high']:.4g}] |" in (
            uncertainty
        )
    images = sorted((tmp_path / "docs" / "report").glob("*.png"))
    assert [p.name for p in images] == [
        "confusion_matrix.png",
        "cv_folds.png",
        "feature_importance.png",
    ]
    for path in images:
        width, height = decode(path.read_bytes())
        assert width > 200 and height > 150, path.name
        assert f"](report/{path.name})" in page
    # The HTML file inlines the same images: nothing outside it is referenced.
    html = out["html"].read_text(encoding="utf-8")
    inlined = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert [base64.b64decode(data) for data in inlined] == [p.read_bytes() for p in images]
    assert "report/" not in re.sub(r"data:image[^\"]+", "", html) and "<table>" in html
    # Data summary, lineage, and the card with the user's sections merged in.
    assert table_value(page, "training") == "120" and table_value(page, "test") == "30"
    assert table_value(page, "numeric") == ", ".join(support.IRIS_FEATURES)
    assert "No feature has missing values." in page
    assert table_value(page, "Configuration") == classification.name
    assert "Sorting irises in the *teaching* garden." in page
    assert "Never seen a hybrid." in page and "Checked by hand on 10 flowers." in page
    assert "a comment the card leaves out" not in page
    card = page.index("## Model card")
    order = [page.index(f"### {title}", card) for title in ("Intended use", "Training data")]
    order += [page.index(f"### {title}", card) for title in ("Evaluation", "Limitations")]
    assert order == sorted(order)
    # The user's file is read, never written.
    assert out["card"].read_text(encoding="utf-8") == CARD


def test_the_data_section_says_what_the_data_stage_did_with_the_rows(
    classification: Params, tmp_path: Path
) -> None:
    page = report(classification, tmp_path)["md"].read_text(encoding="utf-8")
    assert "The data stage read 150 rows, each with a target." in page and "dropped" not in page
    # A table with rows that lack a target: the report counts what the data stage dropped.
    source = tmp_path / "gaps.csv"
    frame = support.mixed_frame(120).drop(columns="price")
    frame.loc[[3, 50, 77], "label"] = None
    frame.to_csv(source, index=False)
    own = trained(
        support.params(tmp_path / "gaps", "data=csv", f"data.source={source}", "data.target=label")
    )
    page = report(own, tmp_path / "gaps")["md"].read_text(encoding="utf-8")
    assert "The data stage read 120 rows and dropped the 3 without a target." in page
    assert table_value(page, "total") == "117"


@pytest.mark.parametrize("umask", [0o022, 0o007])
def test_written_files_get_the_permissions_the_umask_gives(
    classification: Params, tmp_path: Path, umask: int
) -> None:
    """Files are written atomically, through a temporary file: it must not make them private."""
    previous = os.umask(umask)
    try:
        pipeline = support.params(tmp_path / "pipeline")
        prepare_data(pipeline)
        written = [Path(path) for _, path in pipeline.paths if Path(path).is_file()]
        out = report(classification, tmp_path)
        written += [out["md"], out["html"], *(tmp_path / "docs" / "report").glob("*.png")]
    finally:
        os.umask(previous)
    assert len(written) >= 8
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask, path


def test_unwritten_card_sections_are_marked(classification: Params, tmp_path: Path) -> None:
    page = report(classification, tmp_path)["md"].read_text(encoding="utf-8")
    assert page.count("*Not written yet:") == 2


def test_a_metrics_file_of_another_model_is_flagged(trained_root: Path, tmp_path: Path) -> None:
    own = support.params(shutil.copytree(trained_root, tmp_path / "trained"))
    write_text(Path(own.paths.metrics), json.dumps({"accuracy": 0.1, "f1_macro": 0.1, "n_test": 6}))
    page = report(own, tmp_path)["md"].read_text(encoding="utf-8")
    assert '!!! warning "Out of date"' in page


def test_a_regression_report_draws_predicted_vs_actual_and_residuals(tmp_path: Path) -> None:
    params = trained(support.params(tmp_path, "experiment=regression"))
    out = report(params, tmp_path)
    page = out["md"].read_text(encoding="utf-8")
    names = sorted(p.name for p in (tmp_path / "docs" / "report").glob("*.png"))
    assert names == [
        "cv_folds.png",
        "feature_importance.png",
        "predicted_vs_actual.png",
        "residuals.png",
    ]
    assert "| **rmse** (primary, lower is better) |" in page
    assert table_value(page, "maximum") != "—" and "### Target: range" in page


def test_the_plots_are_the_same_bytes_every_time(classification: Params, tmp_path: Path) -> None:
    written = []
    for _ in range(2):
        out = report(classification, tmp_path)
        images = sorted((tmp_path / "docs" / "report").glob("*.png"))
        written.append([p.read_bytes() for p in [out["md"], out["html"], *images]])
    assert written[0] == written[1]


@pytest.mark.slow
def test_without_a_trained_model_the_command_says_to_run_the_pipeline(tmp_path: Path) -> None:
    raw = support.composed()  # paths relative to tmp_path, where nothing was trained
    params_file = support.write_params(tmp_path / "params.yaml", raw)
    result = subprocess.run(
        [sys.executable, "-m", "{{ cookiecutter.module_name }}.reports.report", "--params", str(params_file)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("ERROR: ") and "dvc repro data" in result.stderr
    assert not (tmp_path / "docs").exists()


def test_importance_comes_from_coefficients_or_permutation(tmp_path: Path) -> None:
    frame = support.iris_frame()
    model, _, x, y = support.fit_pipeline(
        tmp_path, frame, "species", "classification", "model=logistic_regression"
    )
    found, note = feature_importance(model, x, y, seed=0)
    assert found is not None and "coefficients" in note
    assert list(found.values.index[:1]) in (["petal_width"], ["petal_length"])
    # No feature_importances_, no coef_: measured by shuffling each column of the test split.
    model = make_pipeline(StandardScaler(), KNeighborsClassifier()).fit(x, y)
    found, note = feature_importance(model, x, y, seed=0)
    assert found is not None and "permutation" in note
    assert sorted(found.values.index) == sorted(support.IRIS_FEATURES)


def test_importance_is_skipped_with_a_note_when_too_costly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from {{ cookiecutter.module_name }}.reports import importance

    model, _, x, y = support.fit_pipeline(
        tmp_path, support.iris_frame(), "species", "classification"
    )
    monkeypatch.setattr(importance, "native", lambda model: None)
    monkeypatch.setattr(importance, "PERMUTATION_BUDGET", 10)
    found, note = feature_importance(model, x, y, seed=0)
    assert found is None and note.startswith("No feature importance")


def test_card_sections_are_read_by_heading() -> None:
    sections = user_sections(CARD)
    assert list(sections) == ["Intended use", "Limitations", "Evaluation"]
    assert sections["Limitations"] == "Never seen a hybrid."


def test_tables_keep_full_values(classification: Params, tmp_path: Path) -> None:
    page = report(classification, tmp_path)["md"].read_text(encoding="utf-8")
    assert "…" not in page.split("## Experiments compared")[0]
