"""Fixtures for the page tests: a small world (a citizen with a household, a venue with its owner and
staff, an official) made through the services, and a cookie-keeping client that signs in through the
sign-in page like a browser (the real-database fixtures are the shared ones in ``tests/conftest.py``)."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from tests.conftest import wipe
from tests.support import OPERATOR, create_account, open_test_services
from unifiedqr.services import accounts, registry, venues
from unifiedqr.services.context import Services

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def web_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """SQLite only: the pages add no database code (the services they call are tested on both)."""
    root = tmp_path_factory.mktemp("web")
    ctx = open_test_services(f"sqlite:///{root / 'web.sqlite'}", root / "secrets")
    yield ctx
    ctx.close()


@pytest.fixture
def ctx(web_services: Services) -> Services:
    """This folder's container, every table emptied for the test (overrides the two-backend one)."""
    wipe(web_services)
    return web_services


@dataclass
class World:
    citizen_qid: str
    child_qid: str
    citizen_code: str
    venue: venues.RegisteredVenue
    owner_login: str
    owner_password: str
    platform_key: str

    @property
    def venue_path(self) -> str:
        return self.venue.code[self.venue.code.index("/v/") :]


@pytest.fixture
def world(ctx: Services) -> World:
    platform = accounts.create_platform(ctx, OPERATOR, "App")
    app = ctx.authenticate("Bearer " + platform.api_key)
    reg = registry.Registration
    me = registry.register(
        ctx,
        app,
        reg("001093029317", "Nguyễn Lê Kha Hân", "1987-01-18", "male", "0944713700", "HS4010120878821"),
    )
    child = registry.register(ctx, app, reg("001215000123", "Nguyễn Hân Bảo", "2015-06-01", proxy_qid=me.qid))
    create_account(
        ctx, role="citizen", name="Nguyen Le Kha Han", password=PASSWORD, username="khahan", qid=me.qid
    )
    create_account(ctx, role="health_official", name="Official", password=PASSWORD, username="official")
    create_account(ctx, role="administrator", name="Admin", password=PASSWORD, username="admin")
    venue = venues.register(
        ctx,
        OPERATOR,
        venues.VenueRegistration(
            "Quán Phở",
            "restaurant",
            "Hà Nội",
            "Hoàn Kiếm",
            "Hàng Bạc",
            "1 Hàng Bạc",
            "0912345678",
            ("front", "back"),
        ),
    )
    venues.add_staff(ctx, OPERATOR, venue.venue_id, name="Gate", username="gate", password=PASSWORD)
    assert venue.owner_login and venue.owner_password
    return World(
        me.qid, child.qid, me.payload, venue, venue.owner_login, venue.owner_password, platform.api_key
    )


class Page:
    """A browser-like client: keeps cookies, never follows redirects on its own, reads CSRF tokens."""

    def __init__(self, app: Any, base_url: str = "http://testserver") -> None:
        self.http = TestClient(app, base_url=base_url, follow_redirects=False, raise_server_exceptions=False)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.get(path, **kwargs)

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        return self.http.post(path, data=data, **kwargs)

    def form_token(self, path: str = "/") -> str:
        """The CSRF token of a page's forms (the hidden ``csrf`` field)."""
        found = re.search(r'name="csrf" value="([^"]*)"', self.get(path).text)
        assert found, f"no csrf field on {path}"
        return found[1]

    def sign_in(self, login: str, password: str = PASSWORD, next_: str | None = None) -> httpx.Response:
        data = {"login": login, "password": password, "csrf": self.form_token("/")}
        if next_:
            data["next"] = next_
        return self.post("/", data)

    def submit(self, path: str, data: dict[str, str], page: str) -> httpx.Response:
        """POST a form of ``page`` with its CSRF token."""
        return self.post(path, {**data, "csrf": self.form_token(page)})

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def page(app: Any) -> Iterator[Callable[..., Page]]:
    made: list[Page] = []

    def make(base_url: str = "http://testserver") -> Page:
        made.append(Page(app, base_url))
        return made[-1]

    yield make
    for client in made:
        client.close()
