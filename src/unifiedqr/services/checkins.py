"""Check-ins in both directions, and the offline scanners' batch upload: the busiest path of the system.

*Citizen scans venue*: a platform acting for a person (by QID) or the citizen submits the venue
code. *Venue scans citizen*: staff submit what the scanner read at an entrance: a personal code
(full or masked, signed or not; the verification outcome is recorded, not enforced: the staff
see the colour), a chip ID card QR, or a typed phone number.

Who is "the same person": a keyed hash (``person_key``) of the QID when the scan yields one, else
of the card number or phone; a card or phone that belongs to a registered person is keyed by that
person's QID, so a code scanned in and a card scanned out toggle one visit.

Why the batch path looks the way it does (measured in bench/checkins.py): the P-256 verification
is the floor, so everything else is per batch, not per row: one query for the idempotency keys
already stored, one per kind of identity to resolve people, one for the visitors' earlier scans
today, then one multi-row ``INSERT ... ON CONFLICT DO NOTHING`` and a single commit. The unique
``(venue_id, idempotency_key)`` settles races between retries; an acknowledged batch is committed.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from unifiedqr.codes.cccd import looks_like_cccd, parse_cccd
from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import normalise_phone, parse_text
from unifiedqr.codes.signing import verify_signed_bytes
from unifiedqr.codes.trust import TrustList
from unifiedqr.codes.venue import is_venue_url
from unifiedqr.errors import InvalidInput, NotFound, PayloadTooLarge
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.venues import ScanRejected, VenueInfo, entrance_of, resolve_code, runtime, venue_for
from unifiedqr.services.visits import IN, OUT, Tracker, VisitRules
from unifiedqr.store.models import Person, PersonDocument, PersonPlatform
from unifiedqr.store.venue_models import ScanBatch, ScanEvent

EVENTS = ScanEvent.__table__
MAX_TEXT = 4096
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_CHUNK = 900  # bound parameters per IN (...) look-up
_COLOUR = {"valid": "green", "unsigned": "yellow", "none": "yellow"}


class Visitor(NamedTuple):
    """Who a scan names, before the platform's records are consulted."""

    kind: str  # personal, personal_masked, cccd, phone, person
    verification: str  # a verification Status value, or "none" (card, phone)
    qid: str | None
    document: str | None
    phone: str | None
    name: str


def identify(text: object, phone: object, trust: TrustList, now: dt.datetime, field: str = "text") -> Visitor:
    """What the scanner read (or the typed phone), classified and checked; ScanRejected if unusable."""
    if phone is not None:
        try:
            return Visitor("phone", "none", None, None, normalise_phone(str(phone)), "")
        except InvalidInput as exc:
            raise ScanRejected("phone", "malformed", exc.reason) from None
    if not isinstance(text, str) or not text.strip():
        raise ScanRejected(field, "malformed", "give the scanned text or a phone number")
    value = text.strip()
    if len(value) > MAX_TEXT:
        raise ScanRejected(field, "malformed", f"longer than {MAX_TEXT} characters")
    fields = value.split("|")
    if len(fields) == 6 and fields[3] in ("0", "1"):
        try:
            code = parse_text(value, lenient=True)
        except InvalidInput as exc:
            raise ScanRejected(field, "malformed", str(exc)) from None
        signature = code.signature
        status = (
            verify_signed_bytes(
                value[: -len(signature) - 1].encode("utf-8"), signature, trust, now
            ).status.value
            if signature
            else "unsigned"
        )
        masked = code.masked
        return Visitor(
            "personal_masked" if masked else "personal",
            status,
            code.qid,
            None if code.document_masked else code.document_number,
            code.phone,
            code.full_name,
        )
    if looks_like_cccd(fields):
        try:
            card = parse_cccd(value)
        except InvalidInput as exc:
            raise ScanRejected(field, "malformed", str(exc)) from None
        return Visitor("cccd", "none", None, card.id_number, None, card.full_name)
    if is_venue_url(value) or value.startswith("HC1:"):
        kind = "venue" if value.startswith("https://") else "eu_dcc"
        raise ScanRejected(field, "wrong_kind", f"a {kind} code cannot be scanned at an entrance")
    if re.fullmatch(r"[+\d][\d .()-]{7,18}", value):
        return identify(None, value, trust, now, field)
    raise ScanRejected(field, "malformed", "not a personal code, chip ID card QR or phone number")


