"""Rebuild hooks/import_names.json: the top-level import names of every package in the generated project's locks.

hooks/answers.py refuses a module_name that would shadow one of them (`make repro` fails when src/yaml/ hides
PyYAML). Distribution names are not import names (PyYAML installs yaml, scikit-learn sklearn, python-dotenv dotenv),
so the names are read from the packages' own metadata: each lock file is installed with uv, without dependencies,
into throw-away directories, and the top-level modules and packages listed in each installed RECORD are collected.

The locks are universal: some packages are only installed on older Pythons or on Windows. A package the first
(native) pass does not install is fetched again for the other target environments below, until every locked
distribution is found. Run by `make import-names` (and by `make lock-project`); needs PyPI (or the uv cache).
"""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import TypedDict

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
PROJECT_DIR = TEMPLATE_DIR / "{{cookiecutter.project_slug}}"
DATA_FILE = Path(__file__).with_name("import_names.json")
LOCK_FILES = "requirements*.txt"
# Where to install (uv flags): this interpreter first, then environments whose markers select the rest.
TARGETS = [
    ["--python", sys.executable],
    ["--python-platform", "x86_64-pc-windows-msvc", "--python-version", "3.10"],
    ["--python-platform", "linux", "--python-version", "3.10"],
    ["--python-platform", "linux", "--python-version", "3.13"],
    ["--python-platform", "macos", "--python-version", "3.13"],
]
REQUIREMENT_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*==")
MODULE_SUFFIXES = (".py", ".so", ".pyd")
# uv --target puts console scripts (some end in .py) in bin/, next to the packages.
SCRIPT_DIRS = {"bin", "Scripts"}


def normalize(name: str) -> str:
    """The PEP 503 form of a distribution name: PyYAML and pyyaml, psycopg_binary and psycopg-binary match."""
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_blocks(lock: Path) -> dict[str, list[str]]:
    """Each locked distribution (normalized name) with its requirement entries: the pinned line and its hashes.

    A name may be pinned more than once, for different Python versions (markers).
    """
    entries: dict[str, list[list[str]]] = {}
    entry: list[str] | None = None
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = REQUIREMENT_LINE.match(line)
        if match:
            entry = [line]
            entries.setdefault(normalize(match.group(1)), []).append(entry)
        elif entry is not None and line[:1].isspace():
            entry.append(line)  # its hashes and "# via" comments
        else:
            entry = None
    return {name: ["\n".join(lines) for lines in pinned] for name, pinned in entries.items()}


def lock_files(project_dir: Path = PROJECT_DIR) -> list[Path]:
    return sorted(project_dir.glob(LOCK_FILES))


def locked_names(project_dir: Path = PROJECT_DIR) -> set[str]:
    """Every distribution the generated project's lock files pin (normalized names)."""
    return {name for lock in lock_files(project_dir) for name in locked_blocks(lock)}


def top_level_imports(dist: importlib.metadata.Distribution) -> set[str]:
    """The modules and packages a distribution installs at the top level, from its RECORD (else top_level.txt)."""
    names = set()
    for file in dist.files or []:
        if not file.name.endswith(MODULE_SUFFIXES):
            continue  # scripts, data, .dist-info, shared libraries outside packages
        top = file.parts[0] if len(file.parts) > 1 else file.name.split(".")[0]
        if top.isidentifier() and top not in SCRIPT_DIRS:
            names.add(top)
    if not names:
        names = set((dist.read_text("top_level.txt") or "").split())
    return names


class Distribution(TypedDict):
    name: str  # as the distribution spells it
    imports: list[str]  # its top-level import names


def installed(directories: list[Path]) -> dict[str, Distribution]:
    """Distributions found in these install directories: normalized name -> display name and import names."""
    found: dict[str, Distribution] = {}
    for dist in importlib.metadata.distributions(path=[str(d) for d in directories]):
        key = normalize(dist.metadata["Name"])
        found.setdefault(key, {"name": dist.metadata["Name"], "imports": sorted(top_level_imports(dist))})
    return found


def uv_install(requirements: str, target: Path, flags: list[str]) -> None:
    """Install pinned, hashed requirements without dependencies into `target`, for the environment `flags` name."""
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv is None:
        sys.exit("uv is needed: run `make venv` (it is pinned in requirements-test.txt).")
    with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8") as handle:
        handle.write(requirements + "\n")
        handle.flush()
        command = [uv, "pip", "install", "--quiet", "--no-config", "--no-deps", "--require-hashes"]
        command += [*flags, "--target", str(target), "-r", handle.name]
        subprocess.run(command, check=True, cwd=target.parent)


def collect(project_dir: Path, workdir: Path) -> dict[str, Distribution]:
    """Install every locked distribution once (first target that selects it) and read their metadata."""
    wanted = {lock: locked_blocks(lock) for lock in lock_files(project_dir)}
    targets: list[Path] = []
    for index, flags in enumerate(TARGETS):
        target = workdir / f"target-{index}"
        target.mkdir()
        targets.append(target)
        for blocks in wanted.values():
            missing = sorted(set(blocks) - set(installed(targets)))
            if missing:
                uv_install("\n".join(entry for name in missing for entry in blocks[name]), target, flags)
    found = installed(targets)
    absent = sorted(set().union(*wanted.values()) - set(found))
    if absent:
        sys.exit(f"no target environment installs {', '.join(absent)}: add an environment to TARGETS.")
    return found


def render(found: dict[str, Distribution]) -> str:
    """JSON with one line per distribution, so that a refresh reads as a short diff."""
    lines = [f"  {json.dumps(name)}: {json.dumps(found[name])}" for name in sorted(found)]
    header = json.dumps("make import-names (hooks/refresh_import_names.py) from the generated project's locks")
    return "{\n" + f' "_generated_by": {header},\n "distributions": {{\n' + ",\n".join(lines) + "\n }\n}\n"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="import-names-") as workdir:
        found = collect(PROJECT_DIR, Path(workdir))
    DATA_FILE.write_text(render(found), encoding="utf-8")
    print(f"{DATA_FILE.relative_to(TEMPLATE_DIR)}: {len(found)} distributions")


if __name__ == "__main__":
    main()
