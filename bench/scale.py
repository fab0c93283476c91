"""Scale (issue 15): acknowledged door scans per second with 1, 2 and 4 workers, direct vs stream.

Every figure stands beside a ceiling measured in the same run on the same machine:

- **raw JetStream publish**: nats-py publishing messages of a scan's size with acknowledgement, as
  many in flight as the load has requests, to a stream of the same storage (file). The stream path
  cannot acknowledge faster than this: its ratio says what the HTTP, auth and code checks cost.
- **raw PostgreSQL COPY**: psycopg ``COPY`` of scan rows into copies of the two tables a scan writes
  (``scan_events`` and ``scan_keys``, with their indexes), 500 rows a commit (the consumer's batch).
  The direct path and the consumers' drain are compared with it.

Then, for each path and each worker count, a real ``unifiedqr serve --workers K`` on PostgreSQL (and
the JetStream on 127.0.0.1:4222 for the stream path, its consumers inside the same command, as a
node runs) takes a closed loop of staff scans with idempotency keys from ``--concurrency`` keep-alive
connections: acknowledged scans/s, p50 and p99. Finally the **drain**: a backlog accepted with the
consumers stopped, then ``unifiedqr ingest consume`` writes it; rows/s against raw COPY.

The load generator shares the 2 cores with the server (as a loopback bench must): absolute figures
are a floor for a real node; ratios are the point.

    python bench/scale.py [--quick] [--seconds 6] [--concurrency 32] [--workers 1,2,4]

``--quick`` measures 1 and 4 workers for 1.5 s each (server start-ups dominate a minute).

Writes bench/results/scale.json. Loopback only (PostgreSQL on 127.0.0.1:5432, NATS on 4222), a
database and a stream of its own, both removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support.common import report, row
from support.loadgen import Result, build_request, closed_loop
from support.servers import NATS, drop_pg, drop_stream, pg_database
from unifiedqr.selfcheck import door as doors
from unifiedqr.selfcheck.server import ServerProcess

BATCH = 500


# -- ceilings -------------------------------------------------------------------------------------


def raw_copy(url: str, seconds: float) -> float:
    """Rows/s of COPY into copies of scan_events and scan_keys (with their indexes), 500 a commit."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE raw_events (LIKE scan_events INCLUDING DEFAULTS INCLUDING INDEXES)")
        conn.execute("CREATE TABLE raw_keys (LIKE scan_keys INCLUDING DEFAULTS INCLUDING INDEXES)")
        conn.commit()
        person = "\\\\x" + "ab" * 32
        identity = "\\\\x" + "cd" * 120
        done = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            events, keys = io.StringIO(), io.StringIO()
            for i in range(done, done + BATCH):
                at = f"2026-11-30 08:{(i // 60) % 60:02d}:{i % 60:02d}+00"
                events.write(
                    f"1\t{person}\tstaff\tsigned\tverified\tin\tNguyễn V** A*\t{identity}"
                    f"\tk{i}\tdev-1\t{at}\t{at}\t{at}\n"
                )
                keys.write(f"1\tdev-1\tk{i}\t{at}\tin\n")
            with conn.cursor() as cur:
                columns = (
                    "venue_id, person_key, source, code_kind, verification, direction, name_masked,"
                    " identity_enc, idempotency_key, key_scope, device_at, occurred_at, received_at"
                )
                with cur.copy(f"COPY raw_events ({columns}) FROM STDIN") as copy:
                    copy.write(events.getvalue())
                with cur.copy(
                    "COPY raw_keys (venue_id, key_scope, idempotency_key, occurred_at, direction) FROM STDIN"
                ) as copy:
                    copy.write(keys.getvalue())
            conn.commit()
            done += BATCH
        elapsed = time.perf_counter() - started
        conn.execute("DROP TABLE raw_events, raw_keys")
        conn.commit()
    return done / elapsed


