"""What `make repro` saw when it last left everything up to date, so that a run with nothing to do
answers without loading DVC (see repro.py).

The stamp holds the size, times and inode of every file the pipeline's stages, params.yaml's
composition and dvc.yaml's code lists depend on or write, listed from dvc.lock, the .dvc files and
dvc.yaml's inputs. Any change, a dependency that is not a local file (a URL) or a stage DVC always
reruns means: ask DVC.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# What the last run that left everything up to date saw (see the module docstring).
STAMP = Path(".dvc/tmp/make-repro.stamp")

# What dvc.yaml's code lists were last derived from (see code_lists_key).
CODE_LISTS_STAMP = Path(".dvc/tmp/code-lists.stamp")

# Beside dvc.lock's dependencies and outputs: what decides params.yaml, dvc.yaml's code lists and
# how DVC reads the project.
WATCHED = (
    "dvc.yaml",
    "dvc.lock",
    "params.yaml",
    "configs",
    "src",
    ".dvcignore",
    ".dvc/config",
    ".dvc/config.local",
    ".git/info/exclude",
)

# Written by every run itself: not inputs (see record_stamp). DVC rewrites the .gitignore files
# that list the stages' outputs on every run, whether or not their lines change.
WRITTEN = ("dvc.yaml", "dvc.lock", "params.yaml", ".gitignore")

# Kernel file times lag the clock by up to a tick: a file changed this close to the start of a
# run may have changed during it.
CLOCK_SLACK_NS = 100_000_000


def dvc_files(patterns: Sequence[str] = ("*.dvc",)) -> list[str]:
    """The .dvc files (or other patterns) git shows here (committed or not), relative to the
    project."""
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--"]
    try:
        listed = subprocess.run(
            [*listing, *patterns],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:  # no git: DVC reads no .gitignore either, and sees every .dvc file
        return []
    # Not a git repository: likewise.
    return sorted(set(filter(None, listed.stdout.split("\0")))) if listed.returncode == 0 else []


def code_lists_key(package_dir: Path, params_file: Path) -> str:
    """What dvc.yaml's code lists are derived from (code_deps.py): the package's modules, dvc.yaml
    itself, and the `_target_`s of params.yaml (its bytes: it is rewritten on every run)."""
    states: dict[str, Any] = {str(p): file_state(str(p)) for p in package_dir.rglob("*.py")}
    states["dvc.yaml"] = file_state("dvc.yaml")
    states[str(params_file)] = hashlib.sha256(params_file.read_bytes()).hexdigest()
    return digest(states)


def read_stamp(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return None


FileState = tuple[int, int, int, int] | None  # (size, mtime, ctime, inode), None: missing


def recorded_paths(path: Path) -> tuple[list[str], list[str]] | None:
    """(dependencies, outputs) that dvc.lock or a .dvc file records, relative to the project;
    None when one is not a local path (DVC must ask where it is, e.g. a URL's ETag)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, when PyYAML has it
    try:
        loaded = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except FileNotFoundError:
        return [], []
    except (OSError, yaml.YAMLError):
        return None
    entries = loaded.get("stages", {}).values() if path.name == "dvc.lock" else [loaded]
    found: tuple[list[str], list[str]] = ([], [])
    for entry in entries:
        for kind, into in (("deps", found[0]), ("outs", found[1])):
            for item in entry.get(kind) or []:
                name = str(item.get("path", ""))
                if not name or "://" in name:
                    return None
                into.append(os.path.normpath(os.path.join(path.parent, name)))
        # The parameter files a stage reads (params.yaml, or a file of your own).
        found[0].extend(
            os.path.normpath(os.path.join(path.parent, f)) for f in entry.get("params") or {}
        )
    return found


def file_state(path: str) -> FileState:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


def snapshot() -> tuple[dict[str, FileState], set[str]] | None:
    """(the state of every file that decides what `dvc repro` does, the stages' outputs among
    them); None when no snapshot can tell (a URL dependency, a stage always rerun)."""
    try:
        pipeline = Path("dvc.yaml").read_text(encoding="utf-8")
    except OSError:
        return None
    if "always_changed" in pipeline:
        return None
    listed = dvc_files(("*.dvc", "*.gitignore"))
    paths = {*WATCHED, *listed}
    outputs: set[str] = set()
    for name in ["dvc.lock", *(item for item in listed if item.endswith(".dvc"))]:
        recorded = recorded_paths(Path(name))
        if recorded is None:
            return None
        paths.update(recorded[0])
        if name == "dvc.lock":
            outputs.update(recorded[1])
        paths.update(recorded[1])
    states: dict[str, FileState] = {}
    for path in sorted(paths):
        if not os.path.isdir(path):
            states[path] = file_state(path)
            continue
        for root, directories, files in os.walk(path):
            directories[:] = sorted(d for d in directories if d != "__pycache__")
            states[root + os.sep] = file_state(root)  # a file added or removed
            for name in files:
                states[os.path.join(root, name)] = file_state(os.path.join(root, name))
    inside = {p for p in states if any(p == o or p.startswith(o + os.sep) for o in outputs)}
    return states, inside


def digest(states: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(sorted(states.items())).encode("utf-8")).hexdigest()


def up_to_date() -> bool:
    """Whether nothing changed since the last run that left everything up to date."""
    recorded = read_stamp(STAMP)
    if recorded is None:
        return False
    seen = snapshot()
    return seen is not None and digest(seen[0]) == recorded


def record_stamp(started_ns: int) -> None:
    """After a run that left everything up to date: record what it leaves, unless an input
    (anything but the stages' outputs and the files a run writes) changed since it started: the
    run may then have missed that change, and the next one must ask DVC."""
    seen = snapshot()
    if seen is None:
        return
    states, outputs = seen
    for path, state in states.items():
        if path in outputs or os.path.basename(path) in WRITTEN or state is None:
            continue
        if state[2] >= started_ns - CLOCK_SLACK_NS:
            return
    STAMP.write_text(digest(states) + "\n", encoding="utf-8")
