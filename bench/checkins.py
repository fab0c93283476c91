"""Benchmark: offline batch ingest and single scans through HTTP on loopback, beside the raw ceilings.

Measured in the same run, so the ratios survive a noisy (shared, 2-core) machine:

- ``p256_verify_raw``: P-256 verifications/s on one core with ``cryptography`` directly;
- ``bulk_insert_raw_<db>``: rows/s of a raw bulk insert into a table with the same columns and
  indexes as ``scan_events`` (SQLite: one ``executemany`` in one transaction; PostgreSQL: ``COPY``);
- ``batch_ingest_<db>``: rows/s of signed personal-code scans uploaded to ``POST /api/v1/scan-batches``
  of ``unifiedqr serve --workers 1`` (each scan verified, resolved, toggled, stored; committed before
  the answer). Baseline = the ceiling = min(raw bulk insert, raw P-256 rate x 1 worker);
- ``single_scan_sqlite``: ``POST /api/v1/venues/{id}/scans`` (a staff scan of a signed code with an
  idempotency key) through ``serve --workers 2``, closed loop; baseline the 1,000/s target;
- ``single_scan_sqlite_p50`` / ``_p99``: latency of those same requests (``--concurrency`` in flight);
  ``single_scan_sqlite_open_p50`` / ``_p99``: latency in an open loop at 1,000 scans/s, or at 80 % of
  the measured capacity when that is lower (counted from the scheduled send, so queueing is
  included); baseline the 50 ms target.

Bounded: fixed row counts and time limits, loopback only. ``--quick`` takes under a minute.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from issuance import Server
from support.common import open_services, rate, report, row
from support.loadgen import Result, build_request, closed_loop, open_loop
from support.servers import drop_pg, pg_answers, pg_database

TARGET_RATE = 1000.0
TARGET_P99_MS = 50.0


class World:
    """A fresh database with a venue, a staff login and pre-signed codes of distinct people."""

    def __init__(self, url: str, data_dir: Path, codes: int) -> None:
        from unifiedqr.codes.build import build
        from unifiedqr.codes.signing import sign_code
        from unifiedqr.serialize import jsonable
        from unifiedqr.services import venues

        ctx, operator = open_services(url, data_dir)
        try:
            reg = venues.VenueRegistration(
                "Chợ Bến Thành", "market", "HCM", "Q1", "BT", "1 Lê Lợi", "0911111111"
            )
            self.venue = jsonable(venues.register(ctx, operator, reg))
            self.password = secrets.token_urlsafe(12)
            self.username = f"gate{secrets.token_hex(3)}"
            venues.add_staff(
                ctx,
                operator,
                self.venue["venue_id"],
                name="Gate",
                username=self.username,
                password=self.password,
            )
            now = dt.datetime.now(dt.UTC)
            key = ctx.keys.current(now)
            self.key = key
            self.codes = []
            for i in range(codes):
                qid = str(10**17 + secrets.randbelow(9 * 10**17))
                code = build(
                    document_number=f"{i + 10**11:012d}",
                    full_name="Nguyen Van An",
                    birth_date="1990-01-01",
                    qid=qid,
                    phone="0912345678",
                )
                self.codes.append(sign_code(code, key, now).to_text())
        finally:
            ctx.close()

    def login(self, port: int) -> str:
        body = {"login": self.username, "password": self.password}
        return str(httpx.post(f"http://127.0.0.1:{port}/api/v1/auth/token", json=body).json()["access_token"])


def verify_rate(world: World, seconds: float) -> float:
    """Raw P-256 verifications/s on one core: the library call only, over distinct signatures."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    from unifiedqr.codes.trust import b64url_decode

    public = world.key.private_key.public_key()
    items = []
    for text in world.codes[:200]:
        signed, _, sig = text.rpartition("<")
        raw = b64url_decode(sig.split(".", 1)[1])
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        items.append((der, signed.encode()))
    algorithm = ec.ECDSA(hashes.SHA256())

    def batch() -> None:
        for der, message in items:
            public.verify(der, message, algorithm)

    return rate(batch, seconds, len(items))


def scan_rows(n: int) -> list[tuple[Any, ...]]:
    now = dt.datetime.now(dt.UTC)
    text = now.replace(tzinfo=None).isoformat(" ", "microseconds")
    blob = os.urandom(90)
    return [
        (
            1,
            1,
            1,
            1,
            secrets.token_bytes(16),
            None,
            "batch",
            "personal",
            "valid",
            None,
            "in",
            "N***** V** AN",
            "091****678",
            blob,
            f"k{i}",
            "d:bench",
            text,
            text,
            text,
        )
        for i in range(n)
    ]


