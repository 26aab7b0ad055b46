"""The one way the project's commands read their arguments.

Every `python -m <package>.<module>` command builds its parser here (the usage line names the
command as it is typed, the module's docstring is its help, kept as written) and wraps its `main`
in `utils.errors.exit_on_error` (a mistake is one line and exit status 1, never a traceback).
"""

from __future__ import annotations

import argparse

PACKAGE = __name__.split(".")[0]


def command_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of `python -m <package>.<module>` (module: "predict", "reports.compare", ...)."""
    return argparse.ArgumentParser(
        prog=f"python -m {PACKAGE}.{module}",
        description=doc,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
