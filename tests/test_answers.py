"""The answer checks of hooks/answers.py on their own, and the import-name data they read.

Refused answers are tested end to end through the cookiecutter CLI in test_prompts.py; these tests pin down
what that cannot show: each field's own pattern (not only the catch-all for line breaks), and that
hooks/import_names.json follows the generated project's lock files.
"""

from __future__ import annotations

import json
import keyword
import sys
from pathlib import Path

import pytest
from helpers import TEMPLATE_DIR

sys.path.insert(0, str(TEMPLATE_DIR / "hooks"))

import answers
import refresh_import_names


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (answers.check_slug, "iris-classifier\n"),
        (answers.check_module, "iris_classifier\n"),
        (answers.check_email, "me@example.com\n"),
        (answers.check_registry, "ghcr.io/me\n"),
        (answers.check_image_name, "iris\n"),
        (answers.check_remote, "s3://bucket/path\n"),
        (answers.check_tracking_uri, "http://mlflow:5000\n"),
        (answers.check_tracking_uri, "sqlite:///mlflow.db\n"),
    ],
    ids=lambda value: getattr(value, "__name__", None) or repr(value),
)
def test_field_patterns_refuse_a_trailing_newline(check, value: str) -> None:
    """`$` matches before a final newline: every pattern must match the whole answer."""
    assert check(value.rstrip("\n")) is None
    assert check(value) is not None


@pytest.mark.parametrize(
    "email",
    ["me@example.com", "first.last+ml@sub.example.co.uk", "o_k-1%x@example.org", "jose@exämple.de"],
)
def test_plain_e_mails_are_accepted(email: str) -> None:
    assert answers.check_email(email) is None


def test_import_names_cover_exactly_the_locked_distributions() -> None:
    """hooks/import_names.json must list every distribution of the generated project's locks, and only those."""
    data = json.loads(answers.IMPORT_NAMES_FILE.read_text(encoding="utf-8"))
    recorded = set(data["distributions"])
    locked = refresh_import_names.locked_names()
    assert locked, "no lock files found"
    assert recorded == locked, (
        f"hooks/import_names.json is stale (missing: {sorted(locked - recorded)}, extra: {sorted(recorded - locked)}):"
        " run `make import-names` at the template root"
    )
    assert all(dist["imports"] for dist in data["distributions"].values()), "a distribution without import names"


def test_every_dependency_import_name_is_refused_and_named() -> None:
    importable = [name for name in answers.dependency_imports() if answers.MODULE_RE.fullmatch(name)]
    assert {"yaml", "sklearn", "dotenv", "psycopg_binary", "skops", "onnx", "scipy"} <= set(importable)
    for name in importable:
        message = answers.check_module(name)
        assert message is not None, name
        if name not in sys.stdlib_module_names and not keyword.iskeyword(name):
            assert f"({answers.dependency_imports()[name]})" in message


def test_lock_entries_keep_their_hashes() -> None:
    """The refresh installs with --require-hashes: every entry it rebuilds from a lock carries its hashes."""
    for lock in refresh_import_names.lock_files():
        for name, entries in refresh_import_names.locked_blocks(lock).items():
            assert all("--hash=sha256:" in entry for entry in entries), f"{lock.name}: {name}"


@pytest.mark.full
def test_import_names_file_is_what_the_refresh_writes(tmp_path: Path) -> None:
    """`make import-names` reproduces the committed file (installs the locks without dependencies; needs PyPI)."""
    found = refresh_import_names.collect(refresh_import_names.PROJECT_DIR, tmp_path)
    assert refresh_import_names.render(found) == answers.IMPORT_NAMES_FILE.read_text(encoding="utf-8")
