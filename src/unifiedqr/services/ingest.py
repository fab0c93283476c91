"""Stream-mode check-ins: acknowledge from what the node knows, store later exactly once.

With ``UNIFIEDQR_INGEST`` set, a check-in or scan is checked here with only what a node has without
the database (the caller's credentials and the venue from the caches, the code's signature against
the cached trust list, the shape of every field), published to the ingest stream
(:mod:`unifiedqr.store.stream`) and answered 202 ``accepted`` with its idempotency key. What needs
the database (who the visitor is, the visit direction, a platform's person in scope) is decided by
the consumers, which run the same services a direct request would (:func:`store_batch`): each
message is a scan from a device's queue, arriving late. A refused message is recorded with its
reason, where the venue's owner and the submitting platform can read it.

Every message carries an idempotency key (the client's, or one the node makes and returns), scoped
by venue and device as the direct path scopes it, so a retry is stored once whatever happened in
between: JetStream drops a retry within its duplicate window, and the database's unique key drops
any later one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from sqlalchemy import select

from unifiedqr.errors import Code, InvalidInput, NotFound, Overloaded, PermissionDenied, ScanRejected
from unifiedqr.services.auth import Permission, Principal, principal_for
from unifiedqr.services.checkins import CitizenCheckin, StaffScan, citizen_checkin
from unifiedqr.services.context import Services
from unifiedqr.services.scan_batches import BatchScan, BatchUpload, ItemResult, ingest_batch, open_upload
from unifiedqr.services.scan_rules import check_time, direction_of, idempotency_key_of
from unifiedqr.services.venue_runtime import entrance_of, resolve_code, venue_for
from unifiedqr.services.visitors import identify, mask_name
from unifiedqr.store.ingest_models import IngestRejection
from unifiedqr.store.scan_rows import key_scope
from unifiedqr.store.stream import Delivered, StreamUnavailable

log = logging.getLogger("unifiedqr.ingest")

KIND_STAFF = "staff_scan"
KIND_CITIZEN = "citizen_checkin"
KIND_BATCH = "batch_item"


@dataclass(frozen=True)
class IngestMessage:
    """One scan as it travels through the stream (JSON; everything the consumer needs)."""

    kind: str
    venue_id: str
    device_id: str
    idempotency_key: str
    account_id: int | None
    account_public_id: str
    role: str
    account_name: str
    person_id: int | None
    received_at: str
    at: str | None = None
    text: str | None = None
    phone: str | None = None
    entrance_id: str | None = None
    direction: str | None = None
    qid: str | None = None
    venue_code: str | None = None
    sent_at: str | None = None

    def encode(self) -> bytes:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes) -> IngestMessage:
        return cls(**json.loads(data))

    @property
    def message_id(self) -> str:
        """JetStream's duplicate-window id: the idempotency key's scope (venue, device, key)."""
        return f"{self.venue_id}/{self.device_id}/{self.idempotency_key}"

    def principal(self) -> Principal:
        """Who sent it, as the consumer acts (the node checked the credentials when it was sent)."""
        if self.account_id is None:
            raise ScanRejected("Authorization", Code.UNAUTHENTICATED, "no account")
        return principal_for(
            self.account_id, self.account_public_id, self.role, self.account_name, self.person_id
        )


@dataclass(frozen=True)
class Accepted:
    """The 202 answer: only what the node knows without the database."""

    status: str
    idempotency_key: str
    venue_id: str
    occurred_at: dt.datetime
    code_kind: str | None
    verification: str | None
    visitor_name: str | None


def _new_key() -> str:
    return "n-" + secrets.token_urlsafe(16)


def _message(
    principal: Principal, kind: str, venue_id: str, key: str | None, now: dt.datetime, **fields: str | None
) -> IngestMessage:
    return IngestMessage(
        kind=kind,
        venue_id=venue_id,
        device_id=fields.pop("device_id", None) or f"account:{principal.public_id}",
        idempotency_key=key or _new_key(),
        account_id=principal.account_id,
        account_public_id=principal.public_id,
        role=principal.role.value,
        account_name=principal.name,
        person_id=principal.person_id,
        received_at=now.isoformat(),
        **fields,
    )


def prepare_staff_scan(
    ctx: Services, principal: Principal, scan: StaffScan
) -> tuple[IngestMessage, Accepted]:
    """Everything a node can check about a staff scan without the database, and its message."""
    info = venue_for(ctx, principal, scan.venue_id, Permission.VENUE_SCANS_SUBMIT)
    now = ctx.now()
    visitor = identify(scan.text, scan.phone, ctx.venues.trust(), now)
    at = check_time(ctx.venues.rules, scan.at, now)
    entrance_of(info, scan.entrance_id)
    direction_of(scan.direction)
    key = idempotency_key_of(scan.idempotency_key)
    message = _message(
        principal,
        KIND_STAFF,
        info.public_id,
        key,
        now,
        device_id=scan.device_id,
        at=at.isoformat(),
        text=scan.text,
        phone=scan.phone,
        entrance_id=scan.entrance_id,
        direction=scan.direction,
    )
    shown = mask_name(visitor.name) if visitor.name else None
    accepted = Accepted(
        "accepted", message.idempotency_key, info.public_id, at, visitor.kind, visitor.verification, shown
    )
    return message, accepted


def prepare_checkin(
    ctx: Services, principal: Principal, checkin: CitizenCheckin
) -> tuple[IngestMessage, Accepted]:
    """A citizen's check-in: the venue code's signature and the caller; the person is the consumer's."""
    principal.require(Permission.PLATFORM_CHECKINS_SUBMIT, Permission.SELF_CHECKINS_SUBMIT)
    now = ctx.now()
    info = resolve_code(ctx, checkin.venue_code, now)
    at = check_time(ctx.venues.rules, checkin.at, now)
    direction_of(checkin.direction)
    key = idempotency_key_of(checkin.idempotency_key)
    message = _message(
        principal,
        KIND_CITIZEN,
        info.public_id,
        key,
        now,
        device_id=checkin.device_id,
        at=at.isoformat(),
        qid=checkin.qid,
        venue_code=checkin.venue_code,
        direction=checkin.direction,
    )
    return message, Accepted("accepted", message.idempotency_key, info.public_id, at, "person", None, None)


