"""A throwaway platform for the self-check: a fresh SQLite database with one account of every role.

Everything is made through the services, as the host operator would, then each role logs in, so the
credentials are the real kinds (API keys for platforms, bearer tokens for people).
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from unifiedqr.config import Settings
from unifiedqr.services import accounts, registry, venues
from unifiedqr.services.auth import host_operator
from unifiedqr.services.context import Services
from unifiedqr.store.db import upgrade

OPERATOR = host_operator("selfcheck@localhost")


@dataclass
class World:
    """The database, its service container and a credential per role (None: anonymous)."""

    directory: Path
    database_url: str
    ctx: Services
    credentials: dict[str, str | None] = field(default_factory=dict)
    qid: str = ""
    venue_id: str = ""

    def close(self) -> None:
        self.ctx.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def _password() -> str:
    return secrets.token_urlsafe(12)


def build_world(settings: Settings | None = None) -> World:
    """A fresh database in a temporary directory, seeded with every role."""
    directory = Path(tempfile.mkdtemp(prefix="unifiedqr-selfcheck-"))
    url = f"sqlite:///{directory / 'selfcheck.sqlite'}"
    base = settings or Settings.from_env(url, environ={"UNIFIEDQR_DATA_DIR": str(directory / "secrets")})
    base = replace(base, database_url=url, data_dir=directory / "secrets")
    upgrade(url)
    ctx = Services(base)
    world = World(directory, url, ctx)
    try:
        _seed(world)
    except BaseException:
        world.close()
        raise
    return world


def _login(ctx: Services, role: str, **fields: str | None) -> str:
    password = _password()
    username = f"{role.replace('_', '')}{secrets.token_hex(3)}"
    request = accounts.AccountRequest(role, f"Self-check {role}", password, username=username, **fields)
    accounts.create_account(ctx, OPERATOR, request)
    return accounts.login(ctx, username, password).access_token


def _seed(world: World) -> None:
    ctx = world.ctx
    platform = accounts.create_platform(ctx, OPERATOR, "Self-check platform")
    other = accounts.create_platform(ctx, OPERATOR, "Self-check other platform")
    issued = registry.register(
        ctx,
        ctx.credential(platform.api_key),
        registry.Registration("001093029317", "Nguyễn Lê Kha Hân", "1987-01-18", phone="0944713700"),
    )
    registration = venues.VenueRegistration(
        "Quán Phở", "restaurant", "Hà Nội", "Hoàn Kiếm", "Hàng Bạc", "1", "0987000111"
    )
    venue = venues.register(ctx, OPERATOR, registration)
    staff_password = _password()
    staff_login = f"staff{secrets.token_hex(3)}"
    venues.add_staff(
        ctx, OPERATOR, venue.venue_id, name="Gate", username=staff_login, password=staff_password
    )
    assert venue.owner_password is not None
    assert isinstance(issued, registry.Issued), "a fresh database: a new person, no consent needed"
    world.qid, world.venue_id = issued.qid, venue.venue_id
    world.credentials = {
        "anonymous": None,
        "administrator": _login(ctx, "administrator"),
        "platform": platform.api_key,
        "other_platform": other.api_key,
        "venue_owner": accounts.login(ctx, "0987000111", venue.owner_password).access_token,
        "venue_staff": accounts.login(ctx, staff_login, staff_password).access_token,
        "health_official": _login(ctx, "health_official"),
        "assessor": _login(ctx, "assessor"),
        "citizen": _login(ctx, "citizen", qid=issued.qid),
    }
