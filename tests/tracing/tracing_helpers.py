"""Helpers for the tracing tests: a world of venues and people built through the API (a plain module)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from tests.venues.venue_helpers import LOCAL
from unifiedqr.client import Client


def local(days_ago: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """An aware local (UTC+7) time on a past day: inside retention, never in the future."""
    day = dt.datetime.now(LOCAL).date() - dt.timedelta(days=days_ago)
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=LOCAL)


def rfc(at: dt.datetime) -> str:
    return at.isoformat()


def instant(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


class TracingWorld:
    """An official, venues with staff, and people registered by a platform; scans at chosen times."""

    def __init__(
        self, make_venue: Callable[..., Any], person: Callable[..., dict[str, Any]], official: Client
    ):
        self.make_venue = make_venue
        self.make_person = person
        self.official = official
        self.venues: dict[str, Any] = {}

    def venue(self, name: str, kind: str = "restaurant") -> Any:
        if name not in self.venues:
            self.venues[name] = self.make_venue(kind, f"Địa điểm {name}")
        return self.venues[name]

    def person(self, **fields: Any) -> dict[str, Any]:
        return self.make_person(**fields)

    def scan(self, venue: str, who: dict[str, Any], at: dt.datetime, **fields: Any) -> dict[str, Any]:
        v = self.venue(venue)
        return v.staff.scan(v.id, who["payload"], at=rfc(at), **fields)

    def phone_scan(self, venue: str, phone: str, at: dt.datetime) -> dict[str, Any]:
        v = self.venue(venue)
        return v.staff.scan(v.id, phone=phone, at=rfc(at))

    def open_case(
        self, who: dict[str, Any], start: dt.datetime, end: dt.datetime, rule: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "qid": who["qid"],
            "window_start": rfc(start),
            "window_end": rfc(end),
            **extra,
        }
        if rule is not None:
            body["rule"] = rule
        response = self.official.raw("POST", "/tracing/cases", json=body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def candidates(self, case: dict[str, Any], client: Client | None = None) -> list[dict[str, Any]]:
        response = (client or self.official).raw("GET", f"/tracing/cases/{case['case_id']}/candidates")
        assert response.status_code == 200, response.text
        return list(response.json()["candidates"])

    def qids(self, case: dict[str, Any]) -> list[str | None]:
        return [c["qid"] for c in self.candidates(case)]
