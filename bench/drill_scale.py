"""The scale drill (issue 15): sustained door scans in stream mode while things break, then the count.

A private PostgreSQL (``unifiedqr.selfcheck.postgres``), the NATS JetStream on 127.0.0.1:4222 (a
stream of its own), ``unifiedqr serve --workers K`` with the stream, and a separate
``unifiedqr ingest consume`` process, all real. Scanners send staff scans with idempotency keys at a
steady rate and, like a device, retry a scan until it is acknowledged. Meanwhile: a worker is killed
(``kill -9``), PostgreSQL is stopped and started again, and the consumers are paused (SIGSTOP) and
resumed. At the end, after the backlog drains: scans acknowledged, stored, lost (acknowledged but not
stored: must be 0), duplicated (stored twice: must be 0), and latency p50/p99 per second as a plot.

    python bench/drill_scale.py [--quick] [--seconds 120] [--workers 2] [--rate 150]

Writes bench/results/drill_scale.json (rows of metric, value, unit, baseline, ratio),
bench/results/drill_scale.png and .svg. Loopback only, bounded in time.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from support.common import RESULTS, report, row
from support.servers import NATS, drop_stream
from unifiedqr.imaging.charts import Series, line_chart
from unifiedqr.imaging.scene import to_png, to_svg
from unifiedqr.selfcheck import door as doors
from unifiedqr.selfcheck import postgres
from unifiedqr.selfcheck.server import ServerProcess


@dataclass
class Load:
    """What the scanners saw: acknowledged keys, and (second, latency) of every acknowledgement."""

    acked: set[str] = field(default_factory=set)
    latencies: list[tuple[float, float]] = field(default_factory=list)
    refused: int = 0  # 503s and connection errors, each followed by a retry of the same scan
    lock: threading.Lock = field(default_factory=threading.Lock)


def _env(url: str, data: Path, stream: str) -> dict[str, str]:
    return {
        "UNIFIEDQR_DATABASE_URL": url,
        "UNIFIEDQR_DATA_DIR": str(data),
        "UNIFIEDQR_INGEST": NATS,
        "UNIFIEDQR_INGEST_STREAM": stream,
        "UNIFIEDQR_INGEST_CONSUMERS": "0",  # the writers are their own process, to pause them
    }


def _scanner(
    base: str, venue: str, token: str, codes: list[str], number: int, rate: float, stop: float, load: Load
) -> None:
    """One scanner at ``rate`` scans/s; each scan retried with its key until acknowledged."""
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    sent = 0
    with httpx.Client(base_url=base, timeout=5) as http:
        while time.monotonic() < stop:
            due = started + sent / rate
            time.sleep(max(0.0, due - time.monotonic()))
            key = f"s{number}-{sent}"
            body = {"text": codes[(number * 7919 + sent) % len(codes)], "idempotency_key": key}
            sent += 1
            while time.monotonic() < stop + 60:  # the device keeps trying after the drill's end
                began = time.perf_counter()
                try:
                    answer = http.post(f"/api/v1/venues/{venue}/scans", json=body, headers=headers)
                    if answer.status_code == 202:
                        with load.lock:
                            load.acked.add(key)
                            load.latencies.append((time.monotonic(), time.perf_counter() - began))
                        break
                except httpx.TransportError:
                    pass
                with load.lock:
                    load.refused += 1
                time.sleep(0.2)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _kill_a_worker(server: ServerProcess) -> None:
    """``kill -9`` of one of the supervisor's worker processes (uvicorn starts a new one)."""
    assert server.process is not None
    workers = _children(server.process.pid)
    os.kill(workers[0] if workers else server.process.pid, signal.SIGKILL)


def _events(
    seconds: float,
    server: ServerProcess,
    consumer: subprocess.Popen[bytes],
    cluster: postgres.Cluster,
    t0: float,
) -> list[tuple[float, str]]:
    """What breaks when (fractions of the run), done from this thread; their times for the plot."""
    assert server.process is not None
    plan = [
        (0.15, "kill -9 a worker", lambda: _kill_a_worker(server)),
        (0.30, "PostgreSQL stopped", lambda: cluster.primary.stop("fast")),
        (0.45, "PostgreSQL started", cluster.primary.start),
        (0.60, "consumers paused", lambda: os.kill(consumer.pid, signal.SIGSTOP)),
        (0.75, "consumers resumed", lambda: os.kill(consumer.pid, signal.SIGCONT)),
    ]
    done = []
    for fraction, label, act in plan:
        time.sleep(max(0.0, t0 + fraction * seconds - time.monotonic()))
        act()
        done.append((round(time.monotonic() - t0, 1), label))
        print(f"  {done[-1][0]:>6.1f} s  {label}", file=sys.stderr)
    return done


