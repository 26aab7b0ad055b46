"""The paper table: numbers as the runs hold them, best in bold, significance marked, and LaTeX that
a TeX run would accept (checked by parsing it: balanced groups, one cell per column)."""

from __future__ import annotations

import re

from {{ cookiecutter.module_name }}.reports.experiments import Row
from {{ cookiecutter.module_name }}.reports.paper_table import build_table, latex_escape, to_latex, to_markdown

FOLDS = 5


def row(name: str, scores: list[float], split: str = "s1") -> Row:
    mean = sum(scores) / len(scores)
    std = (sum((s - mean) ** 2 for s in scores) / (len(scores) - 1)) ** 0.5
    summary = {"mean": round(mean, 6), "std": round(std, 6), "low": 0.0, "high": 1.0}
    return Row(
        "MLflow",
        f"{name} (0123abcd)",
        cv={"accuracy": summary, "f1_macro": summary},
        folds={"accuracy": scores, "f1_macro": scores},
        split_id=split,
        k=FOLDS,
        run_id=f"{name}-id",
    )


def check_latex(text: str, columns: int) -> None:
    """Balanced braces and environments, and every tabular row with `columns` cells."""
    depth = 0
    for char in re.sub(r"\\[{}]", "", text):
        depth += {"{": 1, "}": -1}.get(char, 0)
        assert depth >= 0, "a } closes nothing"
    assert depth == 0, "an unclosed {"
    begins = re.findall(r"\\begin\{(\w+)\}", text)
    assert begins == list(reversed(re.findall(r"\\end\{(\w+)\}", text)))
    spec = re.search(r"\\begin\{tabular\}\{([lcr]+)\}", text)
    assert spec is not None and len(spec.group(1)) == columns
    body = text.split(r"\midrule")[1].split(r"\bottomrule")[0]
    header = text.split(r"\toprule")[1].split(r"\midrule")[0]
    for line in [header, *body.strip().splitlines()]:
        assert line.strip().endswith(r"\\"), line
        assert len(re.split(r"(?<!\\)&", line)) == columns, line
    assert r"\toprule" in text and r"\bottomrule" in text


def test_the_table_bolds_the_best_and_marks_significant_differences() -> None:
    baseline = row("forest_v1", [0.80, 0.82, 0.81, 0.79, 0.80])
    better = row("forest_100%_#2", [0.90, 0.93, 0.91, 0.92, 0.90])
    close = row("linear", [0.81, 0.80, 0.82, 0.79, 0.81])
    elsewhere = row("other_data", [0.99, 0.99, 0.98, 0.99, 0.99], split="s2")
    rows = [baseline, better, close, elsewhere]
    table = build_table(rows, baseline, "classification", 0.95)
    latex, markdown = to_latex(table), to_markdown(table)
    check_latex(latex, columns=3)
    assert table.metrics == ["accuracy", "f1_macro"]
    lines = {line.split(" & ")[0].strip(): line for line in latex.splitlines() if " & " in line}
    mean, std = better.cv["accuracy"]["mean"], better.cv["accuracy"]["std"]
    dagger = f"${mean:.3f} \\pm {std:.3f}$" + r"\textsuperscript{\dag}"
    assert dagger in lines[latex_escape("forest_100%_#2")]
    assert r"\mathbf" in lines["other\\_data"]  # the best mean, bold, but on other folds: no dagger
    assert r"\dag" not in lines["other\\_data"] and r"\dag" not in lines["linear"]
    assert "forest\\_v1 (baseline)" in lines
    assert "| forest_v1 (baseline) |" in markdown
    assert f"| forest_100%_#2 | {mean:.3f} ± {std:.3f} † |" in markdown
    assert "| other_data | **0.988 ± 0.004** | **0.988 ± 0.004** |" in markdown


def test_latex_special_characters_are_escaped() -> None:
    assert latex_escape(r"a_b&c%d$e#f{g}h~i^j\k") == (
        r"a\_b\&c\%d\$e\#f\{g\}h\textasciitilde{}i\textasciicircum{}j\textbackslash{}k"
    )
