"""Benchmark: tracing at 1 M and 10 M scans beside the raw SQL; the simulator beside a raw bulk insert.

Each database is filled by the simulator itself (``services.simulation``: the bulk paths under test),
then, in the same run:

- ``trace_<db>_<size>_p50`` / ``_p99``: ``tracing.candidates`` (the service call behind
  ``GET /tracing/cases/{id}/candidates``: the case's scans, the contacts' index ranges, the rules,
  the labels, and the audit rows committed) for random cases with scans in a 14-day window;
  baseline: the 20 ms target;
- ``trace_sql_<db>_<size>_p50`` / ``_p99``: the same cases' two raw statements only (the case's
  scans by key, the contacts' ranges as one ``UNION ALL``), fetched on the DBAPI cursor: the floor;
- ``trace_<db>_<size>_p50_<k>_scans``: the service's p50 by the case's own scans in the window, to
  show latency growing with the case's visits, not with the table;
- ``graph_svg_<db>_<size>_p50``: the graph picture for the same cases (an official's first look);
- ``simulate_<db>_<size>``: the simulator's scan rows/s over the whole run (the model, columns
  built, encoded and written, chunk by chunk, as the table grows from empty);
- ``bulk_insert_simulator_<db>_<size>`` beside ``bulk_insert_raw_<db>_<size>``: the same 200 k
  stored scans written again into scan_events at its final size, rolled back: through the
  simulator's bulk path (columns encoded, then ``COPY`` / ``executemany``) and by the driver alone
  (a ``COPY`` of a buffer already in COPY's form; ``executemany`` of tuples already in the driver's
  types), i.e. the database's ceiling at that size, same indexes and foreign keys.

Sizes: ``1m`` = 100 k people x 4 000 venues x 40 days; ``10m`` = 1 M people x 40 000 venues x 40 days.
The 10 M run needs ~8 GB of free disk for PostgreSQL; with less it is skipped and the table says so.
``--quick`` runs 50 k scans on each database (under a minute). ``--keep`` leaves the PostgreSQL
databases for ``--reuse``, which skips building them again.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from support.common import open_services, report, row
from support.servers import drop_pg, pg_answers, pg_database
from unifiedqr.serialize import jsonable

SIZES = {"quick": (10_000, 400, 20), "1m": (100_000, 4_000, 40), "10m": (1_000_000, 40_000, 40)}
BYTES_PER_SCAN = 800  # PostgreSQL, rows and indexes, measured at 1 M (checked again each run)
TARGET_MS = 20.0
WINDOW = dt.timedelta(days=14)


def official(ctx: Any, operator: Any) -> Any:
    from sqlalchemy import select

    from unifiedqr.services import accounts
    from unifiedqr.services.auth import principal_for
    from unifiedqr.store.models import Account

    name = f"bench{random.randrange(10**9)}"
    made = accounts.create_account(
        ctx, operator, accounts.AccountRequest("health_official", "B", "correct horse", name)
    )
    with ctx.db.read() as session:
        account = session.scalars(select(Account).where(Account.public_id == made.account_id)).one()
    return principal_for(account.id, account.public_id, account.role, account.name, None)


def open_cases(ctx: Any, who: Any, count: int, seed: int) -> list[tuple[str, int]]:
    """Cases of random registered people with scans in the last 14 days: ``(case id, case scans)``."""
    from sqlalchemy import select

    from unifiedqr.services import tracing
    from unifiedqr.store.models import Person

    end = ctx.now()
    start = end - WINDOW
    with ctx.db.read() as session:
        top = session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0
    rng = random.Random(seed)
    picked = rng.sample(range(1, top + 1), min(top, count * 3))
    with ctx.db.read() as session:
        qids = list(session.scalars(select(Person.qid).where(Person.id.in_(picked))))
    cases = []
    for qid in qids:
        case = tracing.open_case(ctx, who, tracing.NewCase(qid, start.isoformat(), end.isoformat()))
        if case.case_scans:
            cases.append((case.case_id, case.case_scans))
        if len(cases) == count:
            break
    return cases


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def time_service(ctx: Any, who: Any, cases: list[tuple[str, int]], rounds: int) -> dict[str, list[float]]:
    from unifiedqr.services import tracing

    for case_id, _ in cases[:5]:
        tracing.candidates(ctx, who, case_id)  # warm the caches and the connection pool
    out: dict[str, list[float]] = {case_id: [] for case_id, _ in cases}
    for _ in range(rounds):
        for case_id, _ in cases:
            start = time.perf_counter()
            tracing.candidates(ctx, who, case_id)
            out[case_id].append((time.perf_counter() - start) * 1000)
    return out


def time_graph(ctx: Any, who: Any, cases: list[tuple[str, int]]) -> list[float]:
    from unifiedqr.services import tracing_outputs

    times = []
    for case_id, _ in cases[:30]:
        start = time.perf_counter()
        tracing_outputs.graph(ctx, who, case_id, "svg")
        times.append((time.perf_counter() - start) * 1000)
    return times


def time_raw(ctx: Any, cases: list[tuple[str, int]], rounds: int) -> list[float]:
    """A trace's two statements on the DBAPI cursor (the case's scans with their venues, the contacts'
    ranges as one UNION ALL), rows fetched, parameters prepared beforehand: the SQL floor."""
    from unifiedqr.services.tracing_data import case_scans_of, read_case
    from unifiedqr.services.tracing_rules import contact_ranges
    from unifiedqr.store.sql import Raw
    from unifiedqr.store.tracing_rows import CASE_SCANS_SQL, TracingRows, contacts_statement, range_params

    times = []
    with ctx.db.read() as session:
        raw, rows = Raw.of(session), TracingRows(session)
        prepared = []
        for case_id, _ in cases:
            case = read_case(ctx, rows, case_id)
            own, _ = case_scans_of(rows, case)
            near = [
                (int(str(r.venue_id)), r.start, r.end) for r in contact_ranges(own, case.window, case.rule)
            ]
            bounds = {"start": raw.time(case.window.start), "end": raw.time(case.window.end)}
            prepared.append((list(case.keys), bounds, contacts_statement(len(near)), range_params(raw, near)))
        for _ in range(rounds):
            for keys, bounds, statement, near_params in prepared:
                start = time.perf_counter()
                list(raw.rows_in(CASE_SCANS_SQL, bounds, keys))
                if near_params:
                    raw.rows(statement, near_params)
                times.append((time.perf_counter() - start) * 1000)
    return times


def people_pair(ctx: Any, operator: Any, count: int) -> tuple[float, float]:
    """``(bulk, service)`` people/s registering ``count`` new people each way, in the same run: the
    simulator's bulk path (registry rules, one COPY or executemany per table and chunk) and the
    registry's own ``register`` (one transaction per person, as the API does)."""
    from unifiedqr.services import registry, simulation
    from unifiedqr.services.bulk_registry import BulkRegistry
    from unifiedqr.services.population import Population, PopulationSpec

    _, platform = simulation._platform(ctx, operator, 99)
    pop = Population(PopulationSpec(people=2 * count, venues=10, days=1, seed=random.randrange(10**9)))
    rows = [r for chunk in pop.people(2 * count) for r in chunk]

    def document() -> str:  # 9-digit CMNDs: the model only makes 12-digit CCCDs, so never a clash
        return "".join(random.choice("0123456789") for _ in range(9))

    bulk = [simulation.BulkPerson(document(), r.full_name, r.birth_date, r.gender, r.phone) for r in rows]
    start = time.perf_counter()
    BulkRegistry(ctx, platform).register(bulk[:count])
    fast = count / (time.perf_counter() - start)
    start = time.perf_counter()
    for p in bulk[count:]:
        reg = registry.Registration(
            p.document_number, p.full_name, p.birth_date.isoformat(), p.gender, p.phone
        )
        registry.register(ctx, platform, reg)
    return fast, count / (time.perf_counter() - start)


