"""Schemas the generated OpenAPI document would not list on its own."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def add_schemas(app: FastAPI, schemas: dict[str, Any]) -> None:
    """Add `schemas` to the document's components: the body schemas of routes that read and
    validate their body themselves (FastAPI only lists those of declared parameters)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:  # generated once, then cached by FastAPI
            return app.openapi_schema
        document = generate()  # the cached one from now on: completed here, in place
        components = document.setdefault("components", {})
        merged = {**components.get("schemas", {}), **schemas}
        components["schemas"] = dict(sorted(merged.items()))
        return document

    # FastAPI's documented way to change the document: replace the app's openapi method.
    app.openapi = openapi  # type: ignore[method-assign]  # mypy refuses any assignment to a method
