"""History reads go to a streaming replica within the freshness bound, and to the primary without it.

Runs on a private primary and replica (``pg_basebackup -R`` on other ports, see
``unifiedqr.selfcheck.postgres``); skipped, saying why, where that cannot start.
"""

from __future__ import annotations

import datetime as dt

import pytest
from tests.support import OPERATOR, open_test_services

from unifiedqr.selfcheck import postgres
from unifiedqr.services import accounts, venue_history, venues
from unifiedqr.services.checkins import StaffScan, staff_scan


@pytest.fixture(scope="module")
def cluster():
    reason = postgres.unavailable_reason()
    if reason:
        pytest.skip(reason)
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
