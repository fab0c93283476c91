"""The ingest stream: scans acknowledged once they are durably in NATS JetStream, written later in batches.

Why a stream (issue 15): a door cannot wait for a database that is restarting, slow or being
migrated. With ``UNIFIEDQR_INGEST=nats://HOST:PORT`` a node publishes each scan to a file-backed,
replicated-if-clustered JetStream stream and answers 202 when JetStream has acknowledged it (its
own ``fsync`` policy then holds it); consumers in every node pull batches, write them to the
database with their idempotency keys, and acknowledge each message only after that commit. A
message not acknowledged (a crash, a database outage) is delivered again; the database's unique
keys make the second write a no-op, so every acknowledged scan is stored exactly once.

The shape: one stream (``UQR_SCANS``), subjects ``uqr.scans.<shard>`` (a shard per venue hash, so a
venue's scans keep their order within one subject and the subject space can later be split across
streams or clusters), limits-based retention by age and size (the database, not the stream, is the
system of record), and a duplicate window: the message id is the scan's idempotency scope, so a
client's retry within the window is dropped by JetStream itself before it costs a database write.
This module knows NATS and bytes; what a message means is :mod:`unifiedqr.services.ingest`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("unifiedqr.ingest")


class StreamUnavailable(RuntimeError):
    """The stream did not acknowledge in time (down, or full): the caller answers 503."""


@dataclass(frozen=True)
class StreamSettings:
    url: str
    stream: str = "UQR_SCANS"
    subject: str = "uqr.scans"
    durable: str = "uqr-writer"
    shards: int = 16
    max_age_seconds: int = 7 * 24 * 3600
    max_bytes: int = 4 * 1024**3
    duplicate_window_seconds: int = 120
    publish_timeout_seconds: float = 2.0
    batch: int = 500
    ack_wait_seconds: int = 30


@dataclass(frozen=True)
class Delivered:
    """A message pulled from the stream: its payload, and how to settle it."""

    data: bytes
    deliveries: int
    message: Any

    async def ack(self) -> None:
        await self.message.ack()

    async def retry(self, delay: float) -> None:
        await self.message.nak(delay=delay)


def shard_of(venue_id: str, shards: int) -> int:
    """The venue's shard (stable across processes and releases: a hash, not Python's ``hash``)."""
    return int.from_bytes(hashlib.blake2b(venue_id.encode(), digest_size=4).digest(), "big") % shards


class ScanStream:
    """One connection to NATS per process; publish and consume through it."""

    def __init__(self, settings: StreamSettings) -> None:
        self.settings = settings
        self._nc: Any = None
        self._js: Any = None
        self.published = 0
        self.publish_failures = 0

    async def connect(self) -> None:
        import nats

        self._nc = await nats.connect(
            self.settings.url,
            name="unifiedqr",
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=self.settings.publish_timeout_seconds,
        )
        self._js = self._nc.jetstream(timeout=self.settings.publish_timeout_seconds)
        await self.ensure_stream()

    async def ensure_stream(self) -> None:
        """Create the stream, or bring its limits to the settings (idempotent across nodes)."""
        from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
        from nats.js.errors import BadRequestError

        config = StreamConfig(
            name=self.settings.stream,
            subjects=[f"{self.settings.subject}.>"],
            retention=RetentionPolicy.LIMITS,
            storage=StorageType.FILE,
            max_age=self.settings.max_age_seconds,
            max_bytes=self.settings.max_bytes,
            discard=DiscardPolicy.NEW,  # full: refuse new scans (503) rather than drop unwritten ones
            duplicate_window=self.settings.duplicate_window_seconds,
        )
        try:
            await self._js.add_stream(config)
        except BadRequestError:
            await self._js.update_stream(config)

    async def close(self) -> None:
        if self._nc is not None:
            await self._nc.drain()
            self._nc = None

    # -- publishing -------------------------------------------------------------------------------
    async def publish(self, venue_id: str, message_id: str, data: bytes) -> bool:
        """Durably in the stream, or StreamUnavailable. True when JetStream saw it as a duplicate."""
        acks = await self.publish_many(venue_id, [(message_id, data)])
        return acks[0]

    async def publish_many(self, venue_id: str, items: Sequence[tuple[str, bytes]]) -> list[bool]:
        """Publish many (a batch upload) concurrently and wait for every acknowledgement."""
        if self._js is None:
            raise StreamUnavailable("not connected to the ingest stream")
        subject = f"{self.settings.subject}.{shard_of(venue_id, self.settings.shards)}"
        timeout = self.settings.publish_timeout_seconds
        try:
            futures = [
                await self._js.publish_async(
                    subject, data, wait_stall=timeout, headers={"Nats-Msg-Id": message_id}
                )
                for message_id, data in items
            ]
            acks = await asyncio.wait_for(asyncio.gather(*futures), timeout)
        except Exception as exc:  # timeouts, no responders, a full stream: the scan is not accepted
            self.publish_failures += 1
            log.warning("ingest stream refused or did not answer: %s", exc)
            raise StreamUnavailable(str(exc) or type(exc).__name__) from exc
        self.published += len(items)
        return [bool(getattr(ack, "duplicate", False)) for ack in acks]

    # -- consuming --------------------------------------------------------------------------------
    async def subscribe(self) -> Any:
        from nats.js.api import AckPolicy, ConsumerConfig

        config = ConsumerConfig(
            durable_name=self.settings.durable,
            ack_policy=AckPolicy.EXPLICIT,
            ack_wait=self.settings.ack_wait_seconds,
            max_ack_pending=self.settings.batch * 20,
        )
        return await self._js.pull_subscribe(
            f"{self.settings.subject}.>",
            durable=self.settings.durable,
            stream=self.settings.stream,
            config=config,
        )

    async def consume(
        self,
        handle: Callable[[list[Delivered]], Awaitable[None]],
        stop: asyncio.Event,
        fetch_wait: float = 1.0,
    ) -> None:
        """Pull batches and hand them to ``handle``, which settles each message, until ``stop``."""
        from nats.errors import TimeoutError as NatsTimeout

        subscription = await self.subscribe()
        while not stop.is_set():
            try:
                messages = await subscription.fetch(self.settings.batch, timeout=fetch_wait)
            except NatsTimeout:
                continue
            except Exception as exc:  # NATS restarting: the client reconnects, we wait and pull again
                log.warning("ingest consumer could not pull: %s", exc)
                await asyncio.sleep(0.5)
                continue
            batch = [Delivered(m.data, int(m.metadata.num_delivered), m) for m in messages]
            await handle(batch)

    async def lag(self) -> dict[str, int]:
        """What the consumers still have to do: pending (not yet delivered) and unacknowledged."""
        if self._js is None:
            return {}
        info = await self._js.consumer_info(self.settings.stream, self.settings.durable)
        return {"pending": int(info.num_pending or 0), "ack_pending": int(info.num_ack_pending or 0)}