@dataclass(frozen=True)
class BatchAccepted:
    """The 202 answer to an upload: each item accepted into the stream, or refused at once."""

    status: str
    venue_id: str
    device_id: str
    received_at: dt.datetime
    accepted: int
    rejected: int
    results: list[ItemResult]


def prepare_batch(
    ctx: Services, principal: Principal, upload: BatchUpload
) -> tuple[list[IngestMessage], BatchAccepted]:
    """An upload's items checked as the direct path checks them without the database; the messages
    of the ones that pass (their signatures are verified by the consumer, as for a retried upload)."""
    opened = open_upload(ctx, principal, upload)
    now = opened.now
    messages = []
    results = list(opened.results)
    for index in opened.passed:
        item = upload.scans[index]
        assert isinstance(item, BatchScan)
        messages.append(
            _message(
                principal,
                KIND_BATCH,
                opened.info.public_id,
                item.idempotency_key,
                now,
                device_id=upload.device_id,
                at=item.at,
                text=item.text,
                phone=item.phone,
                entrance_id=item.entrance_id or upload.entrance_id,
                direction=item.direction,
                sent_at=upload.sent_at,
            )
        )
        results[index] = ItemResult(index, item.idempotency_key, "accepted")
    done = [r for r in results if r is not None]
    rejected = sum(1 for r in done if r.status == "rejected")
    answer = BatchAccepted(
        "accepted", opened.info.public_id, upload.device_id, now, len(messages), rejected, done
    )
    return messages, answer


# ---------------------------------------------------------------------------------------------------
# The consumer: messages to rows, through the same services a direct request uses
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Drained:
    """What one pulled batch of messages came to."""

    stored: int
    already: int
    rejected: int


