"""The authorisation matrix runner: every role against every endpoint, through the real app.

One runner for every resource's matrix (platform, venues, look-ups, tracing...). A matrix is a list
of :class:`Row`; each row names an endpoint, how to build its request from the test's ``world``,
and the status each role must get: 401 without credentials, 403 when the role lacks the permission,
404 when it holds it but the object is outside its scope (existence never revealed). Every error
answer must be problem details. ``api_routes`` reads the endpoints from the served OpenAPI document,
so a new endpoint without a row fails its matrix's coverage test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Body = None | dict[str, Any] | Callable[[dict[str, Any]], tuple[str, Any]]


@dataclass(frozen=True)
class Row:
    """``method template``; ``body``: a JSON body, None, or ``world -> (path, body)``."""

    method: str
    template: str
    body: Body
    expected: Mapping[str, int]


def expect(roles: Iterable[str], default: int, **by_role: int) -> dict[str, int]:
    """``default`` for every role not named; ``anonymous`` is 401 unless named."""
    table = {role: default for role in roles}
    table["anonymous"] = 401
    table.update(by_role)
    return table


def run_matrix(
    rows: Iterable[Row],
    clients: Mapping[str, Any],
    world: dict[str, Any],
    fill: Callable[[str], str],
) -> list[str]:
    """Send every row as every role; the mismatches, one line each (empty when all is as expected)."""
    failures = []
    for row in rows:
        for role, client in clients.items():
            if callable(row.body):
                path, payload = row.body(world)
            else:
                path, payload = fill(row.template), row.body
            if payload is not None:
                response = client.raw(row.method, path, json=payload)
            else:
                response = client.raw(row.method, path)
            want = row.expected[role]
            if response.status_code != want:
                failures.append(
                    f"{role:<16} {row.method:<6} {row.template}: {response.status_code} != {want}"
                    f" {response.text[:120]}"
                )
            if response.status_code >= 400 and not response.headers["content-type"].startswith(
                "application/problem+json"
            ):
                failures.append(f"{role:<16} {row.method:<6} {row.template}: not problem details")
    return failures


def api_routes(app: Any, prefixes: tuple[str, ...] = ("/",)) -> set[tuple[str, str]]:
    """``(METHOD, path under /api/v1)`` of the served API's endpoints under ``prefixes``."""
    routes = set()
    for path, operations in app.openapi()["paths"].items():
        short = path.removeprefix("/api/v1")
        if short.startswith(prefixes):
            routes |= {(method.upper(), short) for method in operations}
    return routes


def covered(rows: Iterable[Row], rename: Mapping[str, str] | None = None) -> set[tuple[str, str]]:
    """The ``(METHOD, path)`` pairs the rows exercise (query strings dropped, placeholders renamed)."""
    out = set()
    for row in rows:
        path = row.template.split("?")[0]
        for old, new in (rename or {}).items():
            path = path.replace(old, new)
        out.add((row.method, path))
    return out
