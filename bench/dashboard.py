"""Benchmark: the officials' dashboard (a day's scans per local hour and province) beside raw SQL.

A simulated population (``unifiedqr simulate``'s model: people, venues, days of scans) in SQLite and
in PostgreSQL; then, for the busiest simulated day:

- ``dashboard_<db>_p50`` / ``_p99``: ``services.dashboard.overview`` (permission check, the grouped
  query with the local hour computed in the database, the open-cases count, shaping), in ms;
- ``dashboard_sql_<db>_p50``: the floor, a raw ``SELECT venue_id, count(*) ... GROUP BY venue_id``
  over the same day (reading every row of the day once, no hour, no join), in ms;
- ``dashboard_<db>_vs_sql``: the service's p50 beside the floor's (ratio > 1: the service is slower);
- ``dashboard_<db>_rollup_rows``: the rollup rows the day has (``scan_hours``: at most 24 hours x
  provinces x 2 directions x shards, whatever the day's volume; the raw query reads every event).

``--quick`` (10 k people, 400 venues, 7 days) finishes within a minute; the default is 100 k people,
4 000 venues, 7 days (about 1.5 M scans), a few minutes.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from support.common import open_services, report, row
from support.servers import drop_pg, pg_answers, pg_database
from tracing import official, simulate_into

ROUNDS = 30


def _busiest_day(ctx: Any) -> str:
    from sqlalchemy import func, select

    from unifiedqr.store.venue_models import ScanEvent

    rules = ctx.venues.rules
    with ctx.db.read() as session:
        span = select(func.min(ScanEvent.occurred_at), func.max(ScanEvent.occurred_at))
        first, last = session.execute(span).one()
    # The simulated days are alike; the middle one is whole in local time.
    middle = first + (last - first) / 2
    return rules.local_day(middle).isoformat()


def _raw(ctx: Any, day: str) -> float:
    import datetime as dt

    from sqlalchemy import func, select

    from unifiedqr.store.venue_models import ScanEvent

    rules = ctx.venues.rules
    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), dt.UTC) - rules.offset
    query = (
        select(ScanEvent.venue_id, func.count())
        .where(ScanEvent.occurred_at >= start, ScanEvent.occurred_at < start + dt.timedelta(days=1))
        .group_by(ScanEvent.venue_id)
    )
    began = time.perf_counter()
    with ctx.db.read() as session:
        session.execute(query).all()
    return (time.perf_counter() - began) * 1000


def _rollup_rows(ctx: Any, day: str) -> int:
    import datetime as dt

    from sqlalchemy import func, select

    from unifiedqr.store.venue_models import ScanHour

    start = dt.datetime.combine(dt.date.fromisoformat(day), dt.time(), dt.UTC) - ctx.venues.rules.offset
    window = (ScanHour.hour >= start, ScanHour.hour < start + dt.timedelta(days=1))
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(ScanHour).where(*window)) or 0)


def _ours(ctx: Any, who: Any, day: str) -> tuple[float, Any]:
    from unifiedqr.services import dashboard

    began = time.perf_counter()
    found = dashboard.overview(ctx, who, day)
    return (time.perf_counter() - began) * 1000, found


def measure(dialect: str, people: int, venues: int, days: int, tmp: Path) -> list[dict[str, Any]]:
    name = f"uqr_bench_dashboard_{people}"
    if dialect == "sqlite":
        url = f"sqlite:///{tmp / 'dashboard.sqlite'}"
    else:
        url, _, _ = pg_database(name)
    ctx, operator = open_services(url, tmp / f"{dialect}.secrets")
    try:
        print(f"{dialect}: simulating {people} people, {venues} venues, {days} days ...", file=sys.stderr)
        simulate_into(ctx, operator, people, venues, days)
        day = _busiest_day(ctx)
        who = official(ctx, operator)  # sees the open-cases count too
        _, found = _ours(ctx, who, day)  # warm both paths
        _raw(ctx, day)
        ours, raw = [], []
        for _ in range(ROUNDS):  # interleaved, so a neighbour's load hits both alike
            ours.append(_ours(ctx, who, day)[0])
            raw.append(_raw(ctx, day))
        ours.sort()
        scans = found.total_check_ins + found.total_check_outs
        return [
            row(f"dashboard_{dialect}_day_scans", scans, "scans", provinces=len(found.provinces)),
            row(f"dashboard_{dialect}_p50", statistics.median(ours), "ms"),
            row(f"dashboard_{dialect}_p99", ours[min(len(ours) - 1, int(len(ours) * 0.99))], "ms"),
            row(f"dashboard_sql_{dialect}_p50", statistics.median(raw), "ms"),
            row(f"dashboard_{dialect}_vs_sql", statistics.median(ours), "ms", statistics.median(raw)),
            row(f"dashboard_{dialect}_rollup_rows", _rollup_rows(ctx, day), "rows", scans),
        ]
    finally:
        ctx.close()
        if dialect == "postgresql":
            drop_pg(name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="10 k people, under a minute")
    args = parser.parse_args()
    people, venues, days = (10_000, 400, 7) if args.quick else (100_000, 4_000, 7)
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for dialect in ("sqlite", "postgresql"):
            if dialect == "postgresql" and not pg_answers():
                print("PostgreSQL does not answer: its rows are not measured", file=sys.stderr)
                continue
            rows += measure(dialect, people, venues, days, Path(tmp))
    report("dashboard", rows)


if __name__ == "__main__":
    main()