def _scope(message: IngestMessage) -> str:
    return (
        key_scope(message.device_id, message.account_id)
        if message.kind == KIND_BATCH
        else key_scope(
            None if message.device_id.startswith("account:") else message.device_id, message.account_id
        )
    )


def store_messages(ctx: Services, payloads: Sequence[bytes]) -> Drained:
    """Write pulled messages: scans grouped into batch ingests, check-ins one by one; refusals kept.

    Raises on database errors (the caller retries the messages later); never for a message the
    database refused, which is recorded in ``ingest_rejections`` and counted.
    """
    groups: dict[tuple[str, str, str, str | None, str], list[IngestMessage]] = defaultdict(list)
    checkins: list[IngestMessage] = []
    refused: list[tuple[IngestMessage, InvalidInput | NotFound | PermissionDenied]] = []
    for payload in payloads:
        try:
            message = IngestMessage.decode(payload)
        except (ValueError, TypeError) as exc:  # not ours: nothing to store, nothing to retry
            log.error("unreadable ingest message dropped: %s", exc)
            continue
        if message.kind == KIND_CITIZEN:
            checkins.append(message)
            continue
        sent_at = message.sent_at if message.kind == KIND_BATCH else None
        key = (message.venue_id, _scope(message), message.account_public_id, sent_at, message.kind)
        groups[key].append(message)
    stored = already = 0
    for (_, scope, _, sent_at, _), messages in groups.items():
        s, a, r = _store_scans(ctx, messages, scope, sent_at)
        stored, already, refused = stored + s, already + a, refused + r
    for message in checkins:
        s, a, r = _store_checkin(ctx, message)
        stored, already, refused = stored + s, already + a, refused + r
    _record_refusals(ctx, refused)
    return Drained(stored, already, len(refused))


Refusal = tuple[IngestMessage, InvalidInput | NotFound | PermissionDenied]


def _store_scans(
    ctx: Services, messages: list[IngestMessage], scope: str, sent_at: str | None
) -> tuple[int, int, list[Refusal]]:
    first = messages[0]
    items = [
        BatchScan(m.idempotency_key, m.at or m.received_at, m.text, m.phone, m.direction, m.entrance_id)
        for m in messages
    ]
    received = max(dt.datetime.fromisoformat(m.received_at) for m in messages)
    device = first.device_id if first.kind == KIND_BATCH else f"stream:{first.account_public_id}"[:64]
    upload = BatchUpload(first.venue_id, device[:64], items, None, sent_at, received, scope)
    try:
        result = ingest_batch(ctx, first.principal(), upload)
    except (InvalidInput, NotFound, PermissionDenied) as exc:  # the whole group (e.g. staff removed)
        return 0, 0, [(m, exc) for m in messages]
    refusals: list[Refusal] = []
    for item in result.results:
        if item.status == "rejected":
            code = item.code or Code.INVALID
            refusals.append(
                (messages[item.index], InvalidInput(item.field or "scan", item.reason or "", code=code))
            )
    return result.recorded, result.already_recorded, refusals


def _store_checkin(ctx: Services, message: IngestMessage) -> tuple[int, int, list[Refusal]]:
    device = None if message.device_id.startswith("account:") else message.device_id
    checkin = CitizenCheckin(
        message.venue_code or "", message.qid, message.direction, message.at, message.idempotency_key, device
    )
    received = dt.datetime.fromisoformat(message.received_at)
    try:
        answer = citizen_checkin(ctx, message.principal(), checkin, received_at=received)
    except (InvalidInput, NotFound, PermissionDenied) as exc:
        return 0, 0, [(message, exc)]
    return (0, 1, []) if answer.status == "already_recorded" else (1, 0, [])


def _record_refusals(ctx: Services, refused: list[Refusal]) -> None:
    if not refused:
        return
    with ctx.db.write() as session:
        for message, exc in refused:
            info = ctx.venues.venue(message.venue_id)
            session.add(
                IngestRejection(
                    venue_id=info.id if info is not None else None,
                    account_id=message.account_id,
                    kind=message.kind,
                    key_scope=_scope(message),
                    idempotency_key=message.idempotency_key,
                    field=exc.field[:100],
                    code=str(exc.code)[:32],
                    reason=exc.reason[:300],
                    received_at=dt.datetime.fromisoformat(message.received_at),
                )
            )


