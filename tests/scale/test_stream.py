"""The ingest stream against the real NATS JetStream on 127.0.0.1:4222 (skipped, saying why, without it)."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from unifiedqr.store.stream import ScanStream, StreamSettings, StreamUnavailable, shard_of

NATS = "nats://127.0.0.1:4222"


pytestmark = pytest.mark.usefixtures("nats")


def settings(**changes: object) -> StreamSettings:
    tag = secrets.token_hex(4)
    base = {"url": NATS, "stream": f"TEST_{tag}", "subject": f"test.{tag}", "durable": f"w{tag}"}
    return StreamSettings(**{**base, **changes})  # type: ignore[arg-type]


async def _delete(stream: ScanStream) -> None:
    await stream._js.delete_stream(stream.settings.stream)
    await stream.close()


def test_publish_dedup_consume_and_redelivery_after_a_retry() -> None:
    async def scenario() -> None:
        stream = ScanStream(settings(ack_wait_seconds=1))
        await stream.connect()
        try:
            assert await stream.publish("venueA", "venueA/dev/k1", b"one") is False
            assert await stream.publish("venueA", "venueA/dev/k1", b"one again") is True, (
                "a retry is a duplicate"
            )
            assert (
                await stream.publish_many("venueB", [(f"venueB/dev/{i}", b"x") for i in range(100)])
                == [False] * 100
            )
            seen: list[bytes] = []
            stop = asyncio.Event()

            async def handle(batch):  # the first delivery of "one" fails once, like a database outage
                for item in batch:
                    if item.data == b"one" and item.deliveries == 1:
                        await item.retry(0.1)
                        continue
                    seen.append(item.data)
                    await item.ack()
                if len(seen) >= 101:
                    stop.set()

            await asyncio.wait_for(stream.consume(handle, stop, fetch_wait=0.2), 20)
            assert sorted(seen) == sorted([b"one"] + [b"x"] * 100), (
                "each message stored once, the retried one too"
            )
            assert await stream.lag() == {"pending": 0, "ack_pending": 0}
        finally:
            await _delete(stream)

    asyncio.run(scenario())


def test_a_stream_that_does_not_answer_is_unavailable() -> None:
    async def scenario() -> None:
        stream = ScanStream(settings(publish_timeout_seconds=0.5))
        with pytest.raises(StreamUnavailable):
            await stream.publish("v", "v/d/k", b"x")  # never connected
        await stream.connect()
        try:
            await stream._js.delete_stream(stream.settings.stream)  # the stream is gone under the node
            with pytest.raises(StreamUnavailable):
                await stream.publish("v", "v/d/k", b"x")
        finally:
            await stream.close()

    asyncio.run(scenario())


def test_shards_are_stable_and_spread() -> None:
    assert shard_of("AbCdEfGhIjK", 16) == shard_of("AbCdEfGhIjK", 16)
    assert len({shard_of(secrets.token_urlsafe(8), 16) for _ in range(400)}) == 16
