"""Check-ins in both directions, one scan at a time: staff at an entrance, a citizen's app, the web page.

*Citizen scans venue*: a platform acting for a person (by QID) or the citizen submits the venue
code. *Venue scans citizen*: staff submit what the scanner read at an entrance: a personal code
(full or masked, signed or not; the verification outcome is recorded, not enforced: the staff see
the colour), a chip ID card QR, or a typed phone number. Each scan is one write transaction: the
idempotency key, the visitor's earlier scans today (for the toggle) and the insert, on hand-written
SQL (:mod:`unifiedqr.store.scan_sql`), committed before the answer. Offline uploads are in
:mod:`unifiedqr.services.scan_batches`.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from sqlalchemy import select

from unifiedqr.errors import NotFound
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import (
    ScanRejected,
    VenueInfo,
    entrance_of,
    resolve_code,
    runtime,
    venue_for,
)
from unifiedqr.services.visitors import Visitor, colour, identify, mask_name, mask_phone, resolve
from unifiedqr.services.visits import IN, OUT, Tracker, VisitRules
from unifiedqr.store.models import Person, PersonPlatform
from unifiedqr.store.scan_sql import ScanSQL

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def scan_row(
    ctx: Services, info: VenueInfo, visitor: Visitor, key: bytes, person_id: int | None, **values: Any
) -> dict[str, Any]:
    # Unit-separated rather than JSON: this runs once per scan and json.dumps cost 13 µs of ~100.
    identity = "\x1f".join((visitor.qid or "", visitor.name, visitor.document or "", visitor.phone or ""))
    values.update(
        venue_id=info.id,
        person_key=key,
        person_id=person_id,
        code_kind=visitor.kind,
        verification=visitor.verification,
        name_masked=mask_name(visitor.name) if visitor.name else "",
        phone_masked=mask_phone(visitor.phone),
        identity_enc=ctx.vault.encrypt("scan_events.identity", identity),
    )
    return values


def check_time(rules: VisitRules, at: object, now: dt.datetime, field: str = "at") -> dt.datetime:
    """A scan time: RFC 3339 (no offset = UTC), not far in the future, not older than retention."""
    return within_retention(rules, parse_at(at, now, field), now, field)


def parse_at(at: object, now: dt.datetime, field: str = "at") -> dt.datetime:
    """RFC 3339 (no offset = UTC); absent means now."""
    if at is None:
        return now
    if not isinstance(at, str) or len(at) > 40:
        raise ScanRejected(field, "malformed", "must be an RFC 3339 time")
    try:
        value = dt.datetime.fromisoformat(at.strip().replace("z", "Z"))
    except ValueError:
        raise ScanRejected(field, "malformed", f"{at!r} is not an RFC 3339 time") from None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def within_retention(rules: VisitRules, value: dt.datetime, now: dt.datetime, field: str) -> dt.datetime:
    if value > now + dt.timedelta(seconds=rules.future_tolerance_seconds):
        raise ScanRejected(field, "future_timestamp", "is in the future (check the device clock)")
    if value < now - dt.timedelta(days=rules.max_age_days):
        raise ScanRejected(field, "too_old", f"is older than the {rules.max_age_days}-day retention")
    return value


def _answer(info: VenueInfo, row: dict[str, Any], status: str) -> dict[str, Any]:
    entrance = info.entrance_names.get(row["entrance_id"], (None, None))
    return {
        "status": status,
        "direction": row["direction"],
        "venue_id": info.public_id,
        "venue_name": info.name,
        "entrance_id": entrance[0],
        "occurred_at": row["occurred_at"].isoformat(),
        "visitor": {"name": row["name_masked"], "phone": row["phone_masked"]},
        "code_kind": row["code_kind"],
        "verification": row["verification"],
        "colour": colour(row["verification"]),
    }


# ---------------------------------------------------------------------------------------------------
# One scan (staff at an entrance, a citizen's app, the web page)
# ---------------------------------------------------------------------------------------------------
def _record_one(
    ctx: Services,
    info: VenueInfo,
    visitor: Visitor,
    *,
    source: str,
    account_id: int | None,
    entrance_id: int,
    explicit: str | None,
    at: dt.datetime,
    idempotency_key: str | None,
) -> dict[str, Any]:
    rules = runtime(ctx).config.rules
    now = ctx.now()
    with ctx.db.write() as session:
        sql = ScanSQL(session.connection())
        ((key, person_id),) = resolve(ctx, sql, [visitor])
        start, end = rules.day_bounds(rules.local_day(at))
        tracker = Tracker(rules, info.stay(rules))
        for earlier_at, earlier_explicit in sql.earlier(info.id, [key], start, end).get(key, []):
            if earlier_at <= at:
                tracker.step(earlier_at, earlier_explicit)
        row = scan_row(
            ctx,
            info,
            visitor,
            key,
            person_id,
            entrance_id=entrance_id,
            batch_id=None,
            account_id=account_id,
            source=source,
            explicit=explicit,
            direction=tracker.step(at, explicit),
            idempotency_key=idempotency_key,
            device_at=at,
            occurred_at=at,
            received_at=now,
        )
        # Insert first, ask later: a retry is the rare case, so it pays the second query, not every scan.
        if not sql.insert([row]) and idempotency_key is not None:
            stored = sql.stored_one(info.id, idempotency_key)
            if stored is not None:
                return _answer(info, stored, "already_recorded")
    return _answer(info, row, "recorded")


def direction_of(value: object, field: str = "direction") -> str | None:
    if value is None or value in (IN, OUT):
        return value
    raise ScanRejected(field, "malformed", "must be in, out or absent (inferred)")


def idempotency_key_of(value: object, field: str = "idempotency_key") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ScanRejected(field, "malformed", "1-64 characters: letters, digits, '.', '_', ':', '-'")
    return value


def staff_scan(ctx: Services, principal: Principal, venue_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Venue scans citizen: ``text`` (or ``phone``), optional ``entrance_id``, ``direction``, ``at``."""
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_SCANS_SUBMIT)
    rt = runtime(ctx)
    now = ctx.now()
    visitor = identify(body.get("text"), body.get("phone"), rt.trust(), now)
    return _record_one(
        ctx,
        info,
        visitor,
        source="staff",
        account_id=principal.account_id,
        entrance_id=entrance_of(info, body.get("entrance_id")),
        explicit=direction_of(body.get("direction")),
        at=check_time(rt.config.rules, body.get("at"), now),
        idempotency_key=idempotency_key_of(body.get("idempotency_key")),
    )


