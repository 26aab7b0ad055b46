"""Markdown tables and cell values, shared by the report, `make compare` and the PR comment."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

# Longer cell values (a list of 50 feature names) are cut: a table must stay readable.
MAX_CELL = 48
ABSENT = "—"
# An underscore that may open or close emphasis: not between two letters or digits.
EDGE_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")


def cell(value: Any, limit: int | None = None) -> str:
    """A value as table text: numbers without float noise, nothing as a dash, pipes escaped."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ABSENT
    if isinstance(value, bool):
        text = str(value)
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def literal(text: str) -> str:
    """Text (a column name) shown as written in Markdown: no emphasis, link, code or HTML in it.
    An underscore inside a word (sepal_length) emphasises nothing, and stays as it is."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for special in "\\`*[]":
        text = text.replace(special, "\\" + special)
    return EDGE_UNDERSCORE.sub(r"\\_", text)


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], limit: int | None = None
) -> str:
    """A GitHub/MkDocs Markdown table; numbers right-aligned, cells cut at `limit` characters."""
    texts = [[cell(value, limit) for value in row] for row in rows]
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) or row[i] is None for row in rows)
        for i in range(len(headers))
    ]
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---:" if right else "---" for right in numeric) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in texts]
    return "\n".join(lines) + "\n"
