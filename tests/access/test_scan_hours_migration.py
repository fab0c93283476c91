"""Migration 0009 fills the dashboard's rollup from the events already stored, on both databases:
a database upgraded from 0008 with scans in it answers the dashboard as one made since."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from tests.conftest import PG_SERVER, _pg_answers
from tests.support import missing_service
from unifiedqr.store import scan_partitions
from unifiedqr.store.db import alembic_config
from unifiedqr.store.models import Account
from unifiedqr.store.venue_models import ScanEvent, ScanHour, Venue

AT = dt.datetime(2026, 11, 30, 9, 15, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite'}"
        return
    reason = _pg_answers()
    if reason:
        missing_service(reason)
    import psycopg

    name = f"uqr_test_mig_{secrets.token_hex(4)}"
    admin = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        scan_partitions.forget()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _migrate(url: str, revision: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def _owner() -> dict[str, object]:
    return {"id": 1, "public_id": "acc_owner", "role": "venue_owner", "name": "Owner", "password_hash": "x"}


def _venue(venue_id: int, province: str) -> dict[str, object]:
    return {
        "id": venue_id,
        "public_id": f"venue{venue_id}",
        "name": f"Venue {venue_id}",
        "kind": "shop",
        "province": province,
        "district": "d",
        "commune": "c",
        "street": "s",
        "owner_account_id": 1,
        "owner_phone_hash": bytes([venue_id]) * 32,
        "owner_phone_enc": b"x",
        "code_signature": "sig",
        "code_base_url": "https://example.test",
    }


def _event(venue: int, at: dt.datetime, direction: str, n: int) -> dict[str, object]:
    return {
        "venue_id": venue,
        "person_key": secrets.token_bytes(16),
        "source": "staff",
        "code_kind": "phone",
        "verification": "none",
        "direction": direction,
        "name_masked": "",
        "identity_enc": b"x",
        "idempotency_key": f"k{n}",
        "key_scope": "s",
        "device_at": at,
        "occurred_at": at,
        "received_at": at,
    }


def test_0009_fills_the_rollup_from_the_events(url: str) -> None:
    _migrate(url, "0008")
    venues = [_venue(1, "Hà Nội"), _venue(2, "Đà Nẵng"), _venue(3, "Hà Nội")]
    rows = [
        _event(1, AT, "in", 1),
        _event(1, AT + dt.timedelta(minutes=30), "in", 2),
        _event(1, AT + dt.timedelta(minutes=31), "duplicate", 3),
        _event(1, AT + dt.timedelta(minutes=40), "out", 4),
        _event(2, AT + dt.timedelta(hours=14), "in", 5),  # 23:15 UTC
        _event(3, AT + dt.timedelta(minutes=5), "in", 6),  # the same province as venue 1
    ]
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session, session.begin():
            if engine.dialect.name != "sqlite":
                scan_partitions.ensure_days(session, [r["occurred_at"] for r in rows])
            session.execute(insert(Account.__table__), [_owner()])
            session.execute(insert(Venue.__table__), venues)
            session.execute(insert(ScanEvent.__table__), rows)
        _migrate(url, "head")
        with Session(engine) as session:
            found = {(h.hour, h.province, h.direction): h.scans for h in session.scalars(select(ScanHour))}
    finally:
        engine.dispose()
    assert found == {
        (AT.replace(minute=0), "Hà Nội", "in"): 3,
        (AT.replace(minute=0), "Hà Nội", "out"): 1,
        (AT.replace(hour=23, minute=0), "Đà Nẵng", "in"): 1,
    }
