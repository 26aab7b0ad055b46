"""Write files atomically, so a failed run never leaves a half-written file that looks valid."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from .errors import writing


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call write(tmp) on a temporary file next to path, then rename it over path (what write
    returns is ignored). A full disk is one PipelineError naming path; path is left as it was."""
    with writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            write(tmp)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_bytes(path: Path, data: bytes) -> None:
    atomic_write(path, lambda tmp: tmp.write_bytes(data))


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    # A fixed line terminator keeps the bytes (and so the DVC hashes) identical across platforms.
    atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False, lineterminator="\n"))
