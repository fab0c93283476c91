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

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass

from unifiedqr.errors import Code, ScanRejected
from unifiedqr.services.auth import Permission, Principal, principal_for
from unifiedqr.services.checkins import CitizenCheckin, StaffScan
from unifiedqr.services.context import Services
from unifiedqr.services.scan_rules import check_time, direction_of, idempotency_key_of
from unifiedqr.services.venue_runtime import entrance_of, resolve_code, venue_for
from unifiedqr.services.visitors import identify, mask_name

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
        at=at.isoformat(),
        qid=checkin.qid,
        venue_code=checkin.venue_code,
        direction=checkin.direction,
    )
    return message, Accepted("accepted", message.idempotency_key, info.public_id, at, "person", None, None)
