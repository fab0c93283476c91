"""Load held: a real server under a steady mix of door scans and code fetches for N seconds.

Loopback only, bounded in time and concurrency. The figures are what the self-check promises to
print (requests per second, errors, p50 and p99); the benchmarks in ``bench/`` measure capacity.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import httpx

from unifiedqr.selfcheck.server import ServerProcess
from unifiedqr.selfcheck.world import World


@dataclass(frozen=True)
class LoadReport:
    seconds: float
    requests: int
    errors: int
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run_load(world: World, seconds: float = 10.0, concurrency: int = 8) -> LoadReport:
    """``concurrency`` clients for ``seconds``: staff scans by phone, and a platform fetching a code."""
    server = ServerProcess(world.database_url, world.ctx.settings.data_dir)
    server.start()
    staff = world.credentials["venue_staff"]
    platform = world.credentials["platform"]
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(number: int) -> None:
        own: list[float] = []
        failed = 0
        with httpx.Client(base_url=server.url, timeout=10) as http:
            sent = 0
            while time.monotonic() < stop:
                sent += 1
                if sent % 3:
                    path, headers = (
                        f"/api/v1/venues/{world.venue_id}/scans",
                        {"Authorization": f"Bearer {staff}"},
                    )
                    body: dict[str, str] | None = {"phone": f"09{(number * 10**6 + sent) % 10**8:08d}"}
                else:
                    path, headers = (
                        f"/api/v1/people/{world.qid}/code",
                        {"Authorization": f"Bearer {platform}"},
                    )
                    body = None
                started = time.perf_counter()
                try:
                    response = (
                        http.post(path, json=body, headers=headers)
                        if body
                        else http.get(path, headers=headers)
                    )
                    ok = response.status_code < 400
                except httpx.TransportError:
                    ok = False
                own.append(time.perf_counter() - started)
                failed += not ok
        with lock:
            latencies.extend(own)
            errors[0] += failed

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(n,)) for n in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    server.stop()
    return LoadReport(
        round(elapsed, 2),
        len(latencies),
        errors[0],
        round(len(latencies) / elapsed, 1),
        round(_percentile(latencies, 0.50) * 1000, 2),
        round(_percentile(latencies, 0.99) * 1000, 2),
    )
