"""Helpers shared by the platform tests (a module of its own: conftest modules are not importable)."""

from __future__ import annotations

import secrets
from typing import Any


def new_document() -> str:
    """A random 12-digit CCCD number (tests never collide, even on a shared database)."""
    return "0" + "".join(secrets.choice("0123456789") for _ in range(11))


def person_body(**overrides: Any) -> dict[str, Any]:
    body = {"document_number": new_document(), "full_name": "Nguyễn Lê Kha Hân", "birth_date": "1987-01-18"}
    body.update(overrides)
    return body


PLATFORM_ROUTERS = (
    "unifiedqr.api.routers.health",
    "unifiedqr.api.routers.accounts",
    "unifiedqr.api.routers.people",
    "unifiedqr.api.routers.declarations",
)


def platform_routes() -> set[tuple[str, str]]:
    """(method, path under /api/v1) of every endpoint of the platform's own routers.

    Read from the routers themselves: this FastAPI version includes routers lazily, so
    ``app.routes`` does not list their endpoints.
    """
    import importlib

    routes = set()
    for name in PLATFORM_ROUTERS:
        for route in importlib.import_module(name).router.routes:
            for method in getattr(route, "methods", ()):
                if method not in ("HEAD", "OPTIONS"):
                    routes.add((method, route.path))
    assert len(routes) >= 18, routes
    return routes
