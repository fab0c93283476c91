"""Retention (spec §9): data older than its window is deleted for good, by ``unifiedqr purge`` and ``serve``.

Windows (``config.RetentionSettings``): scan and check-in events, their idempotency keys, offline
batches and declarations ``UNIFIEDQR_RETENTION_DAYS`` (30; the same number refuses scans older than
it as ``too_old``, so nothing is accepted that the next purge would delete); health records 365 days,
audit rows 730 (they hold no health data). A row goes when its time is **strictly older** than
``now - window``: ``occurred_at`` for scans and keys, ``received_at`` for batches, ``created_at``
for the rest. Visits are derived from events, so nothing else holds them.

How (measured in bench/lookups.py): on PostgreSQL, whole days of scans are dropped
(:func:`unifiedqr.store.scan_partitions.drop_before`) and only the day containing the cutoff is
deleted row by row; everywhere else rows go in batches of ``UNIFIEDQR_PURGE_BATCH_ROWS``, each its
own short transaction, so a purge never holds SQLite's writer lock for long and a purge killed
midway has committed what it did: running it again finishes the job.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.store import scan_partitions, scan_rows
from unifiedqr.store.access_models import HealthRecordRow
from unifiedqr.store.db import allow_audit_deletes
from unifiedqr.store.models import AuditEvent, Declaration
from unifiedqr.store.venue_models import ScanBatch

log = logging.getLogger("unifiedqr.retention")
TABLES = ("scan_events", "scan_keys", "scan_batches", "declarations", "health_records", "audit_events")
_ORM: dict[str, tuple[Any, Any]] = {
    "scan_batches": (ScanBatch.id, ScanBatch.received_at),
    "declarations": (Declaration.id, Declaration.created_at),
    "health_records": (HealthRecordRow.id, HealthRecordRow.created_at),
    "audit_events": (AuditEvent.id, AuditEvent.created_at),
}
Progress = Callable[[str, int], None]
#: PostgreSQL has no single writer lock: its row deletes (the edge day, keys, declarations) go in
#: batches this many times larger (measured 6.9k rows/s at 500 a batch, bench/lookups.py).
PG_BATCH_FACTOR = 50


@dataclass(frozen=True)
class PurgeResult:
    now: dt.datetime
    cutoffs: dict[str, dt.datetime]
    removed: dict[str, int]
    seconds: float


def cutoffs(ctx: Services, now: dt.datetime) -> dict[str, dt.datetime]:
    """Per table, the instant before which rows are deleted."""
    window = ctx.settings.retention
    short = now - dt.timedelta(days=window.days)
    out = dict.fromkeys(TABLES[:4], short)
    out["health_records"] = now - dt.timedelta(days=window.health_record_days)
    out["audit_events"] = now - dt.timedelta(days=window.audit_days)
    return out


def purge(
    ctx: Services,
    principal: Principal,
    now: dt.datetime | None = None,
    progress: Progress = lambda _table, _n: None,
) -> PurgeResult:
    """Delete everything past its window (see the module docstring); counts per table."""
    principal.require(Permission.DATA_PURGE)
    started = time.monotonic()
    now = now or ctx.now()
    cut = cutoffs(ctx, now)
    removed = {"scan_events": _purge_scans(ctx, cut["scan_events"], progress)}
    removed["scan_keys"] = _batches(ctx, "scan_keys", cut["scan_keys"], progress)
    for table in TABLES[2:]:
        removed[table] = _batches(ctx, table, cut[table], progress)
    if not ctx.db.is_sqlite:  # the days ahead exist whatever --now dropped
        scan_partitions.prepare(ctx.db.write_engine, ctx.now(), ctx.settings.retention.days)
    with ctx.db.write() as session:
        counts = ", ".join(f"{t} {n}" for t, n in removed.items())
        record(session, principal, AuditAction.DATA_PURGED, detail=f"before {now.isoformat()}: {counts}")
    return PurgeResult(now, cut, removed, round(time.monotonic() - started, 3))


def _purge_scans(ctx: Services, cutoff: dt.datetime, progress: Progress) -> int:
    dropped = 0
    if not ctx.db.is_sqlite:
        dropped = scan_partitions.drop_before(
            ctx.db.write_engine, cutoff, lambda n: progress("scan_events", n)
        )
    return dropped + _batches(ctx, "scan_events", cutoff, progress)


def _batches(ctx: Services, table: str, cutoff: dt.datetime, progress: Progress) -> int:
    """Delete in batches, one short write transaction each, until none is left.

    On SQLite the purge then pauses as long as the batch took: a lock handed back and taken again at
    once is rarely taken by the scans waiting for it (measured: scans waited seconds behind a purge
    without the pause), so the purge uses at most half of the writer's time.
    """
    size = ctx.settings.retention.batch_rows * (1 if ctx.db.is_sqlite else PG_BATCH_FACTOR)
    total = 0
    while True:
        started = time.monotonic()
        with ctx.db.write() as session:
            if table in _ORM:
                key, at = _ORM[table]
                if table == "audit_events":
                    allow_audit_deletes(session)
                doomed = select(key).where(at < cutoff).limit(size).scalar_subquery()
                done = int(session.execute(delete(key.class_).where(key.in_(doomed))).rowcount)  # type: ignore[attr-defined]
            else:
                done = scan_rows.delete_before(session, table, cutoff, size)
        total += done
        if done:
            progress(table, done)
        if done < size:
            return total
        if ctx.db.is_sqlite:
            time.sleep(time.monotonic() - started)


class Schedule:
    """``serve``'s purge: every ``UNIFIEDQR_PURGE_INTERVAL_SECONDS`` in a background thread."""

    def __init__(self, ctx: Services, principal: Principal) -> None:
        self.ctx = ctx
        self.principal = principal
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="purge-schedule", daemon=True)

    def start(self) -> Schedule:
        if self.ctx.settings.retention.purge_interval_seconds > 0:
            self._thread.start()
        return self

    def _run(self) -> None:
        interval = self.ctx.settings.retention.purge_interval_seconds
        while not self._stop.is_set():
            try:
                result = purge(self.ctx, self.principal)
                log.info("purged %s", result.removed)
            except Exception:  # the schedule keeps running; the next round retries
                log.exception("scheduled purge failed")
            self._stop.wait(interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)
