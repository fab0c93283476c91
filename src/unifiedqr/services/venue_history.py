"""The owner's history view: visits per day and entrance with masked names and phones, counts per hour.

Visits are derived here from the stored events with :mod:`unifiedqr.services.visits` (never
stored), so a late offline upload or a changed rule shows up correctly. Two queries per day view:
the venue's events of the local day (index ``venue_id, occurred_at``), then the same visitors'
check-ins elsewhere that day (index ``person_key, occurred_at``) to close visits without a
check-out. The owner sees only the masked name and phone written at ingest (spec §6 and §9).

The day view is audited with one row per registered person it shows (purpose ``venue_history``, in
the holder's access log), in the transaction that read the events: a write transaction, so on
SQLite the day's two indexed queries run under the writer lock (measured in bench/lookups.py; the
hourly counts show no one and are not audited, so they stay a plain read).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from unifiedqr.errors import NotFound
from unifiedqr.services.audit import AuditAction, record_many
from unifiedqr.services.audit import row as audit_row
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.times import parse_date
from unifiedqr.services.venue_runtime import VenueInfo, venue_for
from unifiedqr.services.visits import IN, Scan, Visit, derive_visits, directions
from unifiedqr.store.venue_models import ScanEvent

EVENTS = ScanEvent.__table__
VENUE_HISTORY = "venue_history"  # the purpose of an owner's day view, in the holder's access log
_CHUNK = 900


@dataclass(frozen=True)
class MaskedVisitor:
    name: str
    phone: str | None


@dataclass(frozen=True)
class VisitView:
    visitor: MaskedVisitor
    code_kind: str
    verification: str
    checked_in_at: dt.datetime | None
    entrance_in: str | None
    checked_out_at: dt.datetime | None
    entrance_out: str | None
    closed_by: str | None


@dataclass(frozen=True)
class DayVisits:
    venue_id: str
    date: dt.date
    entrance_id: str | None
    visits: list[VisitView]


@dataclass(frozen=True)
class HourCount:
    hour: int
    check_ins: int
    check_outs: int


@dataclass(frozen=True)
class HourlyCounts:
    venue_id: str
    date: dt.date
    utc_offset_minutes: int
    hours: list[HourCount]
    total_check_ins: int
    total_check_outs: int


def parse_day(ctx: Services, text: str | None) -> dt.date:
    """The local day asked for (``YYYY-MM-DD``), today by default."""
    if text is None:
        return ctx.venues.rules.local_day(ctx.now())
    return parse_date(text, "date")


PersonScans = tuple[dict[bytes, list[Scan]], dict[bytes, list[dt.datetime]]]


def _day_scans(ctx: Services, info: VenueInfo, day: dt.date) -> PersonScans:
    """A read nobody is audited for (counts): the replica when one is fresh enough."""
    with ctx.db.replica_read() as session:
        return _read_day(session, ctx, info, day)


def _read_day(session: Session, ctx: Services, info: VenueInfo, day: dt.date) -> PersonScans:
    rules = ctx.venues.rules
    start, end = rules.day_bounds(day)
    per_person: dict[bytes, list[Scan]] = defaultdict(list)
    elsewhere: dict[bytes, list[dt.datetime]] = defaultdict(list)
    conn = session.connection()
    rows = conn.execute(
        select(
            EVENTS.c.person_key,
            EVENTS.c.occurred_at,
            EVENTS.c.explicit,
            EVENTS.c.entrance_id,
            EVENTS.c.name_masked,
            EVENTS.c.phone_masked,
            EVENTS.c.code_kind,
            EVENTS.c.verification,
            EVENTS.c.person_id,
        )
        .where(EVENTS.c.venue_id == info.id, EVENTS.c.occurred_at >= start, EVENTS.c.occurred_at < end)
        .order_by(EVENTS.c.occurred_at, EVENTS.c.id)
    ).all()
    for r in rows:
        per_person[r.person_key].append(Scan(r.occurred_at, r.explicit, r.entrance_id, r))
    keys = sorted(per_person)
    for part in (keys[i : i + _CHUNK] for i in range(0, len(keys), _CHUNK)):
        others = conn.execute(
            select(EVENTS.c.person_key, EVENTS.c.occurred_at).where(
                EVENTS.c.person_key.in_(part),
                EVENTS.c.venue_id != info.id,
                EVENTS.c.direction == IN,
                EVENTS.c.occurred_at >= start,
                EVENTS.c.occurred_at < end,
            )
        )
        for o in others:
            elsewhere[o.person_key].append(o.occurred_at)
    for times in elsewhere.values():
        times.sort()
    return per_person, elsewhere


def _visits(ctx: Services, info: VenueInfo, scans_of: PersonScans) -> list[Visit]:
    rules = ctx.venues.rules
    per_person, elsewhere = scans_of
    now = ctx.now()
    visits: list[Visit] = []
    for key, scans in per_person.items():
        visits.extend(derive_visits(scans, rules, info.stay(rules), now, elsewhere.get(key, ())))
    return visits


def _audit(session: Session, principal: Principal, info: VenueInfo, day: dt.date, people: set[int]) -> None:
    """One row per registered person shown, and one for the view itself (who looked, at which day)."""
    detail = f"venue {info.public_id} {info.name} day {day.isoformat()} (masked)"[:200]
    rows = [
        audit_row(principal, AuditAction.VENUE_VISITS_READ, pid, detail, VENUE_HISTORY)
        for pid in sorted(people)
    ]
    record_many(session, [*rows, audit_row(principal, AuditAction.VENUE_VISITS_READ, None, detail)])


def visits(
    ctx: Services, principal: Principal, venue_id: str, day: dt.date, entrance_id: str | None = None
) -> DayVisits:
    """The day's visits at the venue (optionally of one entrance), masked, in check-in order."""
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_VISITS_READ)
    entrance_row = None
    if entrance_id is not None:
        found = info.entrances.get(entrance_id)
        if found is None:
            raise NotFound("entrance_id", "no such entrance at this venue")
        entrance_row = found[0]
    with ctx.db.write() as session:  # the read and its audit rows commit together
        shown = [
            visit
            for visit in _visits(ctx, info, _read_day(session, ctx, info, day))
            if entrance_row is None or entrance_row in _entrances_of(visit)
        ]
        people = {pid for visit in shown if (pid := _first(visit).ref.person_id) is not None}
        _audit(session, principal, info, day, people)
    out = [_view(info, visit) for visit in shown]
    out.sort(key=lambda v: v.checked_in_at or v.checked_out_at or dt.datetime.max.replace(tzinfo=dt.UTC))
    return DayVisits(info.public_id, day, entrance_id, out)


