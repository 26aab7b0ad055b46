"""The update command's merge of the hunks git could not place (tools/update_template.py, imported from the
template): cruft falls back to `git apply --reject`, whose `.rej` files the command turns into conflict markers.
"""

from __future__ import annotations

import functools
import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from helpers import TEMPLATE_DIR, git

TOOL = TEMPLATE_DIR / "{{cookiecutter.project_slug}}" / "tools" / "update_template.py"


@functools.cache
def load_tool() -> ModuleType:
    """tools/update_template.py holds no template syntax: it is imported straight from the template."""
    spec = importlib.util.spec_from_file_location("update_template", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    writes_bytecode, sys.dont_write_bytecode = sys.dont_write_bytecode, True  # no __pycache__ in the template
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = writes_bytecode
    return module


def resolve(text: str, side: str) -> str:
    """The file with every conflict settled on one side: "ours" (the project) or "theirs" (the template)."""
    pattern = re.compile(
        r"^<<<<<<< this project\r?\n(.*?)^=======\r?\n(.*?)^>>>>>>> template [^\r\n]*\r?\n", re.M | re.S
    )
    return pattern.sub(lambda m: m.group(1) if side == "ours" else m.group(2), text)


LINES = "".join(f"{i}\n" for i in range(30))
# A template's change to a file the project changed too: (old, new) as the template rendered it, the project's
# file, and that file with every conflict settled on the template's side.
MERGE_CASES = {
    "the same line": (
        "one\ntwo\nthree\nfour\nfive\nsix\nseven\n",
        "one\ntwo\nthree\nFOUR (template)\nfive\nsix\nseven\n",
        "one\ntwo\nthree\nfour (project)\nfive\nsix\nseven\n",
        "one\ntwo\nthree\nFOUR (template)\nfive\nsix\nseven\n",
    ),
    "moved down and edited": (
        "a\nb\nc\nd\ne\nf\ng\n",
        "a\nb\nc\nD\ne\nf\ng\n",
        "".join(f"added {i}\n" for i in range(40)) + "a\nb\nc\nd, edited\ne\nf\ng\n",
        "".join(f"added {i}\n" for i in range(40)) + "a\nb\nc\nD\ne\nf\ng\n",
    ),
    "the end of a file without a newline": (
        "1\n2\n3\n4\nlast",
        "1\n2\n3\n4\nlast, template",
        "1\n2\n3\n4\nlast, project",
        "1\n2\n3\n4\nlast, template\n",
    ),
    "two hunks": (
        LINES,
        LINES.replace("\n5\n", "\nfive\n").replace("\n25\n", "\ntwenty-five\n"),
        LINES.replace("\n5\n", "\n5!\n").replace("\n25\n", "\n25!\n"),
        LINES.replace("\n5\n", "\nfive\n").replace("\n25\n", "\ntwenty-five\n"),
    ),
    "context rewritten": (
        "a\nb\nc\nd\ne\nf\ng\n",
        "a\nb\nc\nD\ne\nf\ng\n",
        "A\nB\nC\nd?\nE\nF\nG\n",
        "A\nB\nC\nD\nE\nF\nG\n",  # no context to go by: at the line's old place
    ),
    "windows line endings": (
        "one\r\ntwo\r\nthree\r\nfour\r\nfive\r\n",
        "one\r\ntwo\r\nthree\r\nFOUR\r\nfive\r\n",
        "one\r\ntwo\r\nthree\r\n4\r\nfive\r\n",
        "one\r\ntwo\r\nthree\r\nFOUR\r\nfive\r\n",
    ),
}


@pytest.mark.parametrize("case", MERGE_CASES)
def test_hunks_git_cannot_place_become_conflict_markers(tmp_path: Path, case: str) -> None:
    """cruft's fallback is `git apply --reject`: the hunks it cannot place go to a .rej file. Merged into the
    file, each becomes a conflict between exactly the project's lines and the template's: settled on the
    project's side it gives the project's file back, nothing lost; on the template's, the template's change."""
    old, new, ours, theirs = MERGE_CASES[case]
    for name, text in {"old/f.txt": old, "new/f.txt": new, "project/f.txt": ours}.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(text.encode())
    # As cruft makes and applies it; bytes, so that carriage returns stay.
    diff = subprocess.run(["git", "diff", "--no-index", "old/f.txt", "new/f.txt"], cwd=tmp_path, capture_output=True)
    project = tmp_path / "project"
    git(project, "init", "--quiet")
    applied = subprocess.run(["git", "apply", "--reject", "-p2"], cwd=project, input=diff.stdout, capture_output=True)
    assert applied.returncode != 0 and (project / "f.txt.rej").is_file(), "the case must defeat git apply"

    load_tool().merge_rejected_hunks(project / "f.txt", project / "f.txt.rej", "template 0123456789")
    merged = (project / "f.txt").read_bytes().decode()
    conflicts = len(re.findall(r"^<<<<<<< this project\r?$", merged, re.M))
    assert conflicts == (2 if case == "two hunks" else 1), merged
    assert len(re.findall(r"^>>>>>>> template 0123456789\r?$", merged, re.M)) == conflicts
    eol = "\r\n" if "\r\n" in ours else "\n"
    assert merged.count(eol) == merged.count("\n"), "the file's line endings are kept"
    assert resolve(merged, "ours") in (ours, ours + eol)  # a last line without newline gets one
    assert resolve(merged, "theirs") == theirs


def test_a_rejected_hunk_the_project_already_has_adds_no_conflict(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("a\nb\nc\nNEW\ne\nf\ng\n")
    (tmp_path / "f.txt.rej").write_text(
        "diff a/f.txt b/f.txt\t(rejected hunks)\n@@ -1,7 +1,7 @@\n a\n b\n c\n-d\n+NEW\n e\n f\n g\n"
    )
    load_tool().merge_rejected_hunks(target, tmp_path / "f.txt.rej", "template x")
    assert target.read_text() == "a\nb\nc\nNEW\ne\nf\ng\n"
