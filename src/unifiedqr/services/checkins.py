"""Check-ins in both directions, one scan at a time: staff at an entrance, a citizen's app, the web page.

*Citizen scans venue*: a platform acting for a person (by QID) or the citizen submits the venue
code. *Venue scans citizen*: staff submit what the scanner read at an entrance: a personal code
(full or masked, signed or not; the verification outcome is recorded, not enforced: the staff see
the colour), a chip ID card QR, or a typed phone number. Each scan is one write transaction: the
visitor's last counted scan today (the toggle's whole look-back, one index probe however many
scans the visitor has: it used to replay the day, 1 -> 11 ms over 4,000 scans) and the insert, on
the raw-SQL layer (:mod:`unifiedqr.store.scan_rows`), committed before the answer. Offline
uploads are in :mod:`unifiedqr.services.scan_batches`; both share
:mod:`unifiedqr.services.scan_rules`.

*The anonymous check-in page* (:func:`web_checkin`, issue 10 #6) records a **claim**, not a
sighting: nobody checked the code against the person holding it, so the scan is stored with
``source = "web"``, ``verification = "unverified"`` and no ``person_id``, keyed by the QID of the
code or the phone as typed (tracing finds it, marked unverified), and it toggles only against
other unverified scans. It is rate-limited per client address, and its answer is the same
whoever it names.
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
from unifiedqr.services.visitors import Visitor, claimed_key, identify, resolve
from unifiedqr.services.visits import Tracker
from unifiedqr.store.models import Person, PersonPlatform
from unifiedqr.store.scan_rows import ScanRows, StoredScan, key_scope

#: What a check-in page scan is: a claim nobody verified against the person (tracing reads it so).
UNVERIFIED = "unverified"


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
    web = source == "web"
    scope = key_scope(device_id, account_id) if idempotency_key is not None else None
    with ctx.db.write() as session:
        sql = ScanRows(session)
        if web:  # a claim: keyed by what was typed, never resolved to (or toggled with) a person
            key, person_id = claimed_key(ctx.vault, visitor), None
        else:
            ((key, person_id),) = resolve(ctx.vault, sql, [visitor])
        tracker = Tracker(rules, info.stay(rules))
        last = sql.last_counted(info.id, key, rules.day_bounds(rules.local_day(at))[0], at, web=web)
        if last is not None:  # the visit rules' state is the last counted scan's, nothing older
            tracker.step(last[0], last[1])
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


def web_checkin(
    ctx: Services, info: VenueInfo, text: str | None, phone: str | None, address: str = "local"
) -> ScanResult:
    """The check-in page's form: a personal code or a phone number, no account (spec §6).

    Throttled per client ``address`` (``UNIFIEDQR_LIMIT_CHECKIN_PAGE``); recorded unverified (see
    the module docstring). The caller must not show the result's direction or visitor.
    """
    ctx.limits.enforce(
        "checkin_page",
        address,
        ctx.settings.limits.checkin_page,
        field="code",
        reason="too many check-ins from this address; try again later",
    )
    now = ctx.now()
    visitor = identify(text or None, phone or None, ctx.venues.trust(), now, "code")
    visitor = visitor._replace(verification=UNVERIFIED)
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