def _first(visit: Visit) -> Scan:
    first = visit.checked_in or visit.checked_out
    assert first is not None
    return first


def _entrances_of(visit: Visit) -> set[int | None]:
    return {s.entrance_id for s in (visit.checked_in, visit.checked_out) if s is not None}


def _view(info: VenueInfo, visit: Visit) -> VisitView:
    names = info.entrance_names

    def entrance(scan: Scan | None) -> str | None:
        found = names.get(scan.entrance_id) if scan is not None and scan.entrance_id is not None else None
        return found[0] if found else None

    row = _first(visit).ref
    return VisitView(
        MaskedVisitor(row.name_masked, row.phone_masked),
        row.code_kind,
        row.verification,
        visit.checked_in.at if visit.checked_in else None,
        entrance(visit.checked_in),
        visit.closed_at,
        entrance(visit.checked_out),
        visit.closed_by,
    )


def hourly_counts(ctx: Services, principal: Principal, venue_id: str, day: dt.date) -> HourlyCounts:
    """Check-ins and check-outs per local hour (duplicates not counted), and visitors present."""
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_VISITS_READ)
    rules = ctx.venues.rules
    per_person, _ = _day_scans(ctx, info, day)
    ins, outs = [0] * 24, [0] * 24
    for scans in per_person.values():
        for scan, direction in zip(scans, directions(scans, rules, info.stay(rules)), strict=True):
            hour = (scan.at + rules.offset).hour
            if direction == IN:
                ins[hour] += 1
            elif direction != "duplicate":
                outs[hour] += 1
    return HourlyCounts(
        info.public_id,
        day,
        rules.utc_offset_minutes,
        [HourCount(h, ins[h], outs[h]) for h in range(24)],
        sum(ins),
        sum(outs),
    )
