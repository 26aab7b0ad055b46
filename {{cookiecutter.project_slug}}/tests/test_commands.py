"""Every `python -m <package>...` command that the Makefile, dvc.yaml, the README and the docs
give exists, and each one built with the shared parser answers --help with its own name."""

from __future__ import annotations

import importlib
import importlib.util
import re
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
PACKAGE = "{{ cookiecutter.module_name }}"
COMMAND = re.compile(rf"python -m ({PACKAGE}(?:\.\w+)*)")


def documented_commands() -> dict[str, list[str]]:
    """Command -> the files that give it."""
    sources = [PROJECT / "Makefile", PROJECT / "dvc.yaml", PROJECT / "README.md"]
    sources += sorted((PROJECT / "docs").glob("*.md"))
    found: dict[str, list[str]] = {}
    for path in sources:
        for name in COMMAND.findall(path.read_text(encoding="utf-8")):
            found.setdefault(name, []).append(path.name)
    return found


COMMANDS = documented_commands()


def entry_module(module: str) -> str | None:
    """The module `python -m module` runs (a package runs its __main__), or None."""
    try:
        spec = importlib.util.find_spec(module)
    except ModuleNotFoundError:  # a parent package that does not exist
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations is not None:
        return f"{module}.__main__" if importlib.util.find_spec(f"{module}.__main__") else None
    return module


def with_shared_parser(module: str) -> bool:
    entry = entry_module(module)
    spec = importlib.util.find_spec(entry) if entry else None
    return bool(spec and spec.origin and "command_parser(" in Path(spec.origin).read_text())


def test_the_docs_give_the_commands_users_run() -> None:
    assert {f"{PACKAGE}.train", f"{PACKAGE}.stages", f"{PACKAGE}.stages.repro"} <= set(COMMANDS)


@pytest.mark.parametrize("module", sorted(COMMANDS))
def test_every_documented_command_exists(module: str) -> None:
    assert entry_module(module), (
        f"`python -m {module}` (given in {COMMANDS[module]}) does not exist"
    )


@pytest.mark.parametrize("module", [name for name in sorted(COMMANDS) if with_shared_parser(name)])
def test_a_command_answers_help_with_the_name_it_is_typed_by(
    module: str, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = entry_module(module)
    assert entry is not None
    with pytest.raises(SystemExit) as exited:
        importlib.import_module(entry).main(["--help"])
    assert exited.value.code == 0
    help_text = capsys.readouterr().out
    assert help_text.startswith(f"usage: python -m {module} "), help_text.splitlines()[0]


def test_a_command_the_docs_name_but_the_package_lacks_is_found() -> None:
    assert entry_module(f"{PACKAGE}.no_such_module") is None
    assert entry_module(f"{PACKAGE}.no_such_package.cli") is None
    assert entry_module(f"{PACKAGE}.utils") is None  # a package without __main__
