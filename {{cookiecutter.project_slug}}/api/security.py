"""Optional API keys (API_KEYS): a dependency of the routers that serve the model.

A key is accepted as `Authorization: Bearer <key>` or `X-API-Key: <key>`, and compared with every
configured key in constant time, so the answer's timing says nothing about how close a guess was.
The routers get this dependency only when keys are set; /health and /ready never do.

One dependency that reads both headers itself, rather than one with the two schemes as
sub-dependencies: FastAPI solves every dependency of every request, and the two sub-dependencies
cost more than the rest of the key check (about 20 us a request). The schemes are documented in
the OpenAPI document all the same (`document_api_keys`).
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPBearer

from api.settings import Settings

logger = logging.getLogger("uvicorn.error")  # uvicorn's logger: lines land in the server log

# auto_error=False: either header may be missing; require_api_key decides and answers 401 itself.
bearer = HTTPBearer(
    auto_error=False, description="`Authorization: Bearer <key>`, a key of API_KEYS."
)
key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="`X-API-Key: <key>`, a key of API_KEYS."
)


async def require_api_key(request: Request) -> None:
    """Let the request through when it carries one of the configured keys; else 401."""
    # The schemes' own parsing: Bearer first, then X-API-Key; None when absent or malformed.
    credentials = await bearer(request)
    presented = credentials.credentials if credentials is not None else await key_header(request)
    if not presented:
        raise unauthorized("missing API key: send Authorization: Bearer <key> or X-API-Key: <key>")
    settings: Settings = request.app.state.settings
    candidate = presented.encode()
    # Every key is compared (no early exit), each in constant time.
    keys = [key.get_secret_value().encode() for key in settings.api_keys]
    if not any([hmac.compare_digest(candidate, key) for key in keys]):
        raise unauthorized("invalid API key")


def document_api_keys(app: FastAPI, routers: list[APIRouter]) -> None:
    """Show the two schemes in the OpenAPI document, on the operations of `routers` (those
    included with require_api_key); /docs then has its Authorize button. FastAPI documents only
    the schemes it finds as sub-dependencies."""
    schemes = {scheme.scheme_name: scheme for scheme in (bearer, key_header)}
    protected = {
        (route.path, method.lower())
        for router in routers
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # generated once, then cached by FastAPI
            document = generate()
            components = document.setdefault("components", {})
            components["securitySchemes"] = {
                name: jsonable_encoder(scheme.model, by_alias=True, exclude_none=True)
                for name, scheme in schemes.items()
            }
            for path, item in document.get("paths", {}).items():
                for method, operation in item.items():
                    if (path, method) in protected:
                        operation["security"] = [{name: []} for name in schemes]
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


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
