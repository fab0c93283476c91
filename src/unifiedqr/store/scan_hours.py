"""The dashboard's rollup: scans per UTC hour, province and direction, kept with every insert of events.

Every path that stores scans (a door's scan, a batch, the ingest consumer, the simulator) adds its
counts here in the same transaction, so the rollup is exactly the events: a late offline upload adds
to its own hour, an idempotent retry adds nothing (its events were skipped). A national day is then
at most 24 x 63 provinces x 2 directions x ``SHARDS`` rows, however many scans it had.

Contention: a counter row is locked from its update to the commit, so every writer in a province
would queue on its hour's row. Each transaction adds to one of ``SHARDS`` copies of its rows instead
(picked at random; the dashboard sums them), and upserts in one order (hour, province, direction),
so two writers never wait on each other in a cycle. Duplicates are not counted, as the dashboard
does not count them. The province is the venue's at the time of the scan.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Iterable, Mapping

from unifiedqr.store.sql import Raw, Statement

Key = tuple[dt.datetime, int, str]  # (UTC hour, venue id, direction)
SHARDS = 8
COUNTED = ("in", "out")

_UPSERT = Statement(
    "INSERT INTO scan_hours (hour, province, direction, shard, scans)"
    " VALUES (:hour, :province, :direction, :shard, :scans)"
    " ON CONFLICT (hour, province, direction, shard) DO UPDATE SET scans = scan_hours.scans + excluded.scans"
)
_PROVINCES = "SELECT id, province FROM venues WHERE id {in}"


def hour_of(at: dt.datetime) -> dt.datetime:
    return at.astimezone(dt.UTC).replace(minute=0, second=0, microsecond=0)


def tally(rows: Iterable[Mapping[str, object]]) -> Counter[Key]:
    """Counts of scan rows (``occurred_at``, ``venue_id``, ``direction``) per key; duplicates dropped."""
    counts: Counter[Key] = Counter()
    for row in rows:
        direction = row["direction"]
        if direction in COUNTED:
            at, venue = row["occurred_at"], row["venue_id"]
            assert isinstance(at, dt.datetime) and isinstance(venue, int) and isinstance(direction, str)
            counts[(hour_of(at), venue, direction)] += 1
    return counts


def add(raw: Raw, counts: Mapping[Key, int]) -> None:
    """Add ``counts`` to the rollup, in the caller's transaction (one indexed look-up of the
    venues' provinces, one upsert per hour, province and direction)."""
    if not counts:
        return
    venues = sorted({venue for _, venue, _ in counts})
    province = {int(v): str(p) for v, p in raw.rows_in(_PROVINCES, {}, venues)}
    by_province: Counter[tuple[dt.datetime, str, str]] = Counter()
    for (hour, venue, direction), n in counts.items():
        by_province[(hour, province.get(venue, ""), direction)] += n
    shard = random.randrange(SHARDS)
    raw.executemany(
        _UPSERT,
        [
            {"hour": raw.time(hour), "province": name, "direction": d, "shard": shard, "scans": n}
            for (hour, name, d), n in sorted(by_province.items())
        ],
    )