# ---------------------------------------------------------------------------------------------------
# The node's two halves: publishing an accepted scan, and running the consumers
# ---------------------------------------------------------------------------------------------------
async def publish(ctx: Services, messages: Sequence[IngestMessage]) -> None:
    """Durably into the stream (all of them), or Overloaded: 503 with Retry-After, nothing accepted."""
    stream = ctx.stream
    assert stream is not None, "publish is stream mode's"
    if not messages:
        return
    try:
        await stream.publish_many(messages[0].venue_id, [(m.message_id, m.encode()) for m in messages])
    except StreamUnavailable as exc:
        raise Overloaded("ingest", f"the ingest stream does not answer ({exc}); try again", 2) from None


async def run_consumer(ctx: Services, stop: asyncio.Event) -> None:
    """Pull batches until ``stop``; acknowledge each message only after its batch committed."""
    stream = ctx.stream
    assert stream is not None

    async def handle(batch: list[Delivered]) -> None:
        started = time.monotonic()
        try:
            drained = await asyncio.to_thread(store_messages, ctx, [d.data for d in batch])
        except Exception as exc:  # the database is down or refused: retry later, lose nothing
            stream.stats["retried"] += len(batch)
            log.warning("ingest batch of %d not stored (%s): retried later", len(batch), exc)
            for delivered in batch:
                await delivered.retry(min(30.0, 0.5 * 2 ** min(delivered.deliveries, 6)))
            return
        for delivered in batch:
            await delivered.ack()
        stats = stream.stats
        stats["consumed"] += len(batch)
        stats["stored"] += drained.stored
        stats["already_stored"] += drained.already
        stats["rejected"] += drained.rejected
        stats["batch_seconds_total"] += time.monotonic() - started

    while not stop.is_set():
        try:
            await stream.wait_connected(stop)
            await stream.consume(handle, stop)
        except Exception as exc:  # NATS went away under the subscription: start over
            log.warning("ingest consumer restarting: %s", exc)
            await asyncio.sleep(1.0)


# ---------------------------------------------------------------------------------------------------
# Who may read what the database refused
# ---------------------------------------------------------------------------------------------------
MAX_LISTED = 500


@dataclass(frozen=True)
class Refused:
    """An accepted scan the database refused later (no personal data: the key and the reason)."""

    kind: str
    idempotency_key: str
    field: str
    code: str
    reason: str
    received_at: dt.datetime
    refused_at: dt.datetime


def _refused(rows: Sequence[IngestRejection]) -> list[Refused]:
    return [
        Refused(r.kind, r.idempotency_key, r.field, r.code, r.reason, r.received_at, r.created_at)
        for r in rows
    ]


def venue_rejections(ctx: Services, principal: Principal, venue_id: str) -> list[Refused]:
    """The venue's refused scans, newest first (its owner, as for the visit history)."""
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_VISITS_READ)
    with ctx.db.read() as session:
        rows = session.scalars(
            select(IngestRejection)
            .where(IngestRejection.venue_id == info.id)
            .order_by(IngestRejection.created_at.desc())
            .limit(MAX_LISTED)
        ).all()
        return _refused(rows)


def my_rejections(ctx: Services, principal: Principal) -> list[Refused]:
    """What the caller submitted and the database refused, newest first (platforms, citizens, staff)."""
    principal.require(
        Permission.PLATFORM_CHECKINS_SUBMIT, Permission.SELF_CHECKINS_SUBMIT, Permission.VENUE_SCANS_SUBMIT
    )
    with ctx.db.read() as session:
        rows = session.scalars(
            select(IngestRejection)
            .where(IngestRejection.account_id == principal.account)
            .order_by(IngestRejection.created_at.desc())
            .limit(MAX_LISTED)
        ).all()
        return _refused(rows)
