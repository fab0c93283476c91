"""Benchmark: registrations/s and code fetches/s through HTTP on loopback, beside the raw ceilings.

Measured in the same run, so the ratios survive a noisy machine:

- ``sign_raw``: P-256 signing of a personal code on one core (``unifiedqr.codes.signing.sign_code``);
- ``insert_raw_sqlite``: transactions/s of the three rows a registration writes (person, document,
  platform link), committed one by one with Python's sqlite3 on the same schema, WAL + NORMAL;
- ``registration_<db>``: ``POST /api/v1/people`` for new people through ``unifiedqr serve`` (closed
  loop, ``--concurrency`` in flight), with p50/p99 rows; baseline = the lower raw ceiling;
- ``registration_<db>_at_500``: p99 latency at an open-loop 500 requests/s (baseline 50 ms target);
- ``code_fetch_<db>``: ``GET /api/v1/people/{qid}/code``.

Bounded: a fixed number of requests or a time limit per phase, loopback only. ``--quick`` < 60 s.
Targets (issue 5): registration >= 500/s on SQLite on 2 cores with p99 < 50 ms at that rate.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from support.common import open_services, rate, report, row
from support.loadgen import Result, build_request, closed_loop, open_loop
from support.servers import drop_pg, pg_answers, pg_database
from unifiedqr.codes.build import build
from unifiedqr.codes.signing import sign_code

SRC = Path(__file__).resolve().parents[1] / "src"
TARGET_RATE = 500.0
TARGET_P99_MS = 50.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def setup(url: str, data_dir: Path) -> tuple[str, float]:
    """Schema, keys and a platform in a fresh database; also the raw signing rate with that key."""
    from unifiedqr.services import accounts

    ctx, operator = open_services(url, data_dir)
    try:
        api_key = accounts.create_platform(ctx, operator, "bench").api_key
        now = dt.datetime.now(dt.UTC)
        key = ctx.keys.current(now)
        code = build(
            document_number="001093029317",
            full_name="Nguyen Le Kha Han",
            birth_date="1987-01-18",
            qid="162979388586171100",
            phone="0944713700",
        )
        signing = rate(lambda: sign_code(code, key, now), 1.5)
    finally:
        ctx.close()
    return api_key, signing


def raw_insert_rate(seconds: float, directory: Path) -> float:
    """Committed person+document+link transactions/s into the real schema with plain sqlite3."""
    from unifiedqr.store.db import upgrade

    path = directory / "raw.sqlite"
    upgrade(f"sqlite:///{path}")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(
        "INSERT INTO accounts (public_id, role, name, token_version, disabled, created_at) "
        "VALUES ('p', 'platform', 'p', 0, 0, '2026-01-01')"
    )
    account = db.execute("SELECT id FROM accounts").fetchone()[0]
    blob = os.urandom(120)
    counter = iter(range(10**9))

    def one() -> None:
        n = next(counter)
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(" ")
        db.execute("BEGIN IMMEDIATE")
        cur = db.execute(
            "INSERT INTO people (qid, full_name, birth_date, gender, code_enc, code_key_id,"
            " code_revocation_id, created_at, updated_at)"
            " VALUES (?, 'NGUYEN VAN A', '1990-01-01', '0', ?, 'k', 'r', ?, ?)",
            (f"{10**17 + n}", blob, now, now),
        )
        person = cur.lastrowid
        db.execute(
            "INSERT INTO person_documents (person_id, kind, doc_hash, doc_enc, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (person, "cccd", secrets.token_bytes(32), blob, now),
        )
        db.execute(
            "INSERT INTO person_platforms (person_id, account_id, created_at) VALUES (?,?,?)",
            (person, account, now),
        )
        db.execute("COMMIT")

    result = rate(one, seconds)
    db.close()
    return result


class Server:
    """``unifiedqr serve`` in a child process, on a free loopback port (retried if another process
    takes the port between our probe and the server's bind: other benchmarks share this machine)."""

    def __init__(self, url: str, data_dir: Path, workers: int) -> None:
        env = {**os.environ, "PYTHONPATH": str(SRC), "UNIFIEDQR_DATA_DIR": str(data_dir)}
        for _attempt in range(3):
            self.port = free_port()
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "unifiedqr.cli",
                    "serve",
                    "--port",
                    str(self.port),
                    "--database-url",
                    url,
                    "--workers",
                    str(workers),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if self._wait_ready():
                return
        raise SystemExit(
            f"the server did not start: {self.process.stderr.read() if self.process.stderr else ''!r}"
        )

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/api/v1/ready", timeout=1).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                return False
            time.sleep(0.1)
        self.process.kill()
        return False

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


def registration_requests(api_key: str, port: int, prefix: int) -> Any:
    headers = {"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"}

    def make(index: int) -> bytes:
        body = json.dumps(
            {
                "document_number": f"{prefix}{index:08d}",
                "full_name": "Nguyễn Văn Bình",
                "birth_date": "1990-01-01",
                "gender": "male",
                "phone": "0912345678",
            }
        ).encode()
        return build_request("POST", "/api/v1/people", f"127.0.0.1:{port}", headers, body)

    return make


def fetch_requests(api_key: str, port: int, qids: list[str]) -> Any:
    headers = {"Authorization": f"Bearer {api_key}"}
    raws = [build_request("GET", f"/api/v1/people/{q}/code", f"127.0.0.1:{port}", headers) for q in qids]
    return lambda index: raws[index % len(raws)]


def check(result: Result, expected: int, what: str) -> None:
    bad = {s: n for s, n in result.statuses.items() if s != expected}
    if bad:
        raise SystemExit(f"{what}: unexpected statuses {bad}")


def run_database(
    name: str, url: str, data_dir: Path, args: argparse.Namespace, ceiling: float, api_key: str, workers: int
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    server = Server(url, data_dir, workers)
    try:
        port = server.port
        count = 1200 if args.quick else 6000
        limit = 5.0 if args.quick else 30.0
        warm = asyncio.run(
            closed_loop(
                "127.0.0.1",
                port,
                registration_requests(api_key, port, 1000),
                200,
                args.concurrency,
                time.perf_counter() + 10,
            )
        )
        check(warm, 201, "warm-up")
        reg = asyncio.run(
            closed_loop(
                "127.0.0.1",
                port,
                registration_requests(api_key, port, 1100),
                count,
                args.concurrency,
                time.perf_counter() + limit,
            )
        )
        check(reg, 201, "registration")
        rows.append(
            row(
                f"registration_{name}",
                reg.rate,
                "req/s",
                ceiling,
                requests=reg.count,
                concurrency=args.concurrency,
                workers=workers,
            )
        )
        rows.append(row(f"registration_{name}_p50", reg.percentile(50) * 1000, "ms"))
        rows.append(row(f"registration_{name}_p99", reg.percentile(99) * 1000, "ms", TARGET_P99_MS))
        paced = asyncio.run(
            open_loop(
                "127.0.0.1",
                port,
                registration_requests(api_key, port, 1200),
                TARGET_RATE,
                2.0 if args.quick else 6.0,
            )
        )
        check(paced, 201, "registration at 500/s")
        rows.append(row(f"registration_{name}_at_500_p50", paced.percentile(50) * 1000, "ms"))
        rows.append(
            row(
                f"registration_{name}_at_500_p99",
                paced.percentile(99) * 1000,
                "ms",
                TARGET_P99_MS,
                achieved_rate=round(paced.rate, 1),
            )
        )
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            headers = {"Authorization": f"Bearer {api_key}"}
            qids = [
                http.post(
                    "/api/v1/people",
                    headers=headers,
                    json={
                        "document_number": f"13{i:010d}",
                        "full_name": "Tran Thi C",
                        "birth_date": "1991-01-01",
                    },
                ).json()["qid"]
                for i in range(200)
            ]
        fetch = asyncio.run(
            closed_loop(
                "127.0.0.1",
                port,
                fetch_requests(api_key, port, qids),
                count * 2,
                args.concurrency,
                time.perf_counter() + limit,
            )
        )
        check(fetch, 200, "code fetch")
        rows.append(row(f"code_fetch_{name}", fetch.rate, "req/s", requests=fetch.count))
        rows.append(row(f"code_fetch_{name}_p99", fetch.percentile(99) * 1000, "ms", TARGET_P99_MS))
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="short run (< 60 s)")
    parser.add_argument("--workers", type=int, default=1, help="server workers on SQLite (default 1)")
    parser.add_argument("--pg-workers", type=int, default=2, help="server workers on PostgreSQL (default 2)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight (closed loop)")
    parser.add_argument("--no-postgres", action="store_true", help="skip PostgreSQL even when it answers")
    args = parser.parse_args()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="uqr-bench-") as tmp:
        root = Path(tmp)
        url = f"sqlite:///{root / 'bench.sqlite'}"
        api_key, signing = setup(url, root / "secrets")
        inserting = raw_insert_rate(1.5 if args.quick else 4.0, root)
        ceiling = min(signing, inserting)
        rows.append(row("sign_raw", signing, "signs/s"))
        rows.append(row("insert_raw_sqlite", inserting, "tx/s"))
        rows += run_database("sqlite", url, root / "secrets", args, ceiling, api_key, args.workers)
        if not args.no_postgres and pg_answers():
            pg_url, name, _ = pg_database()
            try:
                pg_key, _ = setup(pg_url, root / "pg-secrets")
                rows += run_database(
                    "postgresql", pg_url, root / "pg-secrets", args, ceiling, pg_key, args.pg_workers
                )
            finally:
                drop_pg(name)
        else:
            print(
                "PostgreSQL not measured (not answering on 127.0.0.1:5432, or --no-postgres)", file=sys.stderr
            )
    report("issuance", rows)
    reg = next(r for r in rows if r["metric"] == "registration_sqlite")
    p99 = next(r for r in rows if r["metric"] == "registration_sqlite_at_500_p99")
    verdict = "met" if reg["value"] >= TARGET_RATE and p99["value"] < TARGET_P99_MS else "NOT met"
    print(
        f"target (>= {TARGET_RATE:.0f} registrations/s on SQLite, p99 < {TARGET_P99_MS:.0f} ms at 500/s):"
        f" {verdict}",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
