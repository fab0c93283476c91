"""Benchmark: look-ups with their audit row beside the same query without it, and the retention purge.

Measured in the same run, so the ratios survive a noisy (shared, 2-core) machine:

- ``lookup_<db>``: look-ups/s of a health official by QID through the service
  (:func:`unifiedqr.services.lookups.lookup`: the person, 14 days of declarations, the health
  records, the colour; the audit row in the same write transaction); baseline ``lookup_noaudit``:
  the very same call with the audit row switched off (a read transaction, no insert, no commit).
  Target: the audit costs at most 30 % of the throughput (ratio >= 0.7). Rounds are interleaved.
  ``_p50`` / ``_p99``: per-call latency of the same calls (ms), beside the no-audit ones.
  On PostgreSQL also with ``--threads`` callers at once (commits then share WAL flushes).
- ``purge_<db>_rows_per_s``: expired scan events removed per second by :func:`retention.purge`
  (``--rows`` of them, spread over ten days older than the window, plus 10 % younger that stay);
  on PostgreSQL whole days are dropped, beside ``purge_postgresql_delete``: the same rows deleted
  row by row in batches (the SQLite way), in the same run;
- ``purge_sqlite_batch_p50_ms`` / ``_max_ms``: how long one purge transaction took (lock wait and
  hold: the most a scan waits behind the purge);
- ``scan_during_purge_<db>_p50`` / ``_p99``: latency of staff scans (service calls on a schedule,
  at a quarter of one caller's measured capacity and at most 200/s, counted from the scheduled
  time) while the purge runs in the same process, beside the same scans without a purge.

Bounded: fixed row counts, loopback only. ``--quick`` takes under a minute; the full run purges
1 M rows per database.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from support.common import open_services, report, row
from support.loadgen import Result
from support.servers import drop_pg, pg_answers, pg_database

TARGET_RATIO = 0.7


def percentile(values: list[float], p: float) -> float:
    return Result(latencies=values).percentile(p)


def _dose(day: dt.date, dose: int) -> dict[str, Any]:
    return {
        "kind": "vaccination",
        "date": day.isoformat(),
        "dose": dose,
        "doses_in_series": 2,
        "product": "X",
    }


class World:
    """People with declarations and health records, an official, a venue with a staff member."""

    def __init__(self, url: str, data_dir: Path, people: int) -> None:
        from unifiedqr.services import accounts, declarations, health, registry, venues

        self.ctx, self.operator = open_services(url, data_dir)
        ctx = self.ctx
        platform = accounts.create_platform(ctx, self.operator, "Bench app")
        app = ctx.credential(platform.api_key)
        accounts.create_account(
            ctx, self.operator, accounts.AccountRequest("health_official", "Dr Bench", "x" * 12, "drbench")
        )
        self.official = self._principal_of("drbench")
        today = ctx.now().date()
        self.qids: list[str] = []
        body = declarations.HealthDeclaration(address=declarations.Address("Hà Nội", "Hoàn Kiếm"))
        for n in range(people):
            reg = registry.Registration(
                f"0{n + 10**10:011d}", "Nguyen Van An", "1980-01-01", phone="0912345678"
            )
            issued = registry.register(ctx, app, reg)
            self.qids.append(issued.qid)
            declarations.submit(ctx, app, issued.qid, body)
        records = [_dose(today - dt.timedelta(days=60), 1), _dose(today - dt.timedelta(days=30), 2)]
        for qid in self.qids:
            for record in records:
                health.add(ctx, self.official, qid, record)
        reg_venue = venues.VenueRegistration("Chợ", "market", "HCM", "Q1", "BT", "1 Lê Lợi", "0911111111")
        self.venue = venues.register(ctx, self.operator, reg_venue)
        self.codes = [ctx.vault.decrypt("people.code", blob) for blob in self._code_blobs()]

    def _principal_of(self, username: str) -> Any:
        from sqlalchemy import select

        from unifiedqr.services.auth import principal_for
        from unifiedqr.store.models import Account

        with self.ctx.db.read() as session:
            a = session.scalars(select(Account).where(Account.username == username)).one()
            return principal_for(a.id, a.public_id, a.role, a.name, a.person_id)

    def _code_blobs(self) -> list[bytes]:
        from sqlalchemy import select

        from unifiedqr.store.models import Person

        with self.ctx.db.read() as session:
            return list(session.scalars(select(Person.code_enc).limit(200)))


@contextmanager
def without_audit(ctx: Any) -> Iterator[None]:
    """The same look-up, its audit row switched off: a read transaction and no insert."""
    from unifiedqr.services import lookups

    original_record, original_write = lookups.record, ctx.db.write
    lookups.record = lambda *args, **kwargs: None
    ctx.db.write = ctx.db.read
    try:
        yield
    finally:
        lookups.record = original_record
        ctx.db.write = original_write


def lookup_round(world: World, seconds: float, threads: int, audit: bool) -> tuple[int, float, list[float]]:
    """(calls, elapsed, latencies) of look-ups by ``threads`` callers for ``seconds``."""
    from unifiedqr.services import lookups

    ctx = world.ctx
    latencies: list[float] = []
    count = [0]
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def caller(offset: int) -> None:
        mine: list[float] = []
        n = offset
        while time.perf_counter() < deadline:
            qid = world.qids[n % len(world.qids)]
            t0 = time.perf_counter()
            lookups.lookup(ctx, world.official, lookups.Lookup(qid, "checkpoint"))
            mine.append(time.perf_counter() - t0)
            n += threads
        with lock:
            latencies.extend(mine)
            count[0] += len(mine)

    start = time.perf_counter()
    with without_audit(ctx) if not audit else contextlib.nullcontext():
        workers = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    return count[0], time.perf_counter() - start, latencies


def measure_lookups(world: World, name: str, seconds: float, threads: int) -> list[dict[str, Any]]:
    """Interleaved rounds with and without the audit write; rates and latencies of each."""
    ctx = world.ctx
    from unifiedqr.config import Rate

    # The benchmark measures the query, not the limiter: a limit no round reaches.
    limits = dataclasses.replace(ctx.settings.limits, lookup=Rate(10**9, 60))
    ctx.settings = dataclasses.replace(ctx.settings, limits=limits)
    lookup_round(world, 0.5, threads, True)  # warm up
    totals = {True: [0, 0.0, []], False: [0, 0.0, []]}
    rounds = 6
    for _ in range(rounds):
        for audit in (False, True):
            calls, elapsed, lat = lookup_round(world, seconds / rounds / 2, threads, audit)
            totals[audit][0] += calls
            totals[audit][1] += elapsed
            totals[audit][2].extend(lat)
    with_rate = totals[True][0] / totals[True][1]
    without_rate = totals[False][0] / totals[False][1]
    suffix = f"_{threads}t" if threads > 1 else ""
    metric = f"lookup_{name}{suffix}"
    out = [
        row(metric, with_rate, "lookups/s", without_rate, threads=threads, target_ratio=TARGET_RATIO),
        row(f"lookup_noaudit_{name}{suffix}", without_rate, "lookups/s", threads=threads),
    ]
    for p in (50, 99):
        audited = percentile(totals[True][2], p) * 1000
        plain = percentile(totals[False][2], p) * 1000
        out.append(row(f"{metric}_p{p}", audited, "ms", plain, threads=threads))
    return out


# ---------------------------------------------------------------------------------------------------
# The purge
# ---------------------------------------------------------------------------------------------------
def expired_rows(world: World, n: int, cutoff: dt.datetime) -> Iterator[list[dict[str, Any]]]:
    """``n`` scan rows over the ten days before ``cutoff`` and 10 % after it, in chunks."""
    from unifiedqr.store.scan_rows import COLUMNS

    venue_id = world.ctx.venues.venue(world.venue.venue_id).id
    blob = os.urandom(90)
    span = dt.timedelta(days=10).total_seconds()
    chunk: list[dict[str, Any]] = []
    young = n // 10
    for i in range(n + young):
        if i < n:
            at = cutoff - dt.timedelta(seconds=1 + (i * 7919) % int(span))
        else:
            at = cutoff + dt.timedelta(hours=1, seconds=i % 3600)
        row_of = dict.fromkeys(COLUMNS)  # None for the columns not set here
        row_of.update(
            venue_id=venue_id, person_key=secrets.token_bytes(16), source="batch", code_kind="phone"
        )
        row_of.update(verification="none", direction="in", name_masked="", phone_masked="091****678")
        row_of.update(identity_enc=blob, device_at=at, occurred_at=at, received_at=at)
        chunk.append(row_of)
        if len(chunk) == 20_000:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def load(world: World, n: int, cutoff: dt.datetime) -> None:
    from unifiedqr.store.scan_rows import ScanRows

    for chunk in expired_rows(world, n, cutoff):
        with world.ctx.db.write() as session:
            ScanRows(session).insert(chunk)


class ScanProbe:
    """Staff scans at a fixed rate in a thread; latency from the scheduled time (no coordinated omission)."""

    def __init__(self, world: World, rate: float) -> None:
        from unifiedqr.services import venues

        self.world = world
        self.rate = rate
        self.latencies: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        ctx = world.ctx
        username = f"probe{secrets.token_hex(3)}"
        venues.add_staff(
            ctx, world.operator, world.venue.venue_id, name="Gate", username=username, password="y" * 12
        )
        self.staff = world._principal_of(username)

    def _run(self) -> None:
        from unifiedqr.services import checkins

        start = time.perf_counter()
        n = 0
        while not self._stop.is_set():
            scheduled = start + n / self.rate
            delay = scheduled - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            code = self.world.codes[n % len(self.world.codes)]
            checkins.staff_scan(
                self.world.ctx, self.staff, checkins.StaffScan(self.world.venue.venue_id, code)
            )
            self.latencies.append(time.perf_counter() - scheduled)
            n += 1

    def __enter__(self) -> ScanProbe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=30)


@contextmanager
def timed_writes(ctx: Any, sink: list[float]) -> Iterator[None]:
    """Record how long each write transaction of this thread took (the purge's, not the probe's)."""
    original = ctx.db.write
    me = threading.get_ident()

    @contextmanager
    def write() -> Iterator[Any]:
        started = time.perf_counter()
        with original() as session:
            yield session
        if threading.get_ident() == me:
            sink.append(time.perf_counter() - started)

    ctx.db.write = write
    try:
        yield
    finally:
        ctx.db.write = original


def scan_capacity(world: World, seconds: float = 1.5) -> float:
    """Staff scans/s one caller sustains (the probe then runs at a quarter of it)."""
    probe = ScanProbe(world, 10**6)
    with probe:
        time.sleep(seconds)
    return len(probe.latencies) / seconds


def measure_purge(world: World, name: str, n: int) -> list[dict[str, Any]]:
    from unifiedqr.services import retention

    ctx = world.ctx
    now = ctx.now()
    cutoff = now - dt.timedelta(days=ctx.settings.retention.days)
    out: list[dict[str, Any]] = []
    probe_rate = min(200.0, 0.25 * scan_capacity(world))  # well under capacity: latency, not a queue
    with ScanProbe(world, probe_rate) as idle:
        time.sleep(3.0)
    load(world, n, cutoff)
    held: list[float] = []
    with ScanProbe(world, probe_rate) as busy, timed_writes(ctx, held):
        started = time.perf_counter()
        result = retention.purge(ctx, world.operator, now)
        elapsed = time.perf_counter() - started
    removed = result.removed["scan_events"]
    assert removed == n, (removed, n)
    out.append(
        row(f"purge_{name}_rows_per_s", removed / elapsed, "rows/s", rows=n, seconds=round(elapsed, 2))
    )
    if name == "sqlite":
        batch = ctx.settings.retention.batch_rows
        out.append(row("purge_sqlite_batch_p50_ms", percentile(held, 50) * 1000, "ms", batch=batch))
        out.append(row("purge_sqlite_batch_max_ms", max(held) * 1000, "ms", batch=batch))
    else:
        load(world, n, cutoff)
        started = time.perf_counter()
        deleted = retention._batches(ctx, "scan_events", cutoff, lambda _t, _n: None)
        slow = time.perf_counter() - started
        assert deleted == n, (deleted, n)
        out[-1] = row(
            f"purge_{name}_rows_per_s",
            removed / elapsed,
            "rows/s",
            n / slow,
            rows=n,
            seconds=round(elapsed, 2),
        )
        out.append(row(f"purge_{name}_delete_rows_per_s", n / slow, "rows/s", rows=n, seconds=round(slow, 2)))
    for p in (50, 99):
        out.append(
            row(
                f"scan_during_purge_{name}_p{p}",
                percentile(busy.latencies, p) * 1000,
                "ms",
                percentile(idle.latencies, p) * 1000,
                scans=len(busy.latencies),
                rate=round(probe_rate),
            )
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (under a minute)")
    parser.add_argument(
        "--rows", type=int, default=None, help="expired rows to purge (default 1 M, quick 100 k)"
    )
    parser.add_argument("--threads", type=int, default=4, help="concurrent look-ups on PostgreSQL")
    parser.add_argument("--batch", type=int, default=None, help="purge batch rows (default: the setting's)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    rows_n = args.rows or (100_000 if args.quick else 1_000_000)
    seconds = 6.0 if args.quick else 20.0
    people = 300 if args.quick else 2000
    root = Path(tempfile.mkdtemp(prefix="uqr-bench-lookups-"))
    databases = [("sqlite", f"sqlite:///{root / 'bench.sqlite'}")]
    pg_name = None
    if not args.no_postgres and pg_answers():
        pg_url, pg_name, _ = pg_database()
        databases.append(("postgresql", pg_url))
    else:
        print("PostgreSQL does not answer: its rows are not measured", file=sys.stderr)
    results: list[dict[str, Any]] = []
    try:
        for name, url in databases:
            world = World(url, root / f"{name}.secrets", people)
            if args.batch:
                retention = dataclasses.replace(world.ctx.settings.retention, batch_rows=args.batch)
                world.ctx.settings = dataclasses.replace(world.ctx.settings, retention=retention)
            try:
                results += measure_lookups(world, name, seconds, 1)
                if name != "sqlite":
                    results += measure_lookups(world, name, seconds, args.threads)
                results += measure_purge(world, name, rows_n)
            finally:
                world.ctx.close()
    finally:
        if pg_name:
            drop_pg(pg_name)
        shutil.rmtree(root, ignore_errors=True)
    report("lookups", results)


if __name__ == "__main__":
    main()