def raw_publish(seconds: float, in_flight: int, size: int) -> float:
    """Acknowledged JetStream publishes/s (nats-py, ``in_flight`` at once), file storage, like ours."""

    async def run() -> float:
        import nats
        from nats.js.api import StorageType, StreamConfig

        name = f"BENCH_RAW_{secrets.token_hex(3).upper()}"
        nc = await nats.connect(NATS)
        js = nc.jetstream()
        await js.add_stream(StreamConfig(name=name, subjects=[f"{name.lower()}.>"], storage=StorageType.FILE))
        payload = os.urandom(size)
        count = 0
        deadline = time.perf_counter() + seconds

        async def publisher(number: int) -> None:
            nonlocal count
            sent = 0
            while time.perf_counter() < deadline:
                subject = f"{name.lower()}.{(number + sent) % 16}"
                await js.publish(subject, payload, headers={"Nats-Msg-Id": f"{number}-{sent}"})
                sent += 1
                count += 1

        started = time.perf_counter()
        try:
            await asyncio.gather(*(publisher(n) for n in range(in_flight)))
            return count / (time.perf_counter() - started)
        finally:
            with contextlib.suppress(Exception):
                await js.delete_stream(name)
            await nc.close()

    return asyncio.run(run())


# -- the server under load ------------------------------------------------------------------------


def _scan_requests(server: ServerProcess, door: doors.Door, tag: str) -> Any:
    host = f"127.0.0.1:{server.port}"
    headers = {"Authorization": f"Bearer {door.token}", "Content-Type": "application/json"}
    path = f"/api/v1/venues/{door.venue_id}/scans"

    def make(index: int) -> bytes:
        body = {"text": door.codes[index % len(door.codes)], "idempotency_key": f"{tag}-{index}"}
        return build_request("POST", path, host, headers, json.dumps(body).encode())

    return make


def load(server: ServerProcess, door: doors.Door, tag: str, seconds: float, concurrency: int) -> Result:
    """A short warm-up, then the closed loop; only 2xx answers count as acknowledged."""
    make = _scan_requests(server, door, tag)
    warm = lambda index: make(10**7 + index)  # noqa: E731 - distinct keys from the measured run
    asyncio.run(closed_loop("127.0.0.1", server.port, warm, 200, concurrency, time.perf_counter() + 0.5))
    return asyncio.run(
        closed_loop("127.0.0.1", server.port, make, 10**7, concurrency, time.perf_counter() + seconds)
    )


def _acked(result: Result) -> int:
    return sum(n for status, n in result.statuses.items() if 200 <= status < 300)


def _env(stream: str | None, consumers: int = 1) -> dict[str, str]:
    if stream is None:
        return {}
    return {
        "UNIFIEDQR_INGEST": NATS,
        "UNIFIEDQR_INGEST_STREAM": stream,
        "UNIFIEDQR_INGEST_CONSUMERS": str(consumers),
    }


@dataclass(frozen=True)
class Run:
    """What every measured run shares: the database, the secrets directory, the door, the load."""

    url: str
    data: Path
    door: doors.Door
    seconds: float
    concurrency: int


def serve_and_load(run: Run, stream: str | None, workers: int) -> Result:
    server = ServerProcess(run.url, run.data, workers=workers, env=_env(stream))
    server.start(timeout=60)
    try:
        time.sleep(0.3 * workers)  # the health answer came from one worker; let the others start
        tag = f"{'stream' if stream else 'direct'}-{workers}"
        return load(server, run.door, tag, run.seconds, run.concurrency)
    finally:
        server.stop()


