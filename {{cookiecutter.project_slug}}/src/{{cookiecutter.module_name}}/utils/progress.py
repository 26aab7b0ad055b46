"""Progress lines for a step that may run long: silent when it is quick, a line every so often
when it is not, so a long ONNX export never looks like a hung training."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

FIRST_LINE_AFTER_S = 5.0
EVERY_S = 30.0


@contextmanager
def progress(
    what: str, first_after_s: float = FIRST_LINE_AFTER_S, every_s: float = EVERY_S
) -> Iterator[None]:
    """Run the block; from first_after_s seconds on, print `what` and the time so far every
    every_s seconds, and how long it took at the end (nothing at all for a quick block)."""
    started = time.monotonic()
    done = threading.Event()
    printed = threading.Event()

    def report() -> None:
        wait = first_after_s
        while not done.wait(wait):
            print(f"{what}: {time.monotonic() - started:.0f} s so far...", flush=True)
            printed.set()
            wait = every_s

    # Python hands the GIL from thread to thread every few milliseconds: the lines come on time
    # while the block computes in this thread.
    reporter = threading.Thread(target=report, name="progress", daemon=True)
    reporter.start()
    try:
        yield
    finally:
        done.set()
        reporter.join()
        if printed.is_set():
            print(f"{what}: done in {time.monotonic() - started:.0f} s", flush=True)
