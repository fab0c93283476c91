"""The OpenAPI document, made exact: every error answer documented as problem details.

FastAPI documents what a route returns on success and its own 422 (as ``application/json`` with a
schema we never send). The answers that come from the service layer (401, 403, 404, 409, 413, 429,
503) are invisible to it, so generated clients and schema-driven tests saw undocumented statuses
and media types. The rules here derive them from each operation, once, for every router:

- every operation with a security requirement can answer 401 (with ``WWW-Authenticate``), 403, 429
  (throttled credentials) and 404 (outside the caller's scope looks like "no such thing");
- every operation with path parameters can answer 404;
- every operation with a body or parameters can answer 422 (and 413 with a body);
- a route adds the statuses only it can give (409, 503, ...) with ``responses=errors(...)``;
- every 4xx/5xx is ``application/problem+json`` with the :data:`PROBLEM` schema (RFC 9457, plus
  ``field``, ``errors[].field/reason/code``).
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from unifiedqr.errors import Code

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
PROBLEM: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; errors[] names each field and reason",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "field": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "reason"],
                "properties": {
                    "field": {"type": "string"},
                    "reason": {"type": "string"},
                    "code": {"type": "string", "description": "stable: " + ", ".join(c.value for c in Code)},
                },
            },
        },
    },
}
_WWW_AUTHENTICATE = {
    "WWW-Authenticate": {"description": "Bearer realm", "required": True, "schema": {"type": "string"}}
}
_RETRY_AFTER = {
    "Retry-After": {"description": "seconds to wait", "required": True, "schema": {"type": "string"}}
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for statuses only this route gives (documented as problem details)."""
    return {status: {"description": HTTPStatus(status).phrase} for status in statuses}


def _add(responses: dict[str, Any], status: int, headers: dict[str, Any] | None = None) -> None:
    entry = responses.setdefault(str(status), {"description": HTTPStatus(status).phrase})
    if headers:
        entry.setdefault("headers", {}).update(headers)


def _exact(operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    parameters = operation.get("parameters", [])
    if operation.get("security"):
        _add(responses, 401, _WWW_AUTHENTICATE)
        _add(responses, 403)
        _add(responses, 404)
        _add(responses, 429, _RETRY_AFTER)
    if any(p.get("in") == "path" for p in parameters):
        _add(responses, 404)
    if parameters or "requestBody" in operation:
        _add(responses, 422)
    if "requestBody" in operation:
        _add(responses, 413)
    for status, entry in responses.items():
        if status.isdigit() and int(status) >= 400:
            entry["content"] = {"application/problem+json": {"schema": PROBLEM_REF}}
            if int(status) == 429:
                entry.setdefault("headers", {}).update(_RETRY_AFTER)


def install(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the exact document (built once, like FastAPI's own)."""
    build: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components["Problem"] = PROBLEM
            for name in ("HTTPValidationError", "ValidationError"):
                components.pop(name, None)
            for path in schema.get("paths", {}).values():
                for operation in path.values():
                    _exact(operation)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
