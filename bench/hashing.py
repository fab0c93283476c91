"""Benchmark: a crowd of wrong-password log-ins against ``unifiedqr serve`` at the production argon2 cost.

Issue 10 #3: 40 concurrent wrong-password logins took the server from 139 MiB to 2.4 GiB (argon2id
with 64 MiB per hash, as many at once as there were requests) and ``/health`` to 1.5 s. This runs
the same burst twice in one run: with the shipped bound (``UNIFIEDQR_PASSWORD_CONCURRENCY=2``) and
with the bound lifted to the crowd's size (the old behaviour), and reports for each:

- ``rss_growth``: peak resident memory of the server during the burst minus before it (sampled
  every 5 ms from /proc, and the kernel's own high-water mark VmHWM);
- ``health_max`` / ``health_p50``: latency of ``GET /api/v1/health`` polled during the burst;
- ``burst``: seconds until every log-in was answered, and how many got 401 (checked) or 503 (busy).

The log-ins use distinct unknown logins (each still costs one full hash: a dummy is verified), so
the per-login throttle does not cut the crowd short. Loopback only, bounded: ``--logins`` requests
(``--quick``: 12).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from support.common import report, row

SRC = Path(__file__).resolve().parents[1] / "src"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def _serve(directory: Path, concurrency: int) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "UNIFIEDQR_DATA_DIR": str(directory / f"secrets{concurrency}"),
        "UNIFIEDQR_PASSWORD_CONCURRENCY": str(concurrency),
    }
    url = f"sqlite:///{directory / f'hash{concurrency}.sqlite'}"
    process = subprocess.Popen(
        [sys.executable, "-m", "unifiedqr", "serve", "--port", str(port), "--database-url", url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/ready", timeout=1).status_code == 200:
                return process, port
        except httpx.TransportError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the server did not start")


def burst(concurrency: int, logins: int, directory: Path) -> dict[str, Any]:
    """One server, one crowd of ``logins`` simultaneous wrong-password log-ins; what it cost."""
    process, port = _serve(directory, concurrency)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        time.sleep(0.5)
        before = _status_kib(process.pid, "VmRSS")
        peak = before
        done = threading.Event()
        health: list[float] = []

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _status_kib(process.pid, "VmRSS"))
                time.sleep(0.005)

        def poll_health() -> None:
            with httpx.Client(timeout=30) as client:
                while not done.is_set():
                    start = time.perf_counter()
                    client.get(f"{base}/health")
                    health.append((time.perf_counter() - start) * 1000)
                    time.sleep(0.02)

        def login(i: int) -> int:
            with httpx.Client(timeout=120) as client:
                body = {"login": f"nobody{i}", "password": "wrong password 123"}
                return client.post(f"{base}/auth/token", json=body).status_code

        watchers = [threading.Thread(target=sample), threading.Thread(target=poll_health)]
        for watcher in watchers:
            watcher.start()
        start = time.perf_counter()
        with ThreadPoolExecutor(logins) as pool:
            statuses = list(pool.map(login, range(logins)))
        seconds = time.perf_counter() - start
        done.set()
        for watcher in watchers:
            watcher.join()
        high_water = _status_kib(process.pid, "VmHWM")
        return {
            "concurrency": concurrency,
            "rss_before_mib": before / 1024,
            "rss_growth_mib": (peak - before) / 1024,
            "hwm_growth_mib": (high_water - before) / 1024,
            "health_p50_ms": statistics.median(health) if health else 0.0,
            "health_max_ms": max(health) if health else 0.0,
            "burst_s": seconds,
            "checked": statuses.count(401),
            "busy": statuses.count(503),
            "other": len(statuses) - statuses.count(401) - statuses.count(503),
        }
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logins", type=int, default=40)
    parser.add_argument("--quick", action="store_true", help="a crowd of 12 (under a minute)")
    parser.add_argument("--bounded", type=int, default=2, help="the shipped UNIFIEDQR_PASSWORD_CONCURRENCY")
    args = parser.parse_args()
    if args.quick:
        args.logins = min(args.logins, 12)
    rows = []
    with tempfile.TemporaryDirectory(prefix="uqr-hash-") as tmp:
        for label, concurrency in (("bounded", args.bounded), ("unbounded", args.logins)):
            found = burst(concurrency, args.logins, Path(tmp))
            extra = {k: round(v, 2) if isinstance(v, float) else v for k, v in found.items()}
            rows += [
                row(f"rss_growth_{label}", found["rss_growth_mib"], "MiB", **extra),
                row(f"hwm_growth_{label}", found["hwm_growth_mib"], "MiB"),
                row(f"health_max_{label}", found["health_max_ms"], "ms"),
                row(f"health_p50_{label}", found["health_p50_ms"], "ms"),
                row(f"burst_{label}", found["burst_s"], "s"),
                row(f"busy_503_{label}", found["busy"], "requests"),
            ]
    report("hashing", rows)


if __name__ == "__main__":
    main()
