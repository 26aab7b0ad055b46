"""The report's Data section: rows per split, features by kind, missing values, and the target's
balance (classification) or range (regression)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from ..data import TableSchema
from ..utils.kinds import MISSING_CATEGORY, NUMERIC
from .inputs import Inputs
from .tables import literal, markdown_table


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f} %"


def data_summary(inputs: Inputs) -> dict[str, str]:
    """Markdown blocks: rows, features by kind, missing values, target balance or range."""
    schema = inputs.schema
    rows = markdown_table(
        ["Split", "Rows"],
        [
            ["training", len(inputs.train)],
            ["test", len(inputs.test)],
            ["total", len(inputs.train) + len(inputs.test)],
        ],
    )
    kinds = markdown_table(
        ["Kind", "Count", "Features"],
        [
            [kind, len(names), ", ".join(map(literal, names)) or "—"]
            for kind, names in (("numeric", schema.numeric), ("categorical", schema.categorical))
        ],
    )
    both = pd.concat([inputs.train, inputs.test], ignore_index=True)
    missing_rows = []
    for name in schema.features:
        column = both[name]
        count = int(
            column.isna().sum()
            if schema.kinds[name] == NUMERIC
            else (column == MISSING_CATEGORY).sum()
        )
        if count:
            missing_rows.append([literal(name), schema.kinds[name], count, share(count, len(both))])
    missing = (
        markdown_table(["Feature", "Kind", "Missing", "Share"], missing_rows)
        if missing_rows
        else "No feature has missing values.\n"
    )
    target = both[schema.target]
    if schema.task == "classification":
        counts = target.value_counts().sort_index()
        balance = markdown_table(
            ["Class", "Rows", "Share"],
            [[str(label), int(n), share(n, len(target))] for label, n in counts.items()],
        )
    else:
        values = target.astype(float)
        balance = markdown_table(
            ["Statistic", "Value"],
            [
                ["minimum", values.min()],
                ["median", values.median()],
                ["mean", values.mean()],
                ["standard deviation", values.std()],
                ["maximum", values.max()],
            ],
        )
    return {"rows": rows, "kinds": kinds, "missing": missing, "target": balance}


def rows_note(schema: TableSchema) -> str:
    """What the data stage did with the rows, as it recorded it in the schema."""
    if schema.rows_read is None or schema.rows_without_target is None:
        return ""  # a schema from before the data stage recorded it: say nothing rather than guess
    if not schema.rows_without_target:
        return f" The data stage read {schema.rows_read:,} rows, each with a target."
    return (
        f" The data stage read {schema.rows_read:,} rows and dropped the"
        f" {schema.rows_without_target:,} without a target."
    )


def data_section(inputs: Inputs, summary: Mapping[str, str]) -> str:
    kind = "Classes" if inputs.schema.task == "classification" else "Range"
    return (
        f"## Data\n\n`{inputs.params.data.name}` (`{inputs.params.data.source}`), target"
        f" `{inputs.schema.target}`, {inputs.schema.task}.{rows_note(inputs.schema)}\n\n"
        f"### Rows\n\n{summary['rows']}\n### Features by kind\n\n{summary['kinds']}\n"
        f"### Missing values\n\n{summary['missing']}\n"
        f"### Target: {kind.lower()}\n\n{summary['target']}"
    )