class _RolledBack(Exception):
    """Raised inside a write block so that it rolls back (the bench leaves the table as it was)."""


def bulk_pair(ctx: Any, count: int) -> tuple[float, float]:
    """``(ours, raw)`` rows/s writing the same ``count`` stored scans again into scan_events at its
    current size (same indexes, same foreign keys), each in a transaction rolled back.

    Ours: the simulator's bulk path (``BulkRows.insert`` of columns: encode, then COPY or
    executemany). Raw: the driver alone (PostgreSQL: ``COPY`` of a buffer already in COPY's text
    form; SQLite: ``executemany`` of tuples already in the driver's types): the database's ceiling.
    Interleaved (ours, raw, raw, ours), best of two each.
    """
    import numpy as np

    from unifiedqr.store.bulk_rows import BulkRows, Epoch
    from unifiedqr.store.scan_rows import COLUMNS, TIMES
    from unifiedqr.store.sql import decode_time
    from unifiedqr.store.venue_models import ScanEvent

    names = ", ".join(COLUMNS)
    with ctx.db.read() as session:
        cursor = session.connection().connection.driver_connection.cursor()
        cursor.execute(f"SELECT {names} FROM scan_events ORDER BY id DESC LIMIT {count}")  # noqa: S608
        stored = cursor.fetchall()
    columns: dict[str, Any] = {}
    for index, name in enumerate(COLUMNS):
        values = [r[index] for r in stored]
        if name in TIMES:
            columns[name] = Epoch(np.array([int(decode_time(v).timestamp()) for v in values], dtype=np.int64))
        else:
            columns[name] = [bytes(v) if isinstance(v, memoryview) else v for v in values]

    def ours() -> float:
        start = time.perf_counter()
        try:
            with ctx.db.write() as session:
                BulkRows(session).insert(ScanEvent.__table__, columns)
                rate = len(stored) / (time.perf_counter() - start)
                raise _RolledBack
        except _RolledBack:
            return rate

    # Interleaved, best of two each: whichever runs second finds the indexes' pages in the cache.
    first, raw_a, raw_b, second = (
        ours(),
        _raw_insert(ctx, names, stored),
        _raw_insert(ctx, names, stored),
        ours(),
    )
    return max(first, second), max(raw_a, raw_b)


