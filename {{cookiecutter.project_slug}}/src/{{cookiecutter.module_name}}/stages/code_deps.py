"""Which source files each DVC stage runs, derived from the imports: dvc.yaml lists exactly those.

    python -m {{ cookiecutter.module_name }}.stages.code_deps
        rewrite the code dependencies of the stages in dvc.yaml
    python -m {{ cookiecutter.module_name }}.stages.code_deps --check
        exit 1 when dvc.yaml is out of date

A stage `python -m <package>.stages <name>` runs stages/__main__.py and stages/<name>.py, every
module of this package they import (at the top or inside a function, followed transitively), the
packages' __init__.py files, and the package modules named by a `_target_` in params.yaml (your own
transformer or estimator). Editing one of them makes exactly the stages that run it stale.
`make repro` runs this first, so dvc.yaml never lags behind the code.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..utils.cli import PACKAGE, command_parser

PACKAGE_DIR = Path(__file__).resolve().parents[1]
STAGES = ("config", "data", "train", "evaluate")
DVC_YAML = Path("dvc.yaml")
MARKER = "# code: derived from the imports by"


def module_file(module: str, package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The source file of a module of the package (None when it is not one)."""
    parts = module.split(".")
    if parts[0] != package_dir.name:
        return None
    base = package_dir.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def imported_modules(module: str, package_dir: Path = PACKAGE_DIR) -> set[str]:
    """Every module of the package that `module` imports anywhere in its code."""
    path = module_file(module, package_dir)
    if path is None:
        return set()
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = resolve(module, is_package, node.module, node.level)
            found.add(base)
            # `from . import files` imports a submodule; `from .x import name` a name of x.
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if module_file(name, package_dir) is not None}


def resolve(module: str, is_package: bool, name: str | None, level: int) -> str:
    if level == 0:
        return name or ""
    parts = module.split(".")
    anchor = parts if is_package else parts[:-1]
    anchor = anchor[: len(anchor) - (level - 1)]
    return ".".join([*anchor, name] if name else anchor)


def with_parents(module: str) -> set[str]:
    """A module and the packages above it: importing it runs their __init__.py too."""
    parts = module.split(".")
    return {".".join(parts[:i]) for i in range(1, len(parts) + 1)}


def closure(start: Iterable[str], package_dir: Path = PACKAGE_DIR) -> set[str]:
    """The modules of the package that running `start` may execute."""
    seen: set[str] = set()
    todo = [name for module in start for name in with_parents(module)]
    while todo:
        module = todo.pop()
        if module in seen or module_file(module, package_dir) is None:
            continue
        seen.add(module)
        for imported in imported_modules(module, package_dir):
            todo.extend(with_parents(imported))
    return seen


def targets_in(value: Any) -> set[str]:
    """Modules named by the `_target_`s in a parsed config (any depth)."""
    if isinstance(value, dict):
        found = (
            {value["_target_"].rsplit(".", 1)[0]}
            if isinstance(value.get("_target_"), str)
            else set()
        )
        return found.union(*(targets_in(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(targets_in(item) for item in value))
    return set()


def stage_files(stage: str, params: dict[str, Any], package_dir: Path = PACKAGE_DIR) -> list[str]:
    """The source files (relative to the project) the stage runs, sorted."""
    package = package_dir.name
    start = {f"{package}.stages.__main__", f"{package}.stages.{stage}"}
    if stage == "train":  # the objects it builds from config
        start |= {m for m in targets_in(params) if m.split(".")[0] == package}
    root = package_dir.parent.parent
    files = {module_file(module, package_dir) for module in closure(start, package_dir)}
    return sorted(str(path.relative_to(root)) for path in files if path is not None)


def render(dvc_yaml: str, deps: dict[str, list[str]]) -> str:
    """dvc.yaml with each stage's derived block (the list under MARKER) replaced by deps[stage]."""
    lines = dvc_yaml.splitlines(keepends=True)
    out: list[str] = []
    stage = None
    index = 0
    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        if line.startswith("  ") and not line.startswith("   ") and stripped.endswith(":"):
            stage = stripped[:-1]
        out.append(line)
        index += 1
        if stripped.startswith(MARKER) and stage in deps:
            indent = line[: len(line) - len(line.lstrip())]
            while index < len(lines) and lines[index].strip().startswith("- src/"):
                index += 1  # the old derived entries
            out.extend(f"{indent}- {path}\n" for path in deps[stage])
    return "".join(out)


def derived(dvc_yaml: Path = DVC_YAML, params_file: Path = Path("params.yaml")) -> str:
    import yaml

    params = (
        yaml.safe_load(params_file.read_text(encoding="utf-8")) if params_file.is_file() else {}
    )
    deps = {stage: stage_files(stage, params or {}) for stage in STAGES}
    return render(dvc_yaml.read_text(encoding="utf-8"), deps)


def main(argv: Sequence[str] | None = None) -> int:
    parser = command_parser("stages.code_deps", __doc__)
    parser.add_argument("--check", action="store_true", help="only check; exit 1 when out of date")
    args = parser.parse_args(argv)
    if not DVC_YAML.is_file():
        print(f"ERROR: no {DVC_YAML} here: run from the project root.", file=sys.stderr)
        return 1
    current, wanted = DVC_YAML.read_text(encoding="utf-8"), derived()
    if current == wanted:
        return 0
    if args.check:
        print(
            f"ERROR: the code dependencies in {DVC_YAML} are out of date:"
            f" run `python -m {PACKAGE}.stages.code_deps` (or `make repro`).",
            file=sys.stderr,
        )
        return 1
    DVC_YAML.write_text(wanted, encoding="utf-8")
    print(f"code_deps: updated the code dependencies of the stages in {DVC_YAML}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
