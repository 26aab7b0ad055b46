"""One exception type for mistakes a user can fix, and the CLI wrapper that turns it into a message.

Stage commands, the batch predictor and the promote command run through `exit_on_error`: a
PipelineError (or a config error from Hydra/OmegaConf) becomes one `ERROR: ...` line on stderr and
exit status 1, never a traceback. Bugs still raise with a traceback, as they should.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])

# What a write raises when the disk (or the user's quota) is full.
DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


class PipelineError(Exception):
    """Bad input or configuration: the message names the problem and how to fix it."""


def first_line(error: BaseException) -> str:
    """An exception's first line of text (or its type's name): the part worth a one-line message."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


def shown(value: Any) -> str:
    """A value as a message shows it: a numpy number as the number (0.9167, not
    np.float64(0.9167)), text in quotes."""
    item = getattr(value, "item", None)  # numpy scalars; plain Python values have no .item
    return repr(item() if callable(item) and not isinstance(value, str) else value)


@contextmanager
def writing(path: object) -> Iterator[None]:
    """Run the block that writes path; a full disk becomes one PipelineError naming path."""
    try:
        yield
    except OSError as error:
        if error.errno not in DISK_FULL:
            raise
        raise PipelineError(
            f"no space left on the device to write {path}: free some space, then run again."
        ) from error


def _user_errors() -> tuple[type[BaseException], ...]:
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    return (PipelineError, HydraException, OmegaConfBaseException)


def exit_on_error(func: F) -> F:
    """Run a CLI entry point; report user errors as one line and exit 1."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except _user_errors() as error:
            message = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
            print(f"ERROR: {message}", file=sys.stderr)
            sys.exit(1)

    return cast(F, wrapper)  # wraps() keeps func's name and signature: the same callable type
