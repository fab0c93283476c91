"""The hot tracing queries are index range reads, never a scan of scan_events; on a table partitioned
by day of ``occurred_at`` (issue 11's scheme) they read only the partitions their ranges touch.

PostgreSQL's planner decides by statistics, so the data is a simulated population (a few tens of
thousands of scans, ``ANALYZE``d by the simulator). SQLite has no statistics to go by: its plans are
checked for the index they name.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.support import OPERATOR
from unifiedqr.services.simulation import SimulationRequest, simulate
from unifiedqr.store.sql import Raw, Statement
from unifiedqr.store.tracing_rows import contacts_statement, range_params

START = "2026-10-01"


def _ranges(ctx, count: int = 5) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """Index ranges as a trace makes them: a busy person's scans ± 60 minutes."""
    with ctx.db.read() as session:
        rows = (
            session.connection()
            .exec_driver_sql(
                f"SELECT venue_id, occurred_at FROM scan_events ORDER BY id LIMIT {int(count)}"  # noqa: S608
            )
            .all()
        )
    out = []
    for venue, at in rows:
        at = at if isinstance(at, dt.datetime) else dt.datetime.fromisoformat(at)
        at = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at
        out.append((int(venue), at - dt.timedelta(minutes=60), at + dt.timedelta(minutes=60)))
    return out


def _plan(ctx, statement: Statement, params: dict) -> str:
    with ctx.db.read() as session:
        raw = Raw.of(session)
        prefix = "EXPLAIN QUERY PLAN " if raw.sqlite else "EXPLAIN (COSTS OFF) "
        rows = raw.rows(Statement(prefix + statement.sqlite), params)
    return "\n".join(str(r[-1]) for r in rows)


@pytest.fixture
def population(ctx):
    simulate(ctx, OPERATOR, SimulationRequest(people=12_000, venues=150, days=6, seed=2, start=START))
    return ctx


def test_contacts_and_case_scans_are_index_range_reads(population):
    ctx = population
    ranges = _ranges(ctx)
    with ctx.db.read() as session:
        params = range_params(Raw.of(session), ranges)
    plan = _plan(ctx, contacts_statement(len(ranges)), params)
    # the index itself on SQLite; each day partition's copy of it on PostgreSQL (issue 11)
    assert re.search(r"(ix_scan_events|scan_events_p\d{8})_venue_id_occurred_at", plan), plan
    assert "Seq Scan" not in plan and not re.search(r"SCAN scan_events\b(?! USING)", plan), plan
    case = Statement(
        "SELECT person_key, venue_id, occurred_at, explicit FROM scan_events"
        " WHERE person_key IN (:k0, :k1) AND occurred_at >= :start AND occurred_at <= :end"
    )
    with ctx.db.read() as session:
        raw = Raw.of(session)
        bounds = {"start": raw.time(ranges[0][1]), "end": raw.time(ranges[0][2] + dt.timedelta(days=14))}
    case_plan = _plan(ctx, case, {"k0": b"a" * 16, "k1": b"b" * 16, **bounds})
    assert re.search(r"(ix_scan_events|scan_events_p\d{8})_person_key_occurred_at", case_plan), case_plan
    assert "Seq Scan" not in case_plan


@pytest.mark.postgres
def test_contacts_read_only_the_day_partitions_their_ranges_touch(population):
    """Issue 11 partitions scan_events by UTC day of occurred_at: the contacts statement prunes."""
    ctx = population
    if ctx.db.is_sqlite:
        pytest.skip("partitioning is PostgreSQL's")
    ranges = _ranges(ctx, 3)
    with ctx.db.read() as session:
        params = range_params(Raw.of(session), ranges)
    plan = _plan(ctx, contacts_statement(len(ranges)), params)
    touched = set(re.findall(r"scan_events_p(\d{8})", plan))
    allowed = {f"{(at.astimezone(dt.UTC)).date():%Y%m%d}" for _, s, e in ranges for at in (s, e)}
    assert touched and touched <= allowed, plan
    assert "Seq Scan" not in plan, plan