def raw_insert_sqlite(directory: Path, n: int) -> float:
    """One executemany of ``n`` rows, one commit, into a copy of scan_events (same indexes)."""
    from unifiedqr.store.db import upgrade

    path = directory / "raw.sqlite"
    upgrade(f"sqlite:///{path}")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    columns, marks = _copy_of_scan_events(db.execute, "sqlite")
    rows = scan_rows(n)
    start = time.perf_counter()
    db.execute("BEGIN IMMEDIATE")
    db.executemany(f"INSERT INTO raw_scans ({columns}) VALUES ({marks})", rows)  # noqa: S608
    db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    return n / elapsed


def raw_copy_postgresql(url: str, n: int) -> float:
    """COPY of ``n`` rows into a copy of scan_events (same indexes), one commit."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    stamp = dt.datetime.now(dt.UTC)
    rows = [(*r[:16], stamp, stamp, stamp) for r in scan_rows(n)]
    with psycopg.connect(dsn) as conn:
        columns, _ = _copy_of_scan_events(conn.execute, "postgresql")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY raw_scans ({columns}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row(r)
        conn.commit()
        return n / (time.perf_counter() - start)


def _copy_of_scan_events(execute: Any, dialect: str) -> tuple[str, str]:
    """CREATE raw_scans with scan_events' columns and indexes (no foreign keys: a ceiling)."""
    from unifiedqr.store.scan_rows import COLUMNS as _COLUMNS

    blob = "BLOB" if dialect == "sqlite" else "BYTEA"
    time_type = "DATETIME" if dialect == "sqlite" else "TIMESTAMPTZ"
    pk = "INTEGER PRIMARY KEY" if dialect == "sqlite" else "BIGSERIAL PRIMARY KEY"
    types = {
        "person_key": blob,
        "identity_enc": blob,
        "device_at": time_type,
        "occurred_at": time_type,
        "received_at": time_type,
    }
    integers = ("venue_id", "entrance_id", "batch_id", "account_id", "person_id")
    cols = ", ".join(f"{c} {types.get(c, 'INTEGER' if c in integers else 'TEXT')}" for c in _COLUMNS)
    execute(f"CREATE TABLE raw_scans (id {pk}, {cols}, UNIQUE (venue_id, idempotency_key))")
    execute("CREATE INDEX raw_scans_v ON raw_scans (venue_id, occurred_at)")
    execute("CREATE INDEX raw_scans_p ON raw_scans (person_key, occurred_at)")
    execute("CREATE INDEX raw_scans_r ON raw_scans (occurred_at)")
    return ", ".join(_COLUMNS), ", ".join("?" * len(_COLUMNS))