def _series(latencies: list[tuple[float, float]], t0: float) -> tuple[Series, Series]:
    per_second: dict[int, list[float]] = {}
    for at, latency in latencies:
        per_second.setdefault(int(at - t0), []).append(latency * 1000)
    points50, points99 = [], []
    for second in range(max(per_second, default=0) + 1):
        values = sorted(per_second.get(second, []))
        p50 = values[len(values) // 2] if values else float("nan")
        p99 = values[min(len(values) - 1, int(0.99 * len(values)))] if values else float("nan")
        points50.append((float(second), p50))
        points99.append((float(second), p99))
    return Series("p50 (ms)", tuple(points50)), Series("p99 (ms)", tuple(points99))


def _drain(url: str, venue: str, acked: int, timeout: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        with contextlib.suppress(Exception):
            if doors.stored(url, venue)[0] >= acked:
                break
        time.sleep(1)
    return time.monotonic() - started


def drill(seconds: float, workers: int, rate: float, scanners: int) -> list[dict[str, object]]:
    reason = postgres.unavailable_reason()
    if reason:
        raise SystemExit(f"the drill needs a private PostgreSQL: {reason}")
    cluster = postgres.Cluster()
    data = Path(tempfile.mkdtemp(prefix="unifiedqr-drill-"))
    stream = f"DRILL_{secrets.token_hex(3).upper()}"
    url = cluster.primary.url
    env = _env(url, data, stream)
    server = ServerProcess(url, data, workers=workers, env=env)
    consumer: subprocess.Popen[bytes] | None = None
    try:
        door = doors.prepare(url, data, 2000)
        venue, token, codes = door.venue_id, door.token, door.codes
        server.start(timeout=60)
        consumer = subprocess.Popen(
            [sys.executable, "-m", "unifiedqr", "ingest", "consume", "--consumers", "2"],
            env=server.env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        load = Load()
        t0 = time.monotonic()
        stop = t0 + seconds
        threads = [
            threading.Thread(
                target=_scanner, args=(server.url, venue, token, codes, n, rate / scanners, stop, load)
            )
            for n in range(scanners)
        ]
        for thread in threads:
            thread.start()
        events = _events(seconds, server, consumer, cluster, t0)
        for thread in threads:
            thread.join()
        drain = _drain(url, venue, len(load.acked), 180)
        stored, rows = doors.stored(url, venue)
        return _results(load, stored, rows, drain, seconds, events, t0)
    finally:
        if consumer is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(consumer.pid, signal.SIGCONT)
            consumer.terminate()
            try:
                consumer.wait(15)
            except subprocess.TimeoutExpired:
                consumer.kill()
                consumer.wait(10)
        server.stop()
        drop_stream(stream)
        cluster.close()


def _results(
    load: Load,
    stored: int,
    rows: int,
    drain: float,
    seconds: float,
    events: list[tuple[float, str]],
    t0: float,
) -> list[dict[str, object]]:
    lat = sorted(latency * 1000 for _, latency in load.latencies)
    p50 = lat[len(lat) // 2] if lat else 0.0
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else 0.0
    p50_series, p99_series = _series(load.latencies, t0)
    chart = line_chart("Door scans in stream mode while the node breaks", [p50_series, p99_series], events)
    (RESULTS / "drill_scale.png").write_bytes(to_png(chart))
    (RESULTS / "drill_scale.svg").write_text(to_svg(chart), encoding="utf-8")
    acked = len(load.acked)
    return [
        row("scans_acknowledged", acked, "scans"),
        row("scans_stored", stored, "scans", acked),
        row("scans_lost", acked - stored if stored < acked else 0, "scans"),
        row("scans_duplicated", rows - stored, "scans"),
        row("retries_503_or_connection", load.refused, "requests"),
        row("ack_rate", acked / seconds, "scans/s"),
        row("ack_p50", p50, "ms"),
        row("ack_p99", p99, "ms"),
        row("drain_after_load", drain, "s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="30 s of load: within about a minute")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=150.0, help="scans per second, all scanners")
    parser.add_argument("--scanners", type=int, default=8)
    args = parser.parse_args()
    seconds, workers = (20.0, 2) if args.quick else (args.seconds, args.workers)
    rows = drill(seconds, workers, args.rate, args.scanners)
    report("drill_scale", [{**r, "seconds": seconds, "workers": workers, "rate": args.rate} for r in rows])


if __name__ == "__main__":
    main()
