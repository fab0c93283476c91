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


def sent_code(ctx: Any, phone: str) -> str:
    """The last one-time code the SMS outbox holds for ``phone`` (consent requests, issue 10)."""
    import re

    from tests.support import OPERATOR

    from unifiedqr.services import sms

    texts = [m.text for m in sms.outbox(ctx, OPERATOR) if m.to == phone]
    assert texts, f"no message to {phone}"
    found = re.search(r"\b([0-9]{6})\b", texts[-1])
    assert found, texts[-1]
    return found.group(1)