def drain(run: Run, stream: str) -> tuple[int, float]:
    """A backlog accepted with no consumer, then ``ingest consume`` writing it: (scans, rows/s)."""
    url, door = run.url, run.door
    server = ServerProcess(url, run.data, workers=1, env=_env(stream, consumers=0))
    server.start(timeout=60)
    try:
        before, _ = doors.stored(url, door.venue_id)
        make = _scan_requests(server, door, "drain")
        deadline = time.perf_counter() + run.seconds
        result = asyncio.run(closed_loop("127.0.0.1", server.port, make, 10**7, run.concurrency, deadline))
    finally:
        server.stop()
    backlog = _acked(result)
    target = before + backlog
    consumer = subprocess.Popen(
        [sys.executable, "-m", "unifiedqr", "ingest", "consume", "--consumers", "2", "--database-url", url],
        env=server.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        first = last = None
        first_count = 0
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            count, _ = doors.stored(url, door.venue_id)
            now = time.perf_counter()
            if first is None and count > before:
                first, first_count = now, count
            if count >= target:
                last = now
                break
            time.sleep(0.05)
        if first is None or last is None or last <= first:
            raise SystemExit(f"the consumers did not drain {backlog} scans within 300 s")
        return backlog, (target - first_count) / (last - first)
    finally:
        consumer.terminate()
        consumer.wait(30)


def settle(url: str, venue: str, expected: int, timeout: float = 180) -> int:
    """Wait until every acknowledged scan so far is stored (the stream runs' consumers may lag)."""
    deadline = time.monotonic() + timeout
    count = 0
    while time.monotonic() < deadline:
        count, _ = doors.stored(url, venue)
        if count >= expected:
            break
        time.sleep(0.2)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short runs: within a minute")
    parser.add_argument("--seconds", type=float, default=6.0, help="measured seconds per run")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--workers", help="worker counts to measure (default 1,2,4; --quick: 1,4)")
    args = parser.parse_args()
    seconds = 1.5 if args.quick else args.seconds
    counts = [int(n) for n in (args.workers or ("1,4" if args.quick else "1,2,4")).split(",")]
    began = time.monotonic()
    url, name, _ = pg_database(f"uqr_bench_scale_{secrets.token_hex(4)}")
    data = Path(tempfile.mkdtemp(prefix="unifiedqr-bench-scale-"))
    stream = f"BENCH_SCALE_{secrets.token_hex(3).upper()}"
    rows: list[dict[str, Any]] = []
    total_acked = 0
    try:
        door = doors.prepare(url, data, 2000)
        run = Run(url, data, door, seconds, args.concurrency)
        size = len(json.dumps({"text": door.codes[0], "idempotency_key": "x" * 20})) + 200
        print(f"{time.monotonic() - began:5.1f} s  raw ceilings", file=sys.stderr)
        copy_rate = raw_copy(url, seconds)
        publish_rate = raw_publish(seconds, args.concurrency, size)
        rows.append(row("raw_pg_copy", copy_rate, "rows/s", batch=BATCH))
        rows.append(row("raw_jetstream_publish", publish_rate, "msgs/s", in_flight=args.concurrency))
        for path, stream_name, ceiling in (("direct", None, copy_rate), ("stream", stream, publish_rate)):
            for workers in counts:
                print(f"{time.monotonic() - began:5.1f} s  {path} path, {workers} worker(s)", file=sys.stderr)
                result = serve_and_load(run, stream_name, workers)
                acked = _acked(result)
                total_acked += acked
                rate = acked / result.elapsed
                errors = result.count - acked
                extra = {"workers": workers, "path": path, "errors": errors, "concurrency": args.concurrency}
                rows.append(row(f"{path}_{workers}w_acked", rate, "scans/s", ceiling, **extra))
                rows.append(row(f"{path}_{workers}w_p50", result.percentile(50) * 1000, "ms", **extra))
                rows.append(row(f"{path}_{workers}w_p99", result.percentile(99) * 1000, "ms", **extra))
        settle(url, door.venue_id, total_acked)
        print(f"{time.monotonic() - began:5.1f} s  drain", file=sys.stderr)
        backlog, drain_rate = drain(run, stream)
        total_acked += backlog
        rows.append(row("stream_drain", drain_rate, "rows/s", copy_rate, backlog=backlog))
        stored = settle(url, door.venue_id, total_acked)
        _, stored_rows = doors.stored(url, door.venue_id)
        rows.append(row("scans_acknowledged", total_acked, "scans"))
        rows.append(row("scans_lost", max(0, total_acked - stored), "scans"))
        rows.append(row("scans_stored_twice", stored_rows - stored, "scans"))
    finally:
        drop_stream(stream)
        drop_pg(name)
    report("scale", [{**r, "seconds": seconds} for r in rows])


if __name__ == "__main__":
    main()
