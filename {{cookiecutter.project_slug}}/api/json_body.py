"""A JSON request body validated in one pass, answered as FastAPI answers a `Body()` parameter.

FastAPI parses a body with `json.loads` and then validates the Python objects; pydantic's
`validate_json` does both at once, straight from the bytes, several times faster. So a valid body
takes that one pass. A body it refuses is handled again the way FastAPI does (content type, parse,
validation, in that order), so every error answer is FastAPI's own, to the byte: 422 with each
error's `loc` starting with "body", or 400 for bytes that are not text.
"""

from __future__ import annotations

import email.message
import json
from typing import Any

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

REF = "#/components/schemas/{model}"


class JSONBody:
    """Reads and validates request bodies of one type (a TypedDict, a model, ...)."""

    def __init__(self, body_type: Any) -> None:
        self.adapter: TypeAdapter[Any] = TypeAdapter(body_type)

    def openapi(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """An operation's OpenAPI `requestBody` for this type, and the component schemas it refers
        to (named by their titles, as FastAPI names those of a `Body()` parameter)."""
        schema = self.adapter.json_schema(ref_template=REF)
        components: dict[str, Any] = schema.pop("$defs", {})
        if "title" in schema:
            components[schema["title"]] = schema
            schema = {"$ref": REF.format(model=schema["title"])}
        request_body = {"content": {"application/json": {"schema": schema}}, "required": True}
        return request_body, components

    async def read(self, request: Request) -> Any:
        """The validated body, or RequestValidationError (422) / HTTPException (400, 415)."""
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding != "identity":  # gzip bytes are no JSON text: say so, not "error parsing"
            raise HTTPException(
                415, f"Content-Encoding {encoding} is not supported: send the body uncompressed"
            )
        body = await request.body()
        declared_json = is_json(request.headers.get("content-type"))
        if declared_json:
            try:
                return self.adapter.validate_json(body)
            except ValidationError:
                pass  # explained below, FastAPI's way
        return self.validate_like_fastapi(body, declared_json)

    def validate_like_fastapi(self, body: bytes, declared_json: bool) -> Any:
        """What fastapi.routing does with a body: bytes unless declared JSON, then validation."""
        if not body:
            missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
            raise RequestValidationError([missing])
        value: Any = body
        if declared_json:
            try:
                value = json.loads(body)
            except json.JSONDecodeError as error:
                invalid = {
                    "type": "json_invalid",
                    "loc": ("body", error.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": error.msg},
                }
                raise RequestValidationError([invalid], body=error.doc) from error
            except Exception as error:  # not text in a JSON encoding, nested too deep, ...
                raise HTTPException(400, "There was an error parsing the body") from error
        try:
            return self.adapter.validate_python(value, from_attributes=True)
        except ValidationError as error:
            problems = [
                {**problem, "loc": ("body", *problem["loc"])}
                for problem in error.errors(include_url=False)
            ]
            raise RequestValidationError(problems, body=value) from error


def is_json(content_type: str | None) -> bool:
    """What FastAPI parses as JSON: application/json or application/*+json (none: not JSON)."""
    if content_type == "application/json":  # nearly always: skip the parsing below
        return True
    if not content_type:
        return False
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")