def mask_name(name: str) -> str:
    """``NGUYEN LE KHA HAN`` -> ``N***** L* K** HAN``: the given name stays, the rest is initials."""
    try:
        folded = fold_name(name, "name")
    except InvalidInput:
        folded = " ".join(name.split()).upper()
    words = folded.split()
    if not words:
        return ""
    return " ".join([w[0] + "*" * (len(w) - 1) for w in words[:-1]] + [words[-1]])[:120]


def mask_phone(phone: str | None) -> str | None:
    return f"{phone[:3]}****{phone[-3:]}" if phone else None


def colour(verification: str) -> str:
    return _COLOUR.get(verification, "red")


# ---------------------------------------------------------------------------------------------------
# Resolution: visitors -> (person_key, person_id), in one query per kind
# ---------------------------------------------------------------------------------------------------
def chunks(items: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def resolve(ctx: Services, conn: Connection, visitors: Sequence[Visitor]) -> list[tuple[bytes, int | None]]:
    vault = ctx.vault
    qids = sorted({v.qid for v in visitors if v.qid})
    by_qid: dict[str, int] = {}
    for part in chunks(qids):
        by_qid.update(
            {r.qid: r.id for r in conn.execute(select(Person.id, Person.qid).where(Person.qid.in_(part)))}
        )
    doc_hash = {
        v.document: vault.lookup_hash("document", "id:" + v.document)
        for v in visitors
        if v.kind == "cccd" and v.document
    }
    by_doc: dict[bytes, tuple[int, str]] = {}
    for part in chunks(list(doc_hash.values())):
        rows = conn.execute(
            select(PersonDocument.doc_hash, Person.id, Person.qid)
            .join(Person, Person.id == PersonDocument.person_id)
            .where(PersonDocument.doc_hash.in_(part))
        )
        by_doc.update({r.doc_hash: (r.id, r.qid) for r in rows})
    phone_hash = {
        v.phone: vault.lookup_hash("phone", v.phone) for v in visitors if v.kind == "phone" and v.phone
    }
    by_phone: dict[bytes, list[tuple[int, str]]] = defaultdict(list)
    for part in chunks(list(phone_hash.values())):
        for r in conn.execute(
            select(Person.phone_hash, Person.id, Person.qid).where(Person.phone_hash.in_(part))
        ):
            by_phone[r.phone_hash].append((r.id, r.qid))
    out = []
    for v in visitors:
        person: tuple[int | None, str] | None = None
        if v.qid:
            person = (by_qid.get(v.qid), v.qid)
        elif v.document and v.document in doc_hash:
            person = by_doc.get(doc_hash[v.document])
        elif v.phone and v.phone in phone_hash and len(by_phone.get(phone_hash[v.phone], ())) == 1:
            person = by_phone[phone_hash[v.phone]][0]
        if person is not None:
            label = "qid:" + person[1]
        else:
            label = "doc:" + v.document if v.document else "phone:" + (v.phone or "")
        out.append((vault.lookup_hash("visitor", label)[:16], person[0] if person else None))
    return out


def _earlier(
    conn: Connection, venue_id: int, keys: Sequence[bytes], start: dt.datetime, end: dt.datetime
) -> dict[bytes, list[tuple[dt.datetime, str | None]]]:
    """The visitors' earlier scans at this venue between ``start`` and ``end`` (for the toggle)."""
    found: dict[bytes, list[tuple[dt.datetime, str | None]]] = defaultdict(list)
    for part in chunks(sorted(set(keys))):
        rows = conn.execute(
            select(EVENTS.c.person_key, EVENTS.c.occurred_at, EVENTS.c.explicit)
            .where(
                EVENTS.c.venue_id == venue_id,
                EVENTS.c.person_key.in_(part),
                EVENTS.c.occurred_at >= start,
                EVENTS.c.occurred_at < end,
            )
            .order_by(EVENTS.c.occurred_at, EVENTS.c.id)
        )
        for r in rows:
            found[r.person_key].append((r.occurred_at, r.explicit))
    return found


def _insert(conn: Connection, rows: list[dict[str, Any]]) -> None:
    if not rows:
        return
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(EVENTS).on_conflict_do_nothing(index_elements=["venue_id", "idempotency_key"])
    conn.execute(statement, rows)


def _row(
    ctx: Services, info: VenueInfo, visitor: Visitor, key: bytes, person_id: int | None, **values: Any
) -> dict[str, Any]:
    identity = json.dumps(
        {"qid": visitor.qid, "name": visitor.name, "document": visitor.document, "phone": visitor.phone},
        ensure_ascii=False,
        separators=(",", ":"),
    )
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
    return _within(rules, parse_at(at, now, field), now, field)


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


def _within(rules: VisitRules, value: dt.datetime, now: dt.datetime, field: str) -> dt.datetime:
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
        conn = session.connection()
        if idempotency_key is not None:
            stored = conn.execute(
                select(EVENTS).where(
                    EVENTS.c.venue_id == info.id, EVENTS.c.idempotency_key == idempotency_key
                )
            ).first()
            if stored is not None:
                return _answer(info, dict(stored._mapping), "already_recorded")
        ((key, person_id),) = resolve(ctx, conn, [visitor])
        start, end = rules.day_bounds(rules.local_day(at))
        tracker = Tracker(rules)
        for earlier_at, earlier_explicit in _earlier(conn, info.id, [key], start, end).get(key, []):
            if earlier_at <= at:
                tracker.step(earlier_at, earlier_explicit)
        row = _row(
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
        _insert(conn, [row])
    return _answer(info, row, "recorded")


def _direction(value: object, field: str = "direction") -> str | None:
    if value is None or value in (IN, OUT):
        return value
    raise ScanRejected(field, "malformed", "must be in, out or absent (inferred)")


def _key(value: object, field: str = "idempotency_key") -> str | None:
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
        explicit=_direction(body.get("direction")),
        at=check_time(rt.config.rules, body.get("at"), now),
        idempotency_key=_key(body.get("idempotency_key")),
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
        explicit=_direction(body.get("direction")),
        at=check_time(runtime(ctx).config.rules, body.get("at"), now),
        idempotency_key=_key(body.get("idempotency_key")),
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
# Offline batch upload
# ---------------------------------------------------------------------------------------------------
class _Item(NamedTuple):
    position: int
    key: str
    visitor: Visitor
    entrance_id: int
    explicit: str | None
    device_at: dt.datetime
    occurred_at: dt.datetime


def ingest_batch(ctx: Services, principal: Principal, body: dict[str, Any]) -> dict[str, Any]:
    """Up to ``batch_cap`` scans from one device; each item lands once, whatever the retries."""
    rt = runtime(ctx)
    rules, cap = rt.config.rules, rt.config.batch_cap
    scans = body.get("scans")
    if not isinstance(scans, list):
        raise InvalidInput("scans", "must be a list of scans")
    if len(scans) > cap:
        raise PayloadTooLarge("scans", f"batch_too_large: at most {cap} scans per request, got {len(scans)}")
    venue_id = body.get("venue_id")
    if not isinstance(venue_id, str):
        raise InvalidInput("venue_id", "is required")
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_SCANS_SUBMIT)
    device = body.get("device_id")
    if not isinstance(device, str) or not 1 <= len(device) <= 64:
        raise InvalidInput("device_id", "must be 1 to 64 characters")
    default_entrance = entrance_of(info, body.get("entrance_id"))
    now = ctx.now()
    skew = 0
    sent_at = None
    if body.get("sent_at") is not None:
        try:
            sent_at = parse_at(body["sent_at"], now, "sent_at")
        except ScanRejected as exc:
            raise InvalidInput("sent_at", exc.reason) from None
        skew = round((sent_at - now).total_seconds())
    correction = dt.timedelta(seconds=skew if abs(skew) > rules.skew_tolerance_seconds else 0)
    trust = rt.trust()

    results: list[dict[str, Any] | None] = [None] * len(scans)
    items: list[_Item] = []
    seen: set[str] = set()
    for index, scan in enumerate(scans):
        try:
            if not isinstance(scan, dict):
                raise ScanRejected(f"scans[{index}]", "malformed", "must be an object")
            key = _key(scan.get("idempotency_key"), f"scans[{index}].idempotency_key")
            if key is None:
                raise ScanRejected(f"scans[{index}].idempotency_key", "malformed", "is required in a batch")
            if key in seen:
                raise ScanRejected(
                    f"scans[{index}].idempotency_key", "duplicate_key", "appears twice in this batch"
                )
            seen.add(key)
            device_at = parse_at(scan.get("at"), now, f"scans[{index}].at")
            occurred = _within(rules, device_at - correction, now, f"scans[{index}].at")
            entrance = scan.get("entrance_id")
            entrance_id = (
                default_entrance
                if entrance is None
                else entrance_of(info, entrance, f"scans[{index}].entrance_id")
            )
            visitor = identify(scan.get("text"), scan.get("phone"), trust, now, f"scans[{index}].text")
            explicit = _direction(scan.get("direction"), f"scans[{index}].direction")
            items.append(_Item(index, key, visitor, entrance_id, explicit, device_at, occurred))
        except (ScanRejected, NotFound) as exc:
            results[index] = {
                "index": index,
                "idempotency_key": scan.get("idempotency_key") if isinstance(scan, dict) else None,
                "status": "rejected",
                "field": exc.field,
                "reason": exc.reason,
            }
    rejected = len(scans) - len(items)

    with ctx.db.read() as session:
        conn = session.connection()
        stored: dict[str, str] = {}
        for part in chunks([i.key for i in items]):
            found = conn.execute(
                select(EVENTS.c.idempotency_key, EVENTS.c.direction).where(
                    EVENTS.c.venue_id == info.id, EVENTS.c.idempotency_key.in_(part)
                )
            )
            stored.update({r.idempotency_key: r.direction for r in found})
        fresh = [i for i in items if i.key not in stored]
        people = resolve(ctx, conn, [i.visitor for i in fresh])
        earlier: dict[bytes, list[tuple[dt.datetime, str | None]]] = {}
        if fresh:
            first = min(i.occurred_at for i in fresh)
            last = max(i.occurred_at for i in fresh)
            start = rules.day_bounds(rules.local_day(first))[0]
            end = rules.day_bounds(rules.local_day(last))[1]
            earlier = _earlier(conn, info.id, [k for k, _ in people], start, end)

    for item in items:
        if item.key in stored:
            results[item.position] = {
                "index": item.position,
                "idempotency_key": item.key,
                "status": "already_recorded",
                "direction": stored[item.key],
            }
    directions = _batch_directions(rules, fresh, people, earlier)
    rows = []
    for item, (person_key, person_id), direction in zip(fresh, people, directions, strict=True):
        rows.append(
            _row(
                ctx,
                info,
                item.visitor,
                person_key,
                person_id,
                entrance_id=item.entrance_id,
                account_id=principal.account_id,
                source="batch",
                explicit=item.explicit,
                direction=direction,
                idempotency_key=item.key,
                device_at=item.device_at,
                occurred_at=item.occurred_at,
                received_at=now,
            )
        )
        results[item.position] = {
            "index": item.position,
            "idempotency_key": item.key,
            "status": "recorded",
            "direction": direction,
            "verification": item.visitor.verification,
        }
    with ctx.db.write() as session:
        batch = ScanBatch(
            venue_id=info.id,
            account_id=principal.account_id,
            device_id=device,
            device_sent_at=sent_at,
            clock_skew_seconds=skew,
            items=len(scans),
            accepted=len(rows),
            rejected=rejected,
            received_at=now,
        )
        session.add(batch)
        session.flush()
        for row in rows:
            row["batch_id"] = batch.id
        _insert(session.connection(), rows)
    return {
        "venue_id": info.public_id,
        "device_id": device,
        "received_at": now.isoformat(),
        "clock_skew_seconds": skew,
        "skew_corrected": bool(correction),
        "recorded": len(rows),
        "already_recorded": len(items) - len(rows),
        "rejected": rejected,
        "results": results,
    }


def _batch_directions(
    rules: VisitRules,
    fresh: Sequence[_Item],
    people: Sequence[tuple[bytes, int | None]],
    earlier: dict[bytes, list[tuple[dt.datetime, str | None]]],
) -> list[str]:
    """Directions of new scans, merged in time order with the visitors' stored scans today."""
    per_person: dict[bytes, list[tuple[dt.datetime, int, int, str | None]]] = defaultdict(list)
    for position, (item, (key, _)) in enumerate(zip(fresh, people, strict=True)):
        per_person[key].append((item.occurred_at, 1, position, item.explicit))
    out = [IN] * len(fresh)
    for key, new in per_person.items():
        timeline = [(at, 0, -1, explicit) for at, explicit in earlier.get(key, [])] + new
        timeline.sort(key=lambda t: (t[0], t[1], t[2]))
        tracker = Tracker(rules)
        for at, is_new, position, explicit in timeline:
            direction = tracker.step(at, explicit)
            if is_new:
                out[position] = direction
    return out