def _raw_insert(ctx: Any, names: str, stored: list[tuple[Any, ...]]) -> float:
    if ctx.db.is_sqlite:
        import sqlite3

        db = sqlite3.connect(ctx.settings.database_url.removeprefix("sqlite:///"), isolation_level=None)
        db.execute("PRAGMA foreign_keys=ON")
        marks = ", ".join("?" for _ in names.split(", "))
        start = time.perf_counter()
        db.execute("BEGIN IMMEDIATE")
        db.executemany(f"INSERT INTO scan_events ({names}) VALUES ({marks})", stored)  # noqa: S608
        elapsed = time.perf_counter() - start
        db.execute("ROLLBACK")
        db.close()
        return len(stored) / elapsed
    import psycopg

    dsn = ctx.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        buffer = bytearray()
        with conn.cursor() as cur:
            query = f"COPY (SELECT {names} FROM scan_events ORDER BY id DESC LIMIT {len(stored)}) TO STDOUT"  # noqa: S608
            with cur.copy(query) as copy:
                for block in copy:
                    buffer += block
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY scan_events ({names}) FROM STDIN") as copy:
            copy.write(bytes(buffer))
        elapsed = time.perf_counter() - start
        conn.rollback()
    return len(stored) / elapsed


def buckets(per_case: dict[str, list[float]], scans: dict[str, int]) -> dict[str, float]:
    """p50 of the service by the case's own scans in the window (1-2, 3-5, 6-10, 11+)."""
    groups: dict[str, list[float]] = {}
    for case_id, times in per_case.items():
        n = scans[case_id]
        label = "1-2" if n <= 2 else "3-5" if n <= 5 else "6-10" if n <= 10 else "11+"
        groups.setdefault(label, []).extend(times)
    return {label: statistics.median(times) for label, times in sorted(groups.items()) if len(times) >= 5}


