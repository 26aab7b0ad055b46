"""Write files atomically, so a failed run never leaves a half-written file that looks valid."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # only for the annotation: composing params.yaml (make repro) needs no pandas
    import pandas as pd

from .errors import writing


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp) on a temporary file next to path, then rename it over path (what write
    returns is ignored). A full disk is one PipelineError naming path; path is left as it was."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = new_file_beside(path)
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def new_file_beside(path: Path) -> Path:
    """A new, empty file with a random name in path's directory, made as any file is: with the
    permissions the umask leaves. (tempfile.mkstemp makes it private, 0600, and the rename would
    pass that on to every file the pipeline writes.)"""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # taken by another writer: draw another name
            continue
        return tmp


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    # A fixed line terminator keeps the bytes (and so the DVC hashes) identical across platforms.
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, lineterminator="\n"))