def batch_ingest(world: World, port: int, token: str, total: int, size: int, concurrency: int) -> float:
    """Rows/s of signed-code scans uploaded in batches of ``size`` (bodies encoded beforehand)."""
    venue_id = world.venue["venue_id"]
    now = dt.datetime.now(dt.UTC)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies = []
    for b in range(total // size):
        scans = [
            {
                "idempotency_key": f"b{b}-{j}",
                "at": (now - dt.timedelta(seconds=j)).isoformat(),
                "text": world.codes[(b * size + j) % len(world.codes)],
            }
            for j in range(size)
        ]
        body = json.dumps({"venue_id": venue_id, "device_id": f"dev{b % 8}", "scans": scans}).encode()
        bodies.append(build_request("POST", "/api/v1/scan-batches", f"127.0.0.1:{port}", headers, body))
    # one warm-up batch of other keys (first-request costs are not the steady state)
    warm = json.dumps(
        {
            "venue_id": venue_id,
            "device_id": "w",
            "scans": [
                {"idempotency_key": f"w{j}", "at": now.isoformat(), "text": world.codes[j]}
                for j in range(100)
            ],
        }
    ).encode()
    asyncio.run(
        closed_loop(
            "127.0.0.1",
            port,
            lambda i: build_request("POST", "/api/v1/scan-batches", f"127.0.0.1:{port}", headers, warm),
            1,
            1,
            time.perf_counter() + 60,
        )
    )
    result = asyncio.run(
        closed_loop(
            "127.0.0.1", port, lambda i: bodies[i], len(bodies), concurrency, time.perf_counter() + 600
        )
    )
    check(result, 200, "batch ingest")
    return result.count * size / result.elapsed


def single_requests(world: World, port: int, token: str, offset: int) -> Any:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    path = f"/api/v1/venues/{world.venue['venue_id']}/scans"
    entrance = world.venue["entrances"][0]["entrance_id"]

    def make(index: int) -> bytes:
        body = json.dumps(
            {
                "text": world.codes[(offset + index) % len(world.codes)],
                "entrance_id": entrance,
                "idempotency_key": f"s{offset}-{index}",
            }
        ).encode()
        return build_request("POST", path, f"127.0.0.1:{port}", headers, body)

    return make


def check(result: Result, expected: int, what: str) -> None:
    bad = {s: n for s, n in result.statuses.items() if s != expected}
    if bad:
        raise SystemExit(f"{what}: unexpected statuses {bad}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="smaller runs (under a minute)")
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16, help="single scans in flight (closed loop)")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    total = 20_000 if args.quick else 100_000
    seconds = 5.0 if args.quick else 15.0
    rows: list[dict[str, Any]] = []
    root = Path(tempfile.mkdtemp(prefix="uqr-bench-checkins-"))

    databases = [("sqlite", f"sqlite:///{root / 'bench.sqlite'}")]
    pg_name = None
    if not args.no_postgres and pg_answers():
        pg_url, pg_name, _ = pg_database()
        databases.append(("postgresql", pg_url))
    else:
        print("PostgreSQL does not answer: batch_ingest_postgresql is not measured", file=sys.stderr)
    try:
        verify = 0.0
        for name, url in databases:
            data = root / f"{name}.secrets"
            world = World(url, data, total + int(TARGET_RATE * (seconds + 1) * 3))
            if not verify:
                verify = verify_rate(world, 2.0 if args.quick else 4.0)
                rows.append(row("p256_verify_raw", verify, "verify/s"))
            raw = raw_insert_sqlite(root, total) if name == "sqlite" else raw_copy_postgresql(url, total)
            rows.append(row(f"bulk_insert_raw_{name}", raw, "rows/s"))
            ceiling = min(raw, verify * 1)
            server = Server(url, data, 1)
            try:
                token = world.login(server.port)
                ingest = batch_ingest(world, server.port, token, total, args.batch_size, 2)
            finally:
                server.stop()
            rows.append(
                row(f"batch_ingest_{name}", ingest, "rows/s", ceiling, workers=1, batch=args.batch_size)
            )
            if name != "sqlite":
                continue
            server = Server(url, data, 2)
            try:
                token = world.login(server.port)
                make = single_requests(world, server.port, token, total)
                asyncio.run(closed_loop("127.0.0.1", server.port, make, 200, 8, time.perf_counter() + 30))
                closed = asyncio.run(
                    closed_loop(
                        "127.0.0.1",
                        server.port,
                        single_requests(world, server.port, token, total + 500),
                        10**7,
                        args.concurrency,
                        time.perf_counter() + seconds,
                    )
                )
                check(closed, 201, "single scans")
                # Latency without overload: an open loop at the target rate, or at 80 % of the
                # measured capacity when that is lower (an overloaded open loop only measures its queue).
                open_rate = min(TARGET_RATE, 0.8 * closed.rate)
                opened = asyncio.run(
                    open_loop(
                        "127.0.0.1",
                        server.port,
                        single_requests(world, server.port, token, total + 500 + closed.count),
                        open_rate,
                        seconds,
                    )
                )
                check(opened, 201, "single scans at a fixed rate")
            finally:
                server.stop()
            rows.append(
                row(
                    "single_scan_sqlite",
                    closed.rate,
                    "scans/s",
                    TARGET_RATE,
                    workers=2,
                    concurrency=args.concurrency,
                )
            )
            rows.append(row("single_scan_sqlite_p50", closed.percentile(50) * 1000, "ms", TARGET_P99_MS))
            rows.append(row("single_scan_sqlite_p99", closed.percentile(99) * 1000, "ms", TARGET_P99_MS))
            rows.append(
                row(
                    "single_scan_sqlite_open_p50",
                    opened.percentile(50) * 1000,
                    "ms",
                    TARGET_P99_MS,
                    rate=round(open_rate),
                )
            )
            rows.append(
                row(
                    "single_scan_sqlite_open_p99",
                    opened.percentile(99) * 1000,
                    "ms",
                    TARGET_P99_MS,
                    rate=round(open_rate),
                )
            )
    finally:
        if pg_name:
            drop_pg(pg_name)
        shutil.rmtree(root, ignore_errors=True)
    report("checkins", rows)


if __name__ == "__main__":
    main()
