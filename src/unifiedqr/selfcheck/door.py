"""A venue ready for door scans: for the scale bench, the scale drill and the outage test.

Schema, one venue, its gate staff (a bearer token) and signed codes of distinct people: what a
door's scanners need, built through the service layer so the server under test sees real rows.
PostgreSQL only (``stored`` counts with psycopg, as an operator would check after a drill).
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Door:
    venue_id: str
    token: str
    codes: list[str]


def prepare(url: str, data: Path, codes: int) -> Door:
    from unifiedqr.codes.build import build
    from unifiedqr.codes.signing import sign_code
    from unifiedqr.config import Settings
    from unifiedqr.services import accounts, venues
    from unifiedqr.services.auth import host_operator
    from unifiedqr.services.context import Services
    from unifiedqr.store.db import upgrade

    upgrade(url)
    ctx = Services(Settings.from_env(url, environ={"UNIFIEDQR_DATA_DIR": str(data)}))
    operator = host_operator("door@localhost")
    try:
        reg = venues.VenueRegistration("Chợ Đêm", "market", "HCM", "Q1", "BT", "1 Lê Lợi", "0911111111")
        venue = venues.register(ctx, operator, reg)
        password = secrets.token_urlsafe(12)
        venues.add_staff(ctx, operator, venue.venue_id, name="Gate", username="gate", password=password)
        token = accounts.login(ctx, "gate", password).access_token
        now = dt.datetime.now(dt.UTC)
        key = ctx.keys.current(now)
        signed = [
            sign_code(
                build(document_number=f"{i + 10**11:012d}", full_name="Nguyen Van An",
                      birth_date="1990-01-01", qid=str(10**17 + i)),
                key,
                now,
            ).to_text()
            for i in range(codes)
        ]  # fmt: skip
        return Door(venue.venue_id, token, signed)
    finally:
        ctx.close()


def stored(url: str, venue: str) -> tuple[int, int]:
    """(distinct scan keys stored, scan rows stored) at the venue, read with psycopg directly."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        keys = conn.execute(
            "SELECT count(*) FROM scan_keys k JOIN venues v ON v.id = k.venue_id WHERE v.public_id = %s",
            (venue,),
        ).fetchone()[0]  # type: ignore[index]
        rows = conn.execute(
            "SELECT count(*) FROM scan_events e JOIN venues v ON v.id = e.venue_id WHERE v.public_id = %s",
            (venue,),
        ).fetchone()[0]  # type: ignore[index]
    return int(keys), int(rows)
