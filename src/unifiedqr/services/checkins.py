"""Check-ins in both directions, one scan at a time: staff at an entrance, a citizen's app, the web page.

*Citizen scans venue*: a platform acting for a person (by QID) or the citizen submits the venue
code. *Venue scans citizen*: staff submit what the scanner read at an entrance: a personal code
(full or masked, signed or not; the verification outcome is recorded, not enforced: the staff see
the colour), a chip ID card QR, or a typed phone number. Each scan is one write transaction: the
idempotency key, the visitor's earlier scans today (for the toggle) and the insert, on the raw-SQL
layer (:mod:`unifiedqr.store.scan_rows`), committed before the answer. Offline uploads are in
:mod:`unifiedqr.services.scan_batches`; both share :mod:`unifiedqr.services.scan_rules`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from unifiedqr.errors import NotFound
from unifiedqr.services import dcc_scans
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.health import door_colour
from unifiedqr.services.scan_rules import (
    ScanResult,
    check_time,
    device_id_of,
    direction_of,
    idempotency_key_of,
    result_of,
    scan_row,
)
from unifiedqr.services.venue_runtime import VenueInfo, entrance_of, resolve_code, venue_for
from unifiedqr.services.visitors import Visitor, identify, resolve
from unifiedqr.services.visits import Tracker
from unifiedqr.store.models import Person, PersonPlatform
from unifiedqr.store.scan_rows import ScanRows, StoredScan, key_scope


@dataclass(frozen=True)
class StaffScan:
    """Venue scans citizen: what the scanner read (``text``) or a typed ``phone``."""

    venue_id: str
    text: str | None = None
    phone: str | None = None
    entrance_id: str | None = None
    direction: str | None = None
    at: str | None = None
    idempotency_key: str | None = None
    device_id: str | None = None


@dataclass(frozen=True)
class CitizenCheckin:
    """Citizen scans venue: the scanned ``venue_code``; a platform names the person by ``qid``."""

    venue_code: str
    qid: str | None = None
    direction: str | None = None
    at: str | None = None
    idempotency_key: str | None = None
    device_id: str | None = None


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
    device_id: str | None = None,
    health: bool = True,
) -> ScanResult:
    rules = ctx.venues.rules
    now = ctx.now()
    scope = key_scope(device_id, account_id) if idempotency_key is not None else None
    with ctx.db.write() as session:
        sql = ScanRows(session)
        ((key, person_id),) = resolve(ctx.vault, sql, [visitor])
        start, end = rules.day_bounds(rules.local_day(at))
        tracker = Tracker(rules, info.stay(rules))
        for earlier_at, earlier_explicit in sql.earlier(info.id, [key], start, end).get(key, []):
            if earlier_at <= at:
                tracker.step(earlier_at, earlier_explicit)
        row = scan_row(
            ctx.vault,
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
            key_scope=scope,
            device_at=at,
            occurred_at=at,
            received_at=now,
        )
        # Insert first, ask later: a retry is the rare case, so it pays the second query, not every scan.
        stored = None
        if sql.insert([row]) and scope is not None and idempotency_key is not None:
            stored = sql.stored_one(info.id, scope, idempotency_key)
    scan = stored or StoredScan.of(row)
    colour = door_colour(ctx, scan.verification, person_id).colour if health else "neutral"
    return result_of(info, "already_recorded" if stored else "recorded", scan, colour)


def staff_scan(ctx: Services, principal: Principal, scan: StaffScan) -> ScanResult:
    """Venue scans citizen at one of its entrances (staff or owner)."""
    info = venue_for(ctx, principal, scan.venue_id, Permission.VENUE_SCANS_SUBMIT)
    now = ctx.now()
    passports: list[str] = []

    def passport(text: str) -> Visitor:  # an EU vaccine passport: its colour is its own facts'
        visitor, colour = dcc_scans.door_visitor(ctx, text)
        passports.append(colour.colour)
        return visitor

    visitor = identify(scan.text, scan.phone, ctx.venues.trust(), now, passport=passport)
    result = _record_one(
        ctx,
        info,
        visitor,
        source="staff",
        account_id=principal.account_id,
        entrance_id=entrance_of(info, scan.entrance_id),
        explicit=direction_of(scan.direction),
        at=check_time(ctx.venues.rules, scan.at, now),
        idempotency_key=idempotency_key_of(scan.idempotency_key),
        device_id=device_id_of(scan.device_id),
    )
    return dataclasses.replace(result, colour=passports[0]) if passports else result


def citizen_checkin(ctx: Services, principal: Principal, checkin: CitizenCheckin) -> ScanResult:
    """Citizen scans venue: a platform for a person it obtained (``qid``), or the citizen themselves."""
    held = principal.require(Permission.PLATFORM_CHECKINS_SUBMIT, Permission.SELF_CHECKINS_SUBMIT)
    now = ctx.now()
    info = resolve_code(ctx, checkin.venue_code, now)
    qid = checkin.qid
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
        explicit=direction_of(checkin.direction),
        at=check_time(ctx.venues.rules, checkin.at, now),
        idempotency_key=idempotency_key_of(checkin.idempotency_key),
        device_id=device_id_of(checkin.device_id),
    )


def web_checkin(ctx: Services, info: VenueInfo, text: str | None, phone: str | None) -> ScanResult:
    """The check-in page's form: a personal code or a phone number, no account (spec §6)."""
    now = ctx.now()
    visitor = identify(text or None, phone or None, ctx.venues.trust(), now, "code")
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
        health=False,  # the public page shows no one's health colour (anyone may type a code there)
    )
