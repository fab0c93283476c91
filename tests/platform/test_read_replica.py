"""History reads go to a streaming replica within the freshness bound, and to the primary without it.

Runs on a private primary and replica (``pg_basebackup -R`` on other ports, see
``unifiedqr.selfcheck.postgres``); skipped, saying why, where that cannot start.
"""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support import OPERATOR, missing_service, open_test_services

from unifiedqr.selfcheck import postgres
from unifiedqr.services import accounts, venue_history, venues
from unifiedqr.services.checkins import StaffScan, staff_scan


@pytest.fixture(scope="module")
def cluster():
    reason = postgres.unavailable_reason()
    if reason:
        missing_service(reason)
    pair = postgres.Cluster()
    pair.add_replica()
    yield pair
    pair.close()


def test_history_reads_use_a_fresh_replica_and_fall_back_to_the_primary(cluster, tmp_path):
    ctx = open_test_services(
        cluster.primary.url, tmp_path / "s", replica_url=cluster.replica.url, replica_max_lag_seconds=5
    )
    try:
        venue = venues.register(
            ctx, OPERATOR, venues.VenueRegistration("Chợ", "market", "HN", "HK", "HB", "1", "0911111111")
        )
        venues.add_staff(
            ctx, OPERATOR, venue.venue_id, name="Gate", username="gate", password="correct horse"
        )
        staff = ctx.credential(accounts.login(ctx, "gate", "correct horse").access_token)
        scan = staff_scan(ctx, staff, StaffScan(venue.venue_id, phone="0987654321"))
        assert scan.direction == "in"
        owner = ctx.credential(accounts.login(ctx, "0911111111", venue.owner_password or "").access_token)
        cluster.wait_for_replica()
        replica = ctx.db.replica
        assert replica is not None and replica.lag() is not None
        day = ctx.venues.rules.local_day(dt.datetime.now(dt.UTC))
        before = replica.reads
        seen = venue_history.hourly_counts(ctx, owner, venue.venue_id, day)
        assert seen.total_check_ins == 1 and replica.reads == before + 1, "read on the replica"
        cluster.replica.stop()
        replica._checked = 0.0  # re-measure now rather than within the second
        again = venue_history.hourly_counts(ctx, owner, venue.venue_id, day)
        assert again.total_check_ins == 1 and replica.reads == before + 1, "the primary served it"
        cluster.replica.start()
    finally:
        ctx.close()


def test_tracing_reads_on_the_replica_with_the_audit_on_the_primary(cluster, tmp_path):
    """Issue 15: a replica serves tracing reads; the case's audit row is committed on the primary
    before the replica is read, and the rows for the people shown before the answer leaves."""
    from sqlalchemy import select
    from tests.support import create_account

    from unifiedqr.services import registry, tracing
    from unifiedqr.store.models import AuditEvent

    ctx = open_test_services(
        cluster.primary.url, tmp_path / "t", replica_url=cluster.replica.url, replica_max_lag_seconds=5
    )
    try:
        venue = venues.register(
            ctx, OPERATOR, venues.VenueRegistration("Quán", "restaurant", "HN", "HK", "HB", "2", "0922222222")
        )
        venues.add_staff(
            ctx, OPERATOR, venue.venue_id, name="Gate", username="gate2", password="correct horse"
        )
        staff = ctx.credential(accounts.login(ctx, "gate2", "correct horse").access_token)
        platform = ctx.authenticate("Bearer " + accounts.create_platform(ctx, OPERATOR, "P").api_key)
        case_person, contact = (
            registry.register(ctx, platform, registry.Registration(number, name, "1990-01-01"))
            for number, name in (("001090000011", "Nguyen Van A"), ("001090000022", "Tran Thi B"))
        )
        at = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
        for who, minutes in ((case_person, 0), (contact, 5)):
            assert isinstance(who, registry.Issued)
            when = (at + dt.timedelta(minutes=minutes)).isoformat()
            staff_scan(ctx, staff, StaffScan(venue.venue_id, text=who.payload, at=when))
        create_account(ctx, role="health_official", name="Official", password="pw-official", username="off")
        official = ctx.credential(accounts.login(ctx, "off", "pw-official").access_token)
        assert isinstance(case_person, registry.Issued) and isinstance(contact, registry.Issued)
        start, end = (at - dt.timedelta(days=1)).isoformat(), dt.datetime.now(dt.UTC).isoformat()
        case = tracing.open_case(ctx, official, tracing.NewCase(case_person.qid, start, end))
        cluster.wait_for_replica()
        replica = ctx.db.replica
        assert replica is not None
        before = replica.reads
        listed = tracing.candidates(ctx, official, case.case_id)
        assert [c.qid for c in listed.candidates] == [contact.qid]
        assert replica.reads == before + 1, "the trace was read on the replica"
        with ctx.db.read() as session:  # the primary
            rows = session.scalars(
                select(AuditEvent)
                .where(AuditEvent.action == "tracing.candidates.read")
                .order_by(AuditEvent.id)
            ).all()
        assert [r.detail.split()[-1] for r in rows] == ["case)", contact.qid], "the case's row first"
        assert all(r.purpose == "tracing" for r in rows)
    finally:
        ctx.close()
