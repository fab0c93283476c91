"""Issue 15's promise with real processes: PostgreSQL stopped mid-load, the door keeps its answers.

A private PostgreSQL (``selfcheck.postgres``), ``unifiedqr serve`` in stream mode with its consumer,
the JetStream on 127.0.0.1:4222. Scans are acknowledged (202) before, during and after the outage,
some retried with the same key; once the database is back every acknowledged scan is stored once.
"""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from tests.support import missing_service
from unifiedqr.selfcheck import door as doors
from unifiedqr.selfcheck import postgres
from unifiedqr.selfcheck.server import ServerProcess

pytestmark = pytest.mark.usefixtures("nats")


@pytest.fixture
def cluster():
    reason = postgres.unavailable_reason()
    if reason:
        missing_service(reason)
    made = postgres.Cluster()
    yield made
    made.close()


def _drop_stream(name: str) -> None:
    import asyncio

    import nats

    async def drop() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        try:
            await nc.jetstream().delete_stream(name)
        finally:
            await nc.close()

    asyncio.run(drop())


def test_scans_are_acknowledged_while_postgresql_is_down_and_stored_once_after(cluster, tmp_path):
    url = cluster.primary.url
    door = doors.prepare(url, tmp_path / "secrets", 40)
    stream = f"TEST_OUTAGE_{secrets.token_hex(3).upper()}"
    env = {"UNIFIEDQR_INGEST": "nats://127.0.0.1:4222", "UNIFIEDQR_INGEST_STREAM": stream}
    server = ServerProcess(url, tmp_path / "secrets", env=env)
    server.start(timeout=60)
    headers = {"Authorization": f"Bearer {door.token}"}

    def scan(http: httpx.Client, n: int) -> int:
        body = {"text": door.codes[n % len(door.codes)], "idempotency_key": f"outage-{n}"}
        return http.post(f"/api/v1/venues/{door.venue_id}/scans", json=body, headers=headers).status_code

    try:
        with httpx.Client(base_url=server.url, timeout=10) as http:
            assert [scan(http, n) for n in range(20)] == [202] * 20
            cluster.primary.stop("fast")
            during = [scan(http, n) for n in range(20, 40)]
            retried = [scan(http, n) for n in range(10, 25)]  # devices that did not hear the answer
            assert during == [202] * 20, "the door does not wait for the database"
            assert retried == [202] * 15
            cluster.primary.start()
        deadline = time.monotonic() + 90
        stored = rows = 0
        while time.monotonic() < deadline:
            try:
                stored, rows = doors.stored(url, door.venue_id)
            except Exception:  # the database is still coming back
                stored = rows = 0
            if stored >= 40:
                break
            time.sleep(0.5)
        assert (stored, rows) == (40, 40), "every acknowledged scan stored, each once"
    finally:
        server.stop()
        _drop_stream(stream)