def measure(dialect: str, size: str, args: argparse.Namespace, tmp: Path) -> list[dict[str, Any]]:
    """Build (or reuse) one database, then every measurement of the table for it."""
    people, venues, days = SIZES[size]
    name = f"uqr_bench_tracing_{size}"
    if dialect == "sqlite":
        url, build, secrets = f"sqlite:///{tmp / (name + '.sqlite')}", True, tmp / f"{name}-secrets"
    else:  # the at-rest key must outlive the run: the stored keys of the scans are hashed with it
        url, _, build = pg_database(name, args.reuse)
        secrets = Path(args.secrets) / name
    ctx, operator = open_services(url, secrets)
    tag = f"{dialect}_{size}"
    rows: list[dict[str, Any]] = []
    try:
        if build:
            summary = jsonable(simulate_into(ctx, operator, people, venues, days))
            (secrets / "summary.json").write_text(json.dumps(summary))
        else:  # built by an earlier run (--keep): its simulation figures, from the file it left
            summary = json.loads((secrets / "summary.json").read_text())
        print(
            f"{tag}: {summary['scans']} scans in {summary['seconds']:.0f} s ({summary['phases']})",
            file=sys.stderr,
        )
        rows.append(row(f"simulate_{tag}", summary["scans_per_second"], "rows/s", scans=summary["scans"]))
        rows.append(row(f"simulate_people_{tag}", people / summary["phases"]["people"], "people/s"))
        rows.append(row(f"simulate_total_{tag}", summary["seconds"], "s", reused=not build))
        fast, slow = people_pair(ctx, operator, 500 if args.quick else 3000)
        rows.append(row(f"register_service_{tag}", slow, "people/s"))
        rows.append(row(f"register_bulk_{tag}", fast, "people/s", slow))
        ours, raw = bulk_pair(ctx, 50_000 if args.quick else 200_000)
        rows.append(row(f"bulk_insert_raw_{tag}", raw, "rows/s"))
        rows.append(row(f"bulk_insert_simulator_{tag}", ours, "rows/s", raw))
        rows += trace_rows(ctx, operator, tag, args)
    finally:
        ctx.close()
    if dialect == "postgresql" and not args.keep:
        drop_pg(name)
    return rows


def simulate_into(ctx: Any, operator: Any, people: int, venues: int, days: int) -> Any:
    from unifiedqr.services.simulation import SimulationRequest, simulate

    last = [0.0]

    def progress(phase: str, done: int, total: int) -> None:
        if time.monotonic() - last[0] > 30:
            last[0] = time.monotonic()
            print(f"  {phase} ...", file=sys.stderr, flush=True)

    return simulate(ctx, operator, SimulationRequest(people, venues, days, seed=2021), progress)


def trace_rows(ctx: Any, operator: Any, tag: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    who = official(ctx, operator)
    cases = open_cases(ctx, who, args.cases, seed=12)
    if not cases:
        return [row(f"trace_{tag}_cases", 0, "cases")]
    per_case = time_service(ctx, who, cases, args.rounds)
    service = [t for times in per_case.values() for t in times]
    raw = time_raw(ctx, cases, args.rounds)
    graph = time_graph(ctx, who, cases)
    out = [
        row(f"trace_{tag}_p50", statistics.median(service), "ms", TARGET_MS, cases=len(cases)),
        row(f"trace_{tag}_p99", percentile(service, 99), "ms", TARGET_MS),
        row(f"trace_sql_{tag}_p50", statistics.median(raw), "ms"),
        row(f"trace_sql_{tag}_p99", percentile(raw, 99), "ms"),
        row(f"trace_{tag}_vs_sql", statistics.median(service), "ms", statistics.median(raw)),
        row(f"graph_svg_{tag}_p50", statistics.median(graph), "ms"),
    ]
    scans = dict(cases)
    for label, p50 in buckets(per_case, scans).items():
        out.append(row(f"trace_{tag}_p50_{label}_scans", p50, "ms"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 k scans per database, under a minute")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL databases (for --reuse)")
    parser.add_argument("--reuse", action="store_true", help="reuse kept PostgreSQL databases")
    parser.add_argument("--secrets", default=str(Path(tempfile.gettempdir()) / "uqr-bench-tracing"))
    parser.add_argument("--cases", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    plan = (
        [("sqlite", "quick"), ("postgresql", "quick")]
        if args.quick
        else [
            ("sqlite", "1m"),
            ("postgresql", "1m"),
            ("postgresql", "10m"),
        ]
    )
    if args.quick:
        args.cases, args.rounds = min(args.cases, 30), 1
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for dialect, size in plan:
            if dialect == "postgresql" and not pg_answers():
                rows.append(row(f"skipped_{dialect}_{size}", 0, "no server"))
                continue
            need = SIZES[size][0] * 0.25 * SIZES[size][2] * BYTES_PER_SCAN * 1.5
            free = shutil.disk_usage(tmp if dialect == "sqlite" else "/").free
            if free < need:
                print(
                    f"skipping {dialect} {size}: {free / 1e9:.1f} GB free, {need / 1e9:.1f} GB needed",
                    file=sys.stderr,
                )
                rows.append(row(f"skipped_{dialect}_{size}", free / 1e9, "GB free", need / 1e9))
                continue
            rows += measure(dialect, size, args, Path(tmp))
            report("tracing", rows)  # after each database: a later failure keeps what was measured


if __name__ == "__main__":
    main()
