"""A lean HTTP/1.1 load generator for loopback benchmarks (asyncio streams, keep-alive, no parsing frills).

Why not httpx: on a 2-core machine the client competes with the server for CPU, and a full-featured
client spends more per request than the server does; this one costs a few microseconds, so the
figures measure the server. Closed loop (``concurrency`` requests in flight) gives the throughput;
open loop (``rate`` per second, each request on its own schedule) gives the latency at that rate
without coordinated omission.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    elapsed: float = 0.0

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return status, body

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def build_request(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def closed_loop(
    host: str, port: int, make: Callable[[int], bytes], total: int, concurrency: int, deadline: float
) -> Result:
    result = Result()
    counter = iter(range(total))
    start = time.perf_counter()

    async def worker() -> None:
        conn = Connection(host, port)
        try:
            for index in counter:
                if time.perf_counter() > deadline:
                    break
                raw = make(index)
                t0 = time.perf_counter()
                status, _ = await conn.request(raw)
                result.latencies.append(time.perf_counter() - t0)
                result.statuses[status] = result.statuses.get(status, 0) + 1
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - start
    return result


async def open_loop(
    host: str,
    port: int,
    make: Callable[[int], bytes],
    rate: float,
    seconds: float,
    connections: int = 64,
    warmup: float = 1.0,
) -> Result:
    """Send at ``rate``/s for ``warmup`` + ``seconds``; latency counts from the scheduled send time.

    The first ``warmup`` seconds are sent but not recorded: measured here, every request slower than
    30 ms at 1,000/s fell in the first 200 ms (fresh connections and caches), which is start-up, not
    the steady state this figure is about.

    The connections are opened before the clock starts (clients keep them open), otherwise the
    first requests would measure 64 simultaneous TCP handshakes, not the server.
    """
    result = Result()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    opened = [Connection(host, port) for _ in range(connections)]
    await asyncio.gather(*(c.connect() for c in opened))
    for conn in opened:
        pool.put_nowait(conn)
    skipped = int(rate * warmup)
    total = skipped + int(rate * seconds)
    # Requests are built before the clock starts: on 2 shared cores the generator's own CPU time
    # would otherwise show up as server latency.
    prepared = [make(index) for index in range(total)]
    start = time.perf_counter()

    async def one(index: int) -> None:
        scheduled = start + index / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await pool.get()
        try:
            status, _ = await conn.request(prepared[index])
        finally:
            pool.put_nowait(conn)
        result.statuses[status] = result.statuses.get(status, 0) + 1
        if index >= skipped:
            result.latencies.append(time.perf_counter() - scheduled)

    await asyncio.gather(*(one(i) for i in range(total)))
    result.elapsed = time.perf_counter() - start - warmup
    while not pool.empty():
        await pool.get_nowait().close()
    return result
