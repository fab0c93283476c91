"""Retention: the purge at the window's exact edges with an injected clock, killed midway, on both databases."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select, text

from tests.access.access_helpers import set_clock, vaccination, with_settings
from tests.support import OPERATOR
from unifiedqr.cli import main
from unifiedqr.config import RetentionSettings
from unifiedqr.services import retention
from unifiedqr.store import scan_partitions
from unifiedqr.store.access_models import HealthRecordRow, ScanKey
from unifiedqr.store.models import AuditEvent, Declaration
from unifiedqr.store.venue_models import ScanBatch, ScanEvent

US = dt.timedelta(microseconds=1)
HEALTH = {"address": {"province": "Hà Nội", "district": "Hoàn Kiếm"}}


def count(ctx, model) -> int:
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)))


def times(ctx, model, column) -> list[dt.datetime]:
    with ctx.db.read() as session:
        return sorted(session.scalars(select(column)))


@pytest.fixture
def base() -> dt.datetime:
    """An instant ten days ago, in the middle of a UTC day (its partition exists on PostgreSQL)."""
    day = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    return day.replace(hour=12, minute=0, second=0, microsecond=0)


def scan_at(world, payload: str, at: dt.datetime, key: str) -> None:
    item = {"idempotency_key": key, "at": at.isoformat(), "text": payload}
    assert world.staff.upload_scans(world.id, "dev", [item])["recorded"] == 1


def test_scans_and_keys_go_when_strictly_older_than_the_window(world, person, ctx, base):
    payload = person()["payload"]
    for n, at in enumerate((base - US, base, base + US)):
        scan_at(world, payload, at, f"k{n}")
    first = retention.purge(ctx, OPERATOR, base + dt.timedelta(days=30))
    assert (first.removed["scan_events"], first.removed["scan_keys"]) == (1, 1)
    assert times(ctx, ScanEvent, ScanEvent.occurred_at) == [base, base + US]
    assert times(ctx, ScanKey, ScanKey.occurred_at) == [base, base + US]
    second = retention.purge(ctx, OPERATOR, base + dt.timedelta(days=30) + US)
    assert second.removed["scan_events"] == 1
    assert times(ctx, ScanEvent, ScanEvent.occurred_at) == [base + US]


def test_declarations_batches_records_and_audit_have_their_own_windows(
    world, person, make_user, ctx, base, monkeypatch
):
    subject = person()
    official = make_user("health_official")
    for at in (base - US, base):
        set_clock(monkeypatch, ctx, at)
        subject["platform"].declare_health(subject["qid"], HEALTH)
        world.staff.upload_scans(world.id, "dev", [])
        official.add_health_record(subject["qid"], vaccination(at.date() - dt.timedelta(days=1)))
    with ctx.db.write() as session:
        rows = [
            {"role": "operator", "actor": "t", "action": "codes.reissued", "detail": "", "created_at": at}
            for at in (base - US, base)
        ]
        session.execute(insert(AuditEvent), rows)
    audit_before = count(ctx, AuditEvent)
    result = retention.purge(ctx, OPERATOR, base + dt.timedelta(days=30))
    assert (result.removed["declarations"], result.removed["scan_batches"]) == (1, 1)
    assert result.removed["health_records"] == 0 and result.removed["audit_events"] == 0
    assert times(ctx, Declaration, Declaration.created_at) == [base]
    assert times(ctx, ScanBatch, ScanBatch.received_at) == [base]
    result = retention.purge(ctx, OPERATOR, base + dt.timedelta(days=365))
    assert result.removed["health_records"] == 1 and times(
        ctx, HealthRecordRow, HealthRecordRow.created_at
    ) == [base]
    result = retention.purge(ctx, OPERATOR, base + dt.timedelta(days=730))
    assert result.removed["audit_events"] == 1
    assert count(ctx, AuditEvent) == audit_before - 1 + 3, "one row gone, one per purge added"


def test_a_purge_killed_midway_then_rerun_removes_everything_once(world, person, ctx, base, monkeypatch):
    payload = person()["payload"]
    for n in range(7):
        scan_at(world, payload, base + n * US, f"k{n}")
    with_settings(monkeypatch, ctx, retention=RetentionSettings(batch_rows=2))
    batches: list[int] = []

    def crash(table: str, n: int) -> None:
        batches.append(n)
        if table == "scan_events" and len(batches) == 2:
            raise KeyboardInterrupt("killed")

    later = base + dt.timedelta(days=31)
    if ctx.db.is_sqlite:
        with pytest.raises(KeyboardInterrupt):
            retention.purge(ctx, OPERATOR, later, crash)
        assert count(ctx, ScanEvent) == 3, "two committed batches of two are gone, the rest is there"
    else:  # stopped between a detach and its drop: the day is detached, not yet dropped
        day = scan_partitions.name_of(base.date())
        with ctx.db.write_engine.begin() as conn:
            conn.execute(text(f"ALTER TABLE scan_events DETACH PARTITION {day}"))
        assert count(ctx, ScanEvent) == 0
    rerun = retention.purge(ctx, OPERATOR, later)
    assert rerun.removed["scan_events"] == (3 if ctx.db.is_sqlite else 7)
    assert count(ctx, ScanEvent) == 0 and count(ctx, ScanKey) == 0
    assert retention.purge(ctx, OPERATOR, later).removed["scan_events"] == 0


def test_whole_days_are_dropped_on_postgresql_and_scans_keep_landing(world, person, ctx, base, backend):
    if backend != "postgresql":
        pytest.skip("partitions are PostgreSQL's")
    payload = person()["payload"]
    scan_at(world, payload, base, "old")
    result = retention.purge(ctx, OPERATOR, base + dt.timedelta(days=32))
    assert result.removed["scan_events"] == 1
    with ctx.db.read_engine.connect() as conn:
        days = scan_partitions.listed(conn)
    assert count(ctx, ScanEvent) == 0, "the day was dropped (and prepared again, empty: --now was ahead)"
    now = dt.datetime.now(dt.UTC)
    assert all(now.date() + dt.timedelta(days=n) in days for n in range(3)), "prepared again"
    scan_at(world, payload, now - dt.timedelta(minutes=1), "new")
    assert count(ctx, ScanEvent) == 1


def test_the_purge_command_prints_what_it_removed_per_table(world, person, ctx, base):
    scan_at(world, person()["payload"], base, "k")
    env = {"UNIFIEDQR_DATA_DIR": str(ctx.settings.data_dir)}
    url = ctx.settings.database_url
    later = (base + dt.timedelta(days=30) + US).isoformat()
    done = CliRunner().invoke(main, ["purge", "--database-url", url, "--now", later, "--json"], env=env)
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["removed"]["scan_events"] == 1 and set(result["removed"]) == set(retention.TABLES)
    assert result["now"] == later
    text_out = CliRunner().invoke(main, ["purge", "--database-url", url], env=env)
    assert text_out.exit_code == 0 and "scan_events" in text_out.stdout
    bad = CliRunner().invoke(main, ["purge", "--database-url", url, "--now", "tomorrow"], env=env)
    assert bad.exit_code == 1 and "--now" in bad.output


def test_one_setting_drives_the_window_and_the_too_old_refusal():
    from unifiedqr.config import Settings

    settings = Settings.from_env("sqlite:///x.sqlite", environ={"UNIFIEDQR_RETENTION_DAYS": "7"})
    assert settings.retention.days == settings.visit_rules.max_age_days == 7
    alias = Settings.from_env("sqlite:///x.sqlite", environ={"UNIFIEDQR_VISIT_MAX_AGE_DAYS": "9"})
    assert alias.retention.days == alias.visit_rules.max_age_days == 9
    assert (alias.retention.health_record_days, alias.retention.audit_days) == (365, 730)


def test_serve_runs_the_purge_on_a_schedule(ctx):
    import time

    schedule = retention.Schedule(ctx, OPERATOR).start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with ctx.db.read() as session:
                done = session.scalar(select(func.count()).where(AuditEvent.action == "data.purged"))
            if done:
                break
            time.sleep(0.05)
        assert done, "the first round runs at start"
    finally:
        schedule.stop()
