"""Request dependencies shared by the routers: the service container and the caller's identity."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from unifiedqr.errors import Unauthenticated
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="A platform API key (uqr_...) or a login token (uqt_...)")


async def services(request: Request) -> Services:
    ctx: Services = request.app.state.services
    return ctx


async def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """The caller. Async on purpose: a cached API key costs microseconds, less than a thread hop."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthenticated("use the Bearer scheme: Authorization: Bearer <API key or token>")
        raise Unauthenticated("send Authorization: Bearer <API key or token>")
    ctx: Services = request.app.state.services
    return ctx.authenticate("Bearer " + credentials.credentials)


async def call(ctx: Services, fn: Callable[..., T], *args: Any) -> T:
    """Run a blocking service call: inline on SQLite, in the thread pool on PostgreSQL.

    SQLite work is sub-millisecond CPU under one process-wide write lock, so a thread hop only adds
    latency and GIL contention (measured: registrations/s up, p99 down); PostgreSQL waits on the
    network, so there requests overlap in threads and races are settled by constraints.
    """
    if ctx.db.is_sqlite:
        return fn(*args)
    return await run_in_threadpool(fn, *args)
