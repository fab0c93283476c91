"""The scan storage scheme: idempotency keys apart and scoped by device, day partitions on PostgreSQL."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import func, select, text

from tests.venues.venue_helpers import local_time
from unifiedqr.store import scan_partitions
from unifiedqr.store.access_models import ScanKey
from unifiedqr.store.venue_models import ScanEvent


def count(ctx, model=ScanEvent) -> int:
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def item(key: str, at: str, payload: str) -> dict:
    return {"idempotency_key": key, "at": at, "text": payload}


def test_two_devices_with_the_same_key_do_not_collide(world, person, ctx):
    payload = person()["payload"]
    one = world.staff.upload_scans(world.id, "gate-1", [item("k-1", local_time(1, 8), payload)])
    two = world.staff.upload_scans(world.id, "gate-2", [item("k-1", local_time(1, 9), payload)])
    assert (one["recorded"], two["recorded"]) == (1, 1)
    assert count(ctx) == 2 and count(ctx, ScanKey) == 2


def test_a_single_scan_resent_in_its_devices_batch_is_stored_once(world, person, ctx):
    payload = person()["payload"]
    body = {"text": payload, "idempotency_key": "s-1", "device_id": "gate-1", "at": local_time(1, 8)}
    first = world.staff.raw("POST", f"/venues/{world.id}/scans", json=body)
    assert first.status_code == 201
    batch = world.staff.upload_scans(world.id, "gate-1", [item("s-1", local_time(1, 8), payload)])
    assert (batch["recorded"], batch["already_recorded"]) == (0, 1)
    assert batch["results"][0]["direction"] == "in"
    other = world.staff.upload_scans(world.id, "gate-2", [item("s-1", local_time(1, 8), payload)])
    assert other["recorded"] == 1, "another device's key space"
    assert count(ctx) == 2


def test_single_scans_without_a_device_share_the_accounts_key_space(world, person, ctx):
    payload = person()["payload"]
    body = {"text": payload, "idempotency_key": "s-2", "at": local_time(1, 8)}
    assert world.staff.raw("POST", f"/venues/{world.id}/scans", json=body).status_code == 201
    again = world.staff.raw("POST", f"/venues/{world.id}/scans", json=body)
    assert again.status_code == 200 and again.json()["status"] == "already_recorded"
    with_device = world.staff.raw("POST", f"/venues/{world.id}/scans", json={**body, "device_id": "gate-9"})
    assert with_device.status_code == 201
    assert count(ctx) == 2


def test_a_retried_upload_is_stored_once_whatever_its_corrected_time(world, person, ctx):
    """The device clock moved between retries: the corrected time crosses a UTC day, the key does not."""
    payload = person()["payload"]
    now = dt.datetime.now(dt.UTC)
    at = (now - dt.timedelta(days=2)).replace(hour=23, minute=58, second=0, microsecond=0)
    scans = [item("late-1", at.isoformat(), payload)]
    first = world.staff.upload_scans(world.id, "dev", scans, sent_at=now.isoformat())
    skewed = world.staff.upload_scans(
        world.id, "dev", scans, sent_at=(now - dt.timedelta(minutes=10)).isoformat()
    )
    assert (first["recorded"], skewed["recorded"], skewed["already_recorded"]) == (1, 0, 1)
    assert skewed["skew_corrected"]
    assert count(ctx) == 1


def test_day_partitions_on_postgresql(world, person, ctx, backend):
    if backend != "postgresql":
        pytest.skip("SQLite has one table")
    payload = person()["payload"]
    with ctx.db.read_engine.connect() as conn:
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'scan_events'")).scalar()
        assert kind == "p", "partitioned"
        days = scan_partitions.listed(conn)
    today = dt.datetime.now(dt.UTC).date()
    assert {today + dt.timedelta(days=n) for n in range(-29, 3)} <= set(days), "prepared ahead"
    # A day whose partition is missing is created by the insert that needs it.
    missing = today - dt.timedelta(days=5)
    with ctx.db.write_engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {scan_partitions.name_of(missing)}"))
    scan_partitions.forget()
    at = dt.datetime(missing.year, missing.month, missing.day, 12, tzinfo=dt.UTC)
    world.staff.upload_scans(world.id, "dev", [item("p-1", at.isoformat(), payload)])
    with ctx.db.read_engine.connect() as conn:
        assert missing in scan_partitions.listed(conn)
        on_day = conn.execute(text(f"SELECT count(*) FROM {scan_partitions.name_of(missing)}")).scalar()  # noqa: S608
    assert on_day == 1


def test_day_bounded_queries_read_only_their_days(world, person, ctx, backend):
    if backend != "postgresql":
        pytest.skip("partition pruning is PostgreSQL's")
    start = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=3)
    with ctx.db.read_engine.connect() as conn:
        plan = "\n".join(
            conn.execute(
                text(
                    "EXPLAIN SELECT person_key, occurred_at FROM scan_events"
                    " WHERE venue_id = 1 AND occurred_at >= :start AND occurred_at < :end"
                ),
                {"start": start, "end": start + dt.timedelta(days=1)},
            ).scalars()
        )
    day = scan_partitions.name_of(start.date())
    assert set(re.findall(r"scan_events_p[0-9]{8}", plan)) == {day}, plan


def test_the_audit_table_is_append_only_on_postgresql(ctx, backend):
    if backend != "postgresql":
        pytest.skip("SQLite is the embedded single-user store: its file's owner can do anything")
    import psycopg

    from tests.support import OPERATOR
    from unifiedqr.services.audit import AuditAction, record

    with ctx.db.write() as session:
        record(session, OPERATOR, AuditAction.CODES_REISSUED, detail="row")
    dsn = ctx.db.read_engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    for statement in (
        "UPDATE audit_events SET detail = 'changed'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ):
        with psycopg.connect(dsn) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
    role = f"uqr_app_{dt.datetime.now().microsecond}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
        conn.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON audit_events TO {role}")
    try:
        with psycopg.connect(dsn.replace("postgres@", f"{role}@")) as conn:
            conn.execute("SELECT set_config('unifiedqr.audit_purge', 'on', true)")
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("DELETE FROM audit_events")
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"REVOKE ALL ON audit_events FROM {role}")
            conn.execute(f"DROP ROLE {role}")
    with psycopg.connect(dsn) as conn:  # the owner, on the purge path
        conn.execute("SELECT set_config('unifiedqr.audit_purge', 'on', true)")
        assert conn.execute("DELETE FROM audit_events").rowcount >= 1
