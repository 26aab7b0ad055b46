"""Schemas the generated OpenAPI document would not list on its own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def add_schemas(app: FastAPI, schemas: dict[str, Any]) -> None:
    """Add `schemas` to the document's components: the body schemas of routes that read and
    validate their body themselves (FastAPI only lists those of declared parameters)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:  # generated once, then cached by FastAPI
            components = generate().setdefault("components", {})
            merged = {**components.get("schemas", {}), **schemas}
            components["schemas"] = dict(sorted(merged.items()))
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]
