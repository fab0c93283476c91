"""RFC 9457 problem details for every error answer, and the request-body size cap.

Errors are raised as the package's own exceptions deep in the services; only here do they become
HTTP: a status from the exception class, ``application/problem+json``, and the field and reason in
``errors`` (``[{"field": ..., "reason": ...}]``) plus a top-level ``field`` for the first one, so a
client can point at the input that was wrong. Nothing here echoes stored data.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from unifiedqr.errors import (
    Code,
    ConfigError,
    Conflict,
    Gone,
    InvalidInput,
    NotFound,
    Overloaded,
    PayloadTooLarge,
    PermissionDenied,
    SigningError,
    TooManyRequests,
    Unauthenticated,
    UnifiedQRError,
)

log = logging.getLogger("unifiedqr.api")
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:unifiedqr:problem:"

# Most specific first.
_STATUS: list[tuple[type[BaseException], int, str]] = [
    (PayloadTooLarge, 413, "too-large"),
    (InvalidInput, 422, "invalid-input"),
    (NotFound, 404, "not-found"),
    (Unauthenticated, 401, "unauthenticated"),
    (PermissionDenied, 403, "forbidden"),
    (Conflict, 409, "conflict"),
    (Gone, 410, "gone"),
    (TooManyRequests, 429, "too-many-requests"),
    (Overloaded, 503, "busy"),
    (ConfigError, 503, "unavailable"),
    (SigningError, 503, "unavailable"),
]


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem(
    status: int,
    slug: str,
    detail: str,
    errors: list[dict[str, str]] | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + slug,
        "title": HTTPStatus(status).phrase,
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
        body["field"] = errors[0]["field"]
    return ProblemResponse(body, status_code=status, headers=headers)


def for_exception(exc: UnifiedQRError, instance: str | None = None) -> ProblemResponse:
    field, reason, code = exc.field, exc.reason, exc.code
    matches = ((status, name) for cls, status, name in _STATUS if isinstance(exc, cls))
    status, slug = next(matches, (400, "bad-request"))
    headers = {"WWW-Authenticate": 'Bearer realm="unifiedqr"'} if status == 401 else None
    if isinstance(exc, TooManyRequests | Overloaded):
        headers = {"Retry-After": str(exc.retry_after)}
    elif status == 503:
        log.error("service unavailable: %s", exc)
        field, reason = "", "the service cannot do this right now (configuration); try again later"
    errors = [{"field": field, "reason": reason, "code": code}] if field else None
    detail = f"{field}: {reason}" if field else reason
    return problem(status, slug, detail, errors, instance, headers)


def location(loc: tuple[Any, ...]) -> str:
    """A validation error's location as a field path: ``scans[3].at`` (no ``body.`` prefix)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] or parts
    out = ""
    for part in parts:
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "body"


def install(app: FastAPI) -> None:
    """Register the exception handlers that turn every error into problem details."""

    @app.exception_handler(UnifiedQRError)
    async def _ours(request: Request, exc: UnifiedQRError) -> ProblemResponse:
        return for_exception(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> ProblemResponse:
        errors = []
        for item in exc.errors()[:50]:
            kind = item.get("type", "")
            field = location(tuple(item.get("loc", ())))
            reason = str(item.get("msg", "is invalid"))
            if kind == "missing":
                reason = "is required"
            elif kind == "json_invalid":
                field, reason = "body", "is not valid JSON"
            errors.append(
                {
                    "field": field,
                    "reason": reason,
                    "code": Code.MALFORMED if kind == "json_invalid" else Code.INVALID,
                }
            )
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5]) or "invalid request"
        return problem(422, "invalid-input", detail, errors or None, request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> ProblemResponse:
        slug = {404: "not-found", 405: "method-not-allowed", 413: "too-large"}.get(
            exc.status_code, "http-error"
        )
        detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
        errors = [{"field": "path", "reason": "no such resource"}] if exc.status_code == 404 else None
        if exc.status_code == 413:
            errors = [{"field": "body", "reason": detail}]
        if exc.status_code == 405:
            errors = [{"field": "method", "reason": f"{request.method} is not allowed here"}]
        return problem(exc.status_code, slug, detail, errors, request.url.path, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> ProblemResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return problem(
            500, "internal", "an unexpected error occurred; it has been logged", None, request.url.path
        )


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuse request bodies over a cap (413 problem details), by Content-Length or while streaming.

    ``limits`` maps a path prefix to its own cap (the venues issue's batch upload needs more than a
    registration does); the longest matching prefix wins, else ``default``.
    """

    def __init__(self, app: ASGIApp, default: int, limits: dict[str, int] | None = None) -> None:
        self.app = app
        self.default = default
        self.limits = dict(limits or {})

    def limit_for(self, path: str) -> int:
        best, size = "", self.default
        for prefix, cap in self.limits.items():
            if path.startswith(prefix) and len(prefix) > len(best):
                best, size = prefix, cap
        return size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.limit_for(scope.get("path", ""))
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = cap + 1
                if declared > cap:
                    await self._refuse(scope, receive, send, cap)
                    return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > cap:
                    raise _TooLarge(cap)
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await self._refuse(scope, receive, send, cap)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, cap: int) -> None:
        response = problem(
            413,
            "too-large",
            f"the request body is larger than {cap} bytes",
            [{"field": "body", "reason": f"larger than {cap} bytes"}],
            scope.get("path"),
        )
        await response(scope, receive, send)


class _TooLarge(HTTPException):
    """Raised from inside the body stream; an HTTPException so that FastAPI passes it through."""

    def __init__(self, cap: int) -> None:
        super().__init__(413, f"the request body is larger than {cap} bytes")
