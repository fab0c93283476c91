"""PostgreSQL day partitions of ``scan_events``: naming, creating them ahead and on demand, dropping old ones.

Part of the scan storage layer beside :mod:`unifiedqr.store.scan_rows` (the statements on events):
this module holds the partition DDL, PostgreSQL only. Why each step takes the locks it takes
(measured on PostgreSQL 15, docs/decisions.md):

- a day is created as a plain table ``LIKE scan_events`` and then ``ATTACH``\\ ed: attaching takes
  only ``SHARE UPDATE EXCLUSIVE`` on the parent, so inserts and reads in flight never wait (a
  ``CREATE TABLE ... PARTITION OF`` takes ``ACCESS EXCLUSIVE`` and waited for every open scan
  transaction). That is also why ``scan_events`` has no foreign keys: attaching a partition of a
  table with one locks the referenced table (venues, batches) against inserts;
- there is no default partition: with one, every attach must scan it, and the purge could not
  ``DETACH ... CONCURRENTLY``, which waits for older transactions without blocking new ones;
- days are created ahead by maintenance (:func:`prepare`: the retention window and three days
  ahead, run by ``serve``'s schedule, the purge and the migration) and, as a fallback, by the insert
  that meets a day not seen yet (:func:`ensure_days`, cached per process for a minute);
- a day is dropped only when it ends at or before the purge's cutoff; a purge killed between the
  detach and the drop leaves a detached table (or a pending detach), which the next purge finishes.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Callable, Iterable

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from unifiedqr.errors import ConfigError

PARENT = "scan_events"
PREFIX = "scan_events_p"
CACHE_SECONDS = 60.0
LOCK_TIMEOUT = "5s"
_LOCK_ID = 1_100_411  # pg_advisory_xact_lock: one creator of partitions at a time
_PURGE_LOCK_ID = 1_100_412  # pg_try_advisory_lock: one purge dropping days at a time
_NAME = re.compile(r"scan_events_p([0-9]{8})")
_known: dict[str, tuple[float, set[dt.date]]] = {}
_guard = threading.Lock()


def day_of(instant: dt.datetime) -> dt.date:
    return instant.astimezone(dt.UTC).date()


def name_of(day: dt.date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)
    return start, start + dt.timedelta(days=1)


def is_partition(name: str) -> bool:
    return _NAME.fullmatch(name) is not None


def _day(name: str) -> dt.date | None:
    match = _NAME.fullmatch(name)
    return dt.datetime.strptime(match[1], "%Y%m%d").date() if match else None


def listed(conn: Connection) -> dict[dt.date, tuple[str, bool]]:
    """The attached day partitions: day -> (table name, detach pending)."""
    rows = conn.execute(
        text(
            "SELECT c.relname, i.inhdetachpending FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = 'scan_events'::regclass"
        )
    ).all()
    return {day: (name, bool(pending)) for name, pending in rows if (day := _day(name)) is not None}


def detached(conn: Connection) -> list[str]:
    """Day tables no longer attached (a purge stopped between its detach and its drop)."""
    rows = conn.execute(
        text(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind = 'r' AND c.relname LIKE 'scan\\_events\\_p%' AND n.nspname = current_schema()"
            " AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)"
        )
    ).scalars()
    return [name for name in rows if _day(name) is not None]


def create_day(conn: Connection, day: dt.date) -> bool:
    """Create and attach ``day``'s partition in ``conn``'s transaction unless it exists; True if created."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
    if day in listed(conn):
        return False
    name = name_of(day)
    start, end = bounds(day)
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {name} (LIKE {PARENT} INCLUDING DEFAULTS)"))
    conn.execute(
        text(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name}"
            f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
        )
    )
    return True


def create_days(engine: Engine, days: Iterable[dt.date]) -> int:
    """Create the missing partitions of ``days``, one short transaction each; how many were created."""
    created = 0
    for day in sorted(set(days)):
        with engine.begin() as conn:
            created += create_day(conn, day)
    return created


def prepare(engine: Engine, now: dt.datetime, retention_days: int, ahead_days: int = 3) -> int:
    """Maintenance: partitions for every day a scan may be recorded on (the window and a few ahead)."""
    first = day_of(now - dt.timedelta(days=retention_days + 1))
    last = day_of(now + dt.timedelta(days=ahead_days))
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    with engine.connect() as conn:
        have = set(listed(conn))
    created = create_days(engine, [d for d in days if d not in have])
    forget(engine)
    return created


def forget(engine: Engine | None = None) -> None:
    with _guard:
        if engine is None:
            _known.clear()
        else:
            _known.pop(str(engine.url), None)


def ensure_days(session: Session, instants: Iterable[dt.datetime], *, refresh: bool = False) -> None:
    """Make sure the partitions of ``instants`` exist before an insert (cached per process).

    Missing days are created on their own connection, so the caller's transaction (which may hold
    locks on ``scan_events`` already) is never the one that waits.
    """
    days = {day_of(t) for t in instants}
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    key = str(engine.url)
    cached = _known.get(key)
    if not refresh and cached is not None and cached[0] > time.monotonic() and days <= cached[1]:
        return
    have = set(listed(session.connection()))
    missing = days - have
    if missing:
        try:
            create_days(engine, missing)
        except DBAPIError:  # lock_timeout: a purge detaching days waits for this very transaction
            raise ConfigError("occurred_at", "this day's partition is being prepared; retry") from None
        have |= missing
    with _guard:
        _known[key] = (time.monotonic() + CACHE_SECONDS, have)


def drop_before(engine: Engine, cutoff: dt.datetime, progress: Callable[[int], None]) -> int:
    """Drop every day partition that ends at or before ``cutoff``; the rows they held.

    ``DETACH ... CONCURRENTLY`` waits for older transactions without blocking new ones, then the
    detached table is dropped; a pending detach or a detached table left by a killed purge is
    finished first.
    """
    removed = 0
    with engine.connect() as conn:
        days = listed(conn)
        leftovers = detached(conn)
    old = [(day, name, pending) for day, (name, pending) in sorted(days.items()) if bounds(day)[1] <= cutoff]
    auto = engine.execution_options(isolation_level="AUTOCOMMIT")
    with auto.connect() as conn:
        if not conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": _PURGE_LOCK_ID}).scalar():
            return 0  # another node's purge is dropping these days right now
        try:
            for name in leftovers:
                day = _day(name)
                if day is not None and bounds(day)[1] <= cutoff:
                    removed += _count_and_drop(conn, name, progress)
            for _, name, pending in old:
                mode = "FINALIZE" if pending else "CONCURRENTLY"
                conn.execute(text(f"ALTER TABLE {PARENT} DETACH PARTITION {name} {mode}"))
                removed += _count_and_drop(conn, name, progress)
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": _PURGE_LOCK_ID})
    forget(engine)
    return removed


def _count_and_drop(conn: Connection, name: str, progress: Callable[[int], None]) -> int:
    count = int(conn.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())  # noqa: S608
    conn.execute(text(f"DROP TABLE {name}"))
    progress(count)
    return count