def citizen_checkin(ctx: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Citizen scans venue: a platform for a person it obtained (``qid``), or the citizen themselves."""
    held = principal.require(Permission.PLATFORM_CHECKINS_SUBMIT, Permission.SELF_CHECKINS_SUBMIT)
    now = ctx.now()
    info = resolve_code(ctx, body.get("venue_code"), now)
    qid = body.get("qid")
    with ctx.db.read() as session:
        if held is Permission.PLATFORM_CHECKINS_SUBMIT:
            person = session.scalars(
                select(Person)
                .join(PersonPlatform, PersonPlatform.person_id == Person.id)
                .where(Person.qid == qid, PersonPlatform.account_id == principal.account_id)
            ).first()
        else:
            person = session.get(Person, principal.person_id) if principal.person_id else None
            if person is not None and qid is not None and qid != person.qid:
                person = None
        if person is None:
            raise NotFound("qid", "no such person")
        phone = ctx.vault.decrypt_optional("people.phone", person.phone_enc)
    visitor = Visitor("person", "valid", person.qid, None, phone, person.full_name)
    return _record_one(
        ctx,
        info,
        visitor,
        source="citizen",
        account_id=principal.account_id,
        entrance_id=entrance_of(info, None),
        explicit=direction_of(body.get("direction")),
        at=check_time(runtime(ctx).config.rules, body.get("at"), now),
        idempotency_key=idempotency_key_of(body.get("idempotency_key")),
    )


def web_checkin(ctx: Services, info: VenueInfo, text: str | None, phone: str | None) -> dict[str, Any]:
    """The check-in page's form: a personal code or a phone number, no account (spec §6)."""
    now = ctx.now()
    visitor = identify(text or None, phone or None, runtime(ctx).trust(), now, "code")
    return _record_one(
        ctx,
        info,
        visitor,
        source="web",
        account_id=None,
        entrance_id=entrance_of(info, None),
        explicit=None,
        at=now,
        idempotency_key=None,
    )


# ---------------------------------------------------------------------------------------------------
