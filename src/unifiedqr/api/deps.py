"""The one way a request reaches a service: body parsing, the caller, dispatch, commands.

**Dispatch rule** (written once, here; docs/architecture.md repeats it). Every route is ``async def``
and reaches the service layer through exactly one of:

- :func:`call` for service calls: *inline on SQLite*, whose work is sub-millisecond CPU under one
  process-wide write lock, so a worker-thread hop only adds latency and GIL contention (measured:
  registrations/s up, p99 down); *in the thread pool on PostgreSQL*, which waits on the network, so
  requests overlap in threads and races are settled by constraints;
- :func:`offload` for work that is CPU-heavy whatever the database (image rendering, PDF): always
  in the thread pool, so it never stalls the event loop;
- :func:`offload_hashing` for service calls that hash a password (argon2id, 64 MiB each): the
  thread pool too, but only after taking one of the process's few hashing turns, waited for on the
  event loop with a deadline (503 with ``Retry-After`` beyond it), so a crowd of log-ins can
  neither exhaust memory nor park every worker thread (issue 10 #3).

**The caller**: :func:`principal` resolves the ``Authorization`` header through the service
container's one credential cache; a cached credential costs microseconds and stays on the loop, a
miss goes through :func:`call` like any database read, throttled per client address
(:func:`address`: the socket's, or ``X-Forwarded-For`` through trusted proxies) so that guessing
API keys or tokens ends in 429. Authentication runs before the body is validated, so an
anonymous caller always gets 401, never a 422 that reveals the body's rules.

**Bodies**: :class:`JSONRoute` parses JSON with a nesting limit (pydantic-core's parser, depth 200),
so a hostile body of 30,000 nested arrays is a 422, not a ``RecursionError``.

**Commands**: edge models (Pydantic, with the HTTP constraints and OpenAPI) become the services'
typed commands with :func:`command`; :func:`mirrors` records each pair so that a test checks that
they name the same fields (one definition, checked).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import anyio
from anyio.lowlevel import RunVar
from fastapi import Depends, Request, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, TypeAdapter
from starlette.concurrency import run_in_threadpool

from unifiedqr.api import addresses
from unifiedqr.errors import Overloaded, Unauthenticated
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

T = TypeVar("T")
P = ParamSpec("P")
M = TypeVar("M", bound=type[BaseModel])

_bearer = HTTPBearer(auto_error=False, description="A platform API key (uqr_...) or a login token (uqt_...)")


async def services(request: Request) -> Services:
    ctx: Services = request.app.state.services
    return ctx


async def call(ctx: Services, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a service call: inline on SQLite, in the thread pool on PostgreSQL (see the module doc)."""
    if ctx.db.is_sqlite:
        return fn(*args, **kwargs)
    return await run_in_threadpool(fn, *args, **kwargs)


async def offload(fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run CPU-heavy work (password hashing, rendering) in the thread pool, whatever the database."""
    return await run_in_threadpool(fn, *args, **kwargs)


_HASH_TURNS: RunVar[anyio.CapacityLimiter] = RunVar("unifiedqr_hash_turns")


async def offload_hashing(ctx: Services, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a service call that hashes a password, once one of ``concurrency`` turns is free."""
    try:
        turns = _HASH_TURNS.get()
    except LookupError:
        turns = anyio.CapacityLimiter(ctx.passwords.concurrency)
        _HASH_TURNS.set(turns)
    with anyio.move_on_after(ctx.passwords.queue_seconds) as waited:
        await turns.acquire()
    if waited.cancelled_caught:
        raise Overloaded("password", "too many log-ins at once; try again in a moment", 1)
    try:
        return await run_in_threadpool(fn, *args, **kwargs)
    finally:
        turns.release()


def address(request: Request) -> str:
    """The client's rate-limit key: its address (see :mod:`unifiedqr.api.addresses`), IPv6 by /64."""
    ctx: Services = request.app.state.services
    peer = request.client.host if request.client else ""
    found = addresses.client_address(
        peer, request.headers.getlist("x-forwarded-for"), ctx.settings.trusted_proxies
    )
    return addresses.bucket(found)


async def principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> Principal:
    """The caller; 401 without credentials or with credentials that do not check out."""
    if credentials is None:
        if request.headers.get("authorization"):
            raise Unauthenticated("use the Bearer scheme: Authorization: Bearer <API key or token>")
        raise Unauthenticated("send Authorization: Bearer <API key or token>")
    ctx: Services = request.app.state.services
    cached = ctx.cached_credential(credentials.credentials)
    if cached is not None:
        return cached
    return await call(ctx, ctx.credential, credentials.credentials, address(request))


# ---------------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------------
MAX_JSON_DEPTH = 200  # pydantic-core's parser limit


def parse_json(raw: bytes) -> Any:
    """JSON with a nesting limit; a json.JSONDecodeError (FastAPI's 422 ``json_invalid``) otherwise."""
    import pydantic_core

    try:
        return pydantic_core.from_json(raw, allow_inf_nan=False)
    except ValueError as exc:
        raise json.JSONDecodeError(str(exc), raw.decode("utf-8", "replace")[:100], 0) from None


class _JSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_json(await self.body())
        return self._json


class JSONRoute(APIRoute):
    """Every route of the API: request bodies are parsed by :func:`parse_json`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            return await handler(_JSONRequest(request.scope, request.receive))

        return route


# ---------------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------------
#: (edge model, service command, fields the route adds from the path) for the consistency test.
MIRRORS: list[tuple[type[BaseModel], type, frozenset[str]]] = []


def mirrors(command_type: type, *, path: tuple[str, ...] = ()) -> Callable[[M], M]:
    """Class decorator: this edge model carries ``command_type``'s fields (minus ``path`` ones)."""

    def register(model: M) -> M:
        MIRRORS.append((model, command_type, frozenset(path)))
        return model

    return register


@functools.cache
def _adapter(command_type: type) -> TypeAdapter[Any]:
    return TypeAdapter(command_type)


def command(command_type: type[T], model: BaseModel, **path: Any) -> T:
    """The service command of a validated edge model (nested dataclasses built by pydantic-core)."""
    data = model.model_dump()
    data.update(path)
    adapter = _adapter(command_type)  # type: ignore[arg-type]  # classes are hashable
    built: T = adapter.validate_python(data)
    return built
