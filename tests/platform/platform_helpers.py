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
