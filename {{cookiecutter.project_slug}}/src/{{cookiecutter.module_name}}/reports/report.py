"""The results report of the current model: `make report`.

    python -m {{ cookiecutter.module_name }}.reports.report
    python -m {{ cookiecutter.module_name }}.reports.report --no-compare    # without the experiments table

Reads what the pipeline wrote (params.yaml, the test split, models/, reports/metrics.json,
reports/predictions.csv, reports/lineage.json) and your model card notes (docs/model-card.md), and
writes:

    docs/report.md        the page of the docs site (`make docs` builds it), images beside it in
    docs/report/*.png     (confusion matrix or predicted-vs-actual and residuals; importance)
    reports/report.html   the same page in one file, images inlined: it opens offline, anywhere

It is not a DVC stage on purpose: it shows the MLflow run and compares experiments, which are
outside the pipeline, and drawing plots would slow every `dvc repro`. It changes no file DVC tracks.
"""

from __future__ import annotations

import base64
import sys
from collections.abc import Sequence
from pathlib import Path

from ..config import load_params
from ..params import Params
from ..utils import files
from ..utils.cli import command_parser
from ..utils.errors import exit_on_error
from .data_section import data_summary
from .figures import figures, read_studies
from .inputs import read_inputs
from .model_card import MODEL_CARD, read_user_sections, render
from .page import build_markdown, to_html
from .sections import card_facts, comparison_section, search_section

# The report's parts: inputs.py reads the pipeline's files, figures.py draws, data_section.py and
# sections.py write the Markdown sections, page.py puts them in order and renders the HTML.
REPORT_MD = Path("docs/report.md")
REPORT_HTML = Path("reports/report.html")


def write_report(
    params: Params,
    markdown_path: Path = REPORT_MD,
    html_path: Path = REPORT_HTML,
    card_path: Path = MODEL_CARD,
    runs: int | None = 10,
) -> list[Path]:
    """Write the page, its images and the HTML file; return the paths written.

    runs=None leaves out the comparison of experiments (DVC and MLflow are not asked).
    """
    inputs = read_inputs(params)
    shown, note = figures(inputs)
    image_dir = markdown_path.with_suffix("")
    summary = data_summary(inputs)
    card = render(card_facts(inputs), read_user_sections(card_path), card_path)
    comparison = None if runs is None else comparison_section(params, runs)
    # The searches of `make tune`, like the comparison, come from outside the pipeline's files.
    searches = read_studies() if runs is not None else []
    search_figures = [f for _, _, figs in searches for f in figs]
    search = (lambda source: search_section(searches, source)) if searches else None
    page = build_markdown(
        inputs,
        summary,
        shown,
        note,
        lambda f: f"{image_dir.name}/{f.name}.png",
        card,
        comparison,
        search,
    )
    inline = build_markdown(
        inputs,
        summary,
        shown,
        note,
        lambda f: "data:image/png;base64," + base64.b64encode(f.png).decode("ascii"),
        card,
        comparison,
        search,
    )
    written = []
    image_dir.mkdir(parents=True, exist_ok=True)
    for old in image_dir.glob("*.png"):  # a plot of another task must not linger
        if old.stem not in {f.name for f in [*shown, *search_figures]}:
            old.unlink()
    for figure in [*shown, *search_figures]:
        path = image_dir / f"{figure.name}.png"
        files.write_bytes(path, figure.png)
        written.append(path)
    files.write_text(markdown_path, page)
    files.write_text(html_path, to_html(inline))
    return [markdown_path, *written, html_path]


@exit_on_error
def main(argv: Sequence[str] | None = None) -> None:
    parser = command_parser("reports.report", __doc__)
    parser.add_argument("--params", type=Path, default=Path("params.yaml"))
    parser.add_argument("--markdown", type=Path, default=REPORT_MD, help="the docs page")
    parser.add_argument("--html", type=Path, default=REPORT_HTML, help="the one-file page")
    parser.add_argument("--model-card", type=Path, default=MODEL_CARD, help="your card sections")
    parser.add_argument("--runs", type=int, default=10, help="newest MLflow runs to compare")
    parser.add_argument(
        "--no-compare", action="store_true", help="leave out the comparison and the searches"
    )
    args = parser.parse_args(argv)
    if args.runs < 0:
        parser.error("--runs must be 0 or more")
    written = write_report(
        load_params(args.params),
        args.markdown,
        args.html,
        args.model_card,
        None if args.no_compare else args.runs,
    )
    print("report: wrote " + ", ".join(str(path) for path in written))


if __name__ == "__main__":
    sys.exit(main())
