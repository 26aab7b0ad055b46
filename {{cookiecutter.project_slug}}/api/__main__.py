"""`python -m api`: run the server with uvicorn on the HOST and PORT from the settings."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

if TYPE_CHECKING:
    from api.settings import Settings

# File descriptors a worker needs besides its connections (model files, logs, the event loop...).
SPARE_FDS = 64


def main() -> int:
    from api.settings import Settings

    try:
        settings = Settings()
    except ValidationError as error:
        # A typo in .env or the environment: say which setting, no traceback.
        for problem in error.errors():
            name = ".".join(str(part) for part in problem["loc"]).upper()
            print(f"ERROR: setting {name}: {problem['msg']}", file=sys.stderr)
        return 2
    warn_if_over_fd_limit(settings.limit_concurrency)
    import uvicorn

    from api.logs import log_config

    made = share_metrics(settings)
    try:
        # A factory, so that importing api.main loads no model; each worker builds its own app.
        # uvicorn's access log is off: api/observe.py writes one line per request, with its id.
        uvicorn.run(
            "api.main:create_app",
            factory=True,
            host=settings.host,
            port=settings.port,
            workers=settings.workers,
            log_level=settings.log_level,
            log_config=log_config(settings.log_format, settings.log_level),
            access_log=False,
            # Beyond this many open connections uvicorn answers 503 and closes, instead of accepting
            # until the process runs out of file descriptors and every connection is reset.
            limit_concurrency=settings.limit_concurrency,
            timeout_keep_alive=settings.timeout_keep_alive,
        )
    finally:
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
    return 0


def share_metrics(settings: Settings) -> Path | None:
    """Point prometheus-client at a fresh PROMETHEUS_MULTIPROC_DIR when the workers must share
    their counts; return the directory when it was made here (removed at exit).

    It must be in the environment before a worker imports prometheus_client: each worker then
    writes its counts to its own files there, and /metrics adds up all the files. Counts left by an
    earlier run would be added too, so a directory that exists is emptied first.
    """
    if not settings.metrics:
        return None
    directory = settings.prometheus_multiproc_dir
    made = None
    if directory is None:
        if settings.workers == 1:
            return None  # one process: its own counts are all the counts
        directory = made = Path(tempfile.mkdtemp(prefix="api-metrics-"))
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.db"):  # prometheus-client's files only, nothing else
        stale.unlink()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(directory)
    return made


def warn_if_over_fd_limit(limit_concurrency: int) -> None:
    """A line at start-up when LIMIT_CONCURRENCY cannot be reached before the process's file
    descriptors run out: then the limit never applies and a flood of connections resets them all."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to compare with
        return
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and limit_concurrency > soft - SPARE_FDS:
        print(
            f"WARNING: LIMIT_CONCURRENCY={limit_concurrency} is more connections than this process"
            f" can open (ulimit -n is {soft}): lower it to {max(soft - SPARE_FDS, 1)} or raise the"
            " limit (ulimit -n, or the container's nofile limit).",
            file=sys.stderr,
        )


if __name__ == "__main__":
    sys.exit(main())
