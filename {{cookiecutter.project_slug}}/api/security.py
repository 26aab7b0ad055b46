"""Optional API keys (API_KEYS): a dependency of the routers that serve the model.

A key is accepted as `Authorization: Bearer <key>` or `X-API-Key: <key>`, and compared with every
configured key in constant time, so the answer's timing says nothing about how close a guess was.
The routers get this dependency only when keys are set; /health and /ready never do.
"""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import HTTPException, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from api.settings import Settings

logger = logging.getLogger("uvicorn.error")  # uvicorn's logger: lines land in the server log

# auto_error=False: either header may be missing; require_api_key decides and answers 401 itself.
bearer = HTTPBearer(
    auto_error=False, description="`Authorization: Bearer <key>`, a key of API_KEYS."
)
key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="`X-API-Key: <key>`, a key of API_KEYS."
)


async def require_api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Security(bearer)],
    header_key: Annotated[str | None, Security(key_header)],
) -> None:
    """Let the request through when it carries one of the configured keys; else 401."""
    presented = credentials.credentials if credentials is not None else header_key
    if not presented:
        raise unauthorized("missing API key: send Authorization: Bearer <key> or X-API-Key: <key>")
    settings: Settings = request.app.state.settings
    candidate = presented.encode()
    # Every key is compared (no early exit), each in constant time.
    keys = [key.get_secret_value().encode() for key in settings.api_keys]
    if not any([hmac.compare_digest(candidate, key) for key in keys]):
        raise unauthorized("invalid API key")


def unauthorized(detail: str) -> HTTPException:
    return HTTPException(status_code=401, detail=detail, headers={"WWW-Authenticate": "Bearer"})


def warn_if_exposed(settings: Settings) -> None:
    """A line in the log when the server is reachable from other machines without keys."""
    if not settings.api_keys and not settings.on_loopback:
        logger.warning(
            "HOST=%s without API_KEYS: /metadata and /predict answer anyone who can reach this"
            " server. Set API_KEYS (see .env.template) unless something in front of it checks"
            " callers.",
            settings.host,
        )
