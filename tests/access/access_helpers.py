"""Helpers of the look-up, access-log and retention tests (a plain module: conftest is not for importing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from unifiedqr.services.context import Services

PURPOSES = ("checkpoint", "venue_entry", "tracing", "treatment", "investigation", "other")
PERSONAL_KEYS = ("full_name", "birth_date", "gender", "document_number", "phone", "declarations")


def set_clock(monkeypatch: pytest.MonkeyPatch, ctx: Services, at: dt.datetime) -> None:
    """The services' clock (``ctx.now``) stands at ``at`` for the rest of the test."""
    monkeypatch.setattr(ctx, "now", lambda: at)


def with_settings(monkeypatch: pytest.MonkeyPatch, ctx: Services, **changes: Any) -> None:
    monkeypatch.setattr(ctx, "settings", replace(ctx.settings, **changes))


def vaccination(date: dt.date, dose: int = 2, of: int = 2) -> dict[str, Any]:
    return {
        "kind": "vaccination",
        "date": date.isoformat(),
        "dose": dose,
        "doses_in_series": of,
        "product": "Comirnaty",
    }


def days_ago(days: int) -> dt.date:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)).date() - dt.timedelta(days=days)


Make = Callable[..., Any]
