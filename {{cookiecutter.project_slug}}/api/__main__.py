"""`python -m api`: run the server with uvicorn on the HOST and PORT from the settings."""

from __future__ import annotations

import sys

from pydantic import ValidationError


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
    import uvicorn

    # A factory, so that importing api.main loads no model; each worker builds its own app.
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
