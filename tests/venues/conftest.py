"""Fixtures for the venue tests: a registered venue with its owner and a staff member (the real-database
fixtures are the shared ones in ``tests/conftest.py``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

import pytest

from unifiedqr.client import Client


class VenueWorld:
    """An owner, their venue (two entrances) and a staff member, all through the API."""

    def __init__(self, owner: Client, venue: dict[str, Any], staff: Client) -> None:
        self.owner = owner
        self.venue = venue
        self.staff = staff

    @property
    def id(self) -> str:
        return str(self.venue["venue_id"])

    @property
    def code(self) -> str:
        return str(self.venue["code"])

    def entrance(self, name: str) -> str:
        return next(e["entrance_id"] for e in self.venue["entrances"] if e["name"] == name)


@pytest.fixture
def make_venue(
    make_user: Callable[..., Client], client_for: Callable[[str | None], Client]
) -> Callable[..., VenueWorld]:
    def make(
        kind: str = "restaurant", name: str = "Quán Phở Hàng Bạc", province: str = "Hà Nội", **extra: Any
    ) -> VenueWorld:
        owner = make_user("venue_owner")
        venue = owner.register_venue(
            name=name,
            type=kind,
            province=province,
            district="Hoàn Kiếm",
            commune="Hàng Bạc",
            street="1 Hàng Bạc",
            owner_phone="0912345678",
            entrances=["front", "back"],
            **extra,
        )
        username = f"staff{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(12)
        owner.add_venue_staff(venue["venue_id"], "Nhân viên", username, password)
        staff = client_for(None)
        staff.login(username, password)
        return VenueWorld(owner, venue, staff)

    return make


@pytest.fixture
def world(make_venue: Callable[..., VenueWorld]) -> VenueWorld:
    return make_venue()


@pytest.fixture
def person(make_platform: Callable[[str], Client]) -> Callable[..., dict[str, Any]]:
    """``person(**fields)``: register someone through a platform; returns qid, payload and the platform."""
    platform = make_platform("App")

    def make(**fields: Any) -> dict[str, Any]:
        from tests.platform.platform_helpers import person_body

        issued = platform.register(**person_body(**fields))
        issued["platform"] = platform
        return issued

    return make
