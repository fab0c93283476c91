"""The officials' dashboard: scans per local hour and per province for one day, and open cases.

Counts only, never a person: no audit row (nothing about anyone is read), but still behind a
permission (``any:stats:read``: officials, tracers, administrators), since where people went in a
province is the kind of fact a stranger should not tally. Duplicates (a second scan within the
visit rules' window) are not counted.

The counts come from the rollup (``scan_hours``: per UTC hour, province and direction, kept with
every insert), so a national day costs a few thousand rows, not tens of millions of events; on the
replica when one is fresh. A local day is 24 whole UTC hours only when the offset is whole hours
(Vietnam's is +7): with another offset the day's events are grouped instead, the hour computed in
the database.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Integer, cast, func, literal_column, select
from sqlalchemy.orm import Session

from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.venue_history import parse_day
from unifiedqr.services.visits import DUPLICATE, IN
from unifiedqr.store.tracing_models import TracingCase
from unifiedqr.store.venue_models import ScanEvent, ScanHour, Venue

TOP_PROVINCES = 20  # the chart's rows; the table lists every province with a scan
#: (local hour, direction, scans) rows and (province, direction, scans) rows
Counts = tuple[list[tuple[int, str, int]], list[tuple[str, str, int]]]


@dataclass(frozen=True)
class HourTotal:
    hour: int  # local hour 0-23
    check_ins: int
    check_outs: int


@dataclass(frozen=True)
class ProvinceTotal:
    province: str
    check_ins: int
    check_outs: int


@dataclass(frozen=True)
class Overview:
    date: dt.date  # the local day
    utc_offset_minutes: int
    hours: list[HourTotal]
    provinces: list[ProvinceTotal]  # most check-ins first
    total_check_ins: int
    total_check_outs: int
    open_cases: int | None  # None when the caller may not see tracing cases


def _local_hour(session: Session, offset_minutes: int) -> ColumnElement[int]:
    """The scan's local hour (0-23), computed by the database that holds it."""
    if session.get_bind().dialect.name == "sqlite":  # naive UTC text: strftime shifts and formats it
        shift: ColumnElement[str] = literal_column(f"'{int(offset_minutes):+d} minutes'")
        return cast(func.strftime("%H", ScanEvent.occurred_at, shift), Integer)
    local = func.timezone("UTC", ScanEvent.occurred_at) + func.make_interval(0, 0, 0, 0, 0, offset_minutes)
    return cast(func.extract("hour", local), Integer)


def _rollup(session: Session, start: dt.datetime, end: dt.datetime, offset_minutes: int) -> Counts:
    """From ``scan_hours``, summed in the database twice (per hour, per province): at most 48 and
    126 rows whatever the day's volume. Exact when the offset is whole hours."""
    window = (ScanHour.hour >= start, ScanHour.hour < end)
    hourly = select(ScanHour.hour, ScanHour.direction, func.sum(ScanHour.scans)).where(*window)
    regional = select(ScanHour.province, ScanHour.direction, func.sum(ScanHour.scans)).where(*window)
    shift = dt.timedelta(minutes=offset_minutes)
    hours = session.execute(hourly.group_by(ScanHour.hour, ScanHour.direction)).all()
    provinces = session.execute(regional.group_by(ScanHour.province, ScanHour.direction)).all()
    return (
        sorted(((h + shift).hour, d, int(n)) for h, d, n in hours),
        sorted((p, d, int(n)) for p, d, n in provinces),
    )


def _events(session: Session, start: dt.datetime, end: dt.datetime, offset_minutes: int) -> Counts:
    """From the day's events, the local hour computed by the database (any offset)."""
    hour = _local_hour(session, offset_minutes).label("hour")
    query = (
        select(Venue.province, hour, ScanEvent.direction, func.count())
        .join(Venue, Venue.id == ScanEvent.venue_id)
        .where(
            ScanEvent.occurred_at >= start,
            ScanEvent.occurred_at < end,
            ScanEvent.direction != DUPLICATE,
        )
        .group_by(Venue.province, hour, ScanEvent.direction)
    )
    hours: Counter[tuple[int, str]] = Counter()
    provinces: Counter[tuple[str, str]] = Counter()
    for p, h, d, n in session.execute(query).all():
        hours[(int(h), d)] += int(n)
        provinces[(p, d)] += int(n)
    return sorted((h, d, n) for (h, d), n in hours.items()), sorted(
        (p, d, n) for (p, d), n in provinces.items()
    )


def overview(ctx: Services, principal: Principal, date: str | None = None) -> Overview:
    """Scans of the local day ``date`` (``YYYY-MM-DD``; today by default) per hour and province."""
    principal.require(Permission.STATS_READ)
    day = parse_day(ctx, date)
    rules = ctx.venues.rules
    start = dt.datetime.combine(day, dt.time(), dt.UTC) - rules.offset
    counts = _rollup if rules.utc_offset_minutes % 60 == 0 else _events
    with ctx.db.replica_read() as session:
        per_hour, per_province = counts(
            session, start, start + dt.timedelta(days=1), rules.utc_offset_minutes
        )
    with ctx.db.read() as session:  # cases are small and must be current: the primary
        open_cases = (
            session.scalar(select(func.count()).select_from(TracingCase).where(TracingCase.status == "open"))
            if principal.can(Permission.TRACING_MANAGE)
            else None
        )
    ins, outs = [0] * 24, [0] * 24
    for hour, direction, n in per_hour:
        (ins if direction == IN else outs)[hour % 24] += n
    by_province: dict[str, list[int]] = {}
    for province, direction, n in per_province:
        by_province.setdefault(province, [0, 0])[0 if direction == IN else 1] += n
    provinces = sorted(
        (ProvinceTotal(p, i, o) for p, (i, o) in by_province.items()),
        key=lambda t: (-t.check_ins, -t.check_outs, t.province),
    )
    return Overview(
        day,
        rules.utc_offset_minutes,
        [HourTotal(h, ins[h], outs[h]) for h in range(24)],
        provinces,
        sum(ins),
        sum(outs),
        int(open_cases) if open_cases is not None else None,
    )
