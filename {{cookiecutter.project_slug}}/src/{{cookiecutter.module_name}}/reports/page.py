"""The report's page: the sections in order as Markdown, and the same as one self-contained HTML
file (styles inline, images as data URLs)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from .data_section import data_section
from .figures import Figure
from .inputs import Inputs
from .model_card import MODEL_CARD
from .sections import lineage_section, metrics_section, plots_section, uncertainty_section

TITLE = "Results report"
STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #222; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.6rem; text-align: left; }
tr:nth-child(even) { background: #f6f6f6; }
img { max-width: 100%; }
pre { background: #f4f4f4; padding: 0.75rem; overflow-x: auto; }
.admonition { border-left: 4px solid #e0a800; background: #fff8e1; padding: 0.25rem 1rem; }
.admonition-title { font-weight: bold; }
"""


def build_markdown(
    inputs: Inputs,
    summary: Mapping[str, str],
    shown: Sequence[Figure],
    note: str,
    source: Callable[[Figure], str],
    card: str,
    comparison: str | None,
    search: Callable[[Callable[[Figure], str]], str] | None = None,
) -> str:
    parts = [
        f"# {TITLE}\n\n"
        f"The model in `{inputs.params.paths.model_dir}/`, written by `make report` from the"
        " pipeline's files. Edit the model card's own sections in"
        f" `{MODEL_CARD}`; everything else here is generated.\n",
        metrics_section(inputs),
        uncertainty_section(inputs),
        plots_section(shown, note, source),
        data_section(inputs, summary),
        lineage_section(inputs),
        card,
    ]
    if comparison is not None:
        parts.append(comparison)
    if search is not None:
        parts.append(search(source))
    return "\n".join(part.rstrip("\n") + "\n" for part in parts)


def to_html(markdown_text: str) -> str:
    """One self-contained page: the Markdown rendered, the styles inline, no external reference."""
    import markdown

    body = markdown.markdown(
        markdown_text, extensions=["tables", "fenced_code", "admonition", "toc"]
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{TITLE}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n"
        "</html>\n"
    )
