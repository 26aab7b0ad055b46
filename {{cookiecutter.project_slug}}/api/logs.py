"""The server's logging: uvicorn's lines and the access log, as text or one JSON object per line.

`python -m api` hands `log_config(...)` to uvicorn, which applies it in every worker. Standard
library logging only: JSONFormatter is a small `logging.Formatter`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

LEVELS = {"critical": 50, "error": 40, "warning": 30, "info": 20, "debug": 10, "trace": 5}
# What every LogRecord has; anything else on a record came from `extra=` (the access fields).
STANDARD_ATTRIBUTES = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
STANDARD_ATTRIBUTES |= {"color_message"}  # uvicorn's coloured copy of some messages


class JSONFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, then any `extra=` fields."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "pid": record.process,
        }
        for name, value in vars(record).items():
            if name not in STANDARD_ATTRIBUTES:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        # json.dumps escapes newlines: a traceback stays on its line.
        return json.dumps(line, default=str)


def log_config(log_format: str, log_level: str) -> dict[str, Any]:
    """The dictConfig for uvicorn.run: uvicorn's loggers, our access log ("api.access") and the
    root logger (third-party warnings), in one format. uvicorn's own access log stays off: the
    middleware in api/observe.py writes one line per request, with the request id."""
    if log_format == "json":
        formatter: dict[str, Any] = {"()": "api.logs.JSONFormatter"}
    else:  # uvicorn's own look: "INFO:     message", coloured on a terminal
        formatter = {
            "()": "uvicorn.logging.DefaultFormatter",
            "fmt": "%(levelprefix)s %(message)s",
            "use_colors": None,
        }
    stream = {"class": "logging.StreamHandler", "formatter": "default"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {**stream, "stream": "ext://sys.stderr"},
            "access": {**stream, "stream": "ext://sys.stdout"},  # where uvicorn writes its own
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
            "api.access": {
                "handlers": ["access"],
                "level": LEVELS[log_level],
                "propagate": False,
            },
        },
        "root": {"handlers": ["default"], "level": "WARNING"},
    }
