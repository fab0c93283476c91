"""Visit semantics, pure: direction inference, duplicate suppression and closing open visits.

Why pure (no database, no clock): the same rules run at ingest (to answer "check-in" or
"check-out" to the scanner) and on reading (to derive visits from stored events, which is what
makes late offline uploads come out right), and both must agree. Events are stored; visits are
always derived, so a rule change applies to history too.

The rules (spec §6; every number configurable: ``UNIFIEDQR_VISIT_*``, read in :mod:`unifiedqr.config`):

- a scan with an explicit direction is that direction; without one, it toggles: ``in`` when the
  person has no open visit at this venue *today*, ``out`` when they have;
- a scan of the same person within ``duplicate_seconds`` of their previous counted scan at the
  venue is a duplicate (one event), unless it explicitly asks for the other direction;
- a visit without a check-out closes at the earliest of: the person's next check-in at another
  venue, the venue type's default stay, the end of the local day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

VENUE_TYPES = ("shop", "restaurant", "office", "school", "market", "hospital", "transport", "other")
IN, OUT, DUPLICATE = "in", "out", "duplicate"
DEFAULT_STAYS = {
    "shop": 30,
    "restaurant": 90,
    "office": 540,
    "school": 480,
    "market": 60,
    "hospital": 240,
    "transport": 120,
    "other": 120,
}


def _stays() -> dict[str, int]:
    return dict(DEFAULT_STAYS)


@dataclass(frozen=True)
class VisitRules:
    """The configurable numbers; one documented default each (docs/venues.md)."""

    duplicate_seconds: int = 60
    utc_offset_minutes: int = 7 * 60  # Vietnam: the "day" is the local day
    stay_minutes: Mapping[str, int] = field(default_factory=_stays)
    close_at_next_check_in: bool = True
    future_tolerance_seconds: int = 300
    skew_tolerance_seconds: int = 120
    max_age_days: int = 30

    @property
    def offset(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.utc_offset_minutes)

    def local_day(self, at: dt.datetime) -> dt.date:
        return (at.astimezone(dt.UTC) + self.offset).date()

    def day_bounds(self, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
        """``[start, end)`` of a local day, in UTC."""
        start = dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) - self.offset
        return start, start + dt.timedelta(days=1)

    def stay(self, venue_kind: str, override_minutes: int | None = None) -> dt.timedelta:
        minutes = override_minutes if override_minutes else self.stay_minutes.get(venue_kind, 120)
        return dt.timedelta(minutes=minutes)


class Scan(NamedTuple):
    """One stored or incoming event of one person at one venue (``ref`` is the caller's handle)."""

    at: dt.datetime
    explicit: str | None = None
    entrance_id: int | None = None
    ref: Any = None


class Tracker:
    """The toggle/duplicate state machine of one person at one venue, fed in time order.

    ``stay``: the venue's default stay; an open visit older than that counts as closed (the rules
    closed it), so the next scan without a direction is a new check-in, not a check-out hours later.
    """

    __slots__ = ("_day", "_last_at", "_last_direction", "_open", "_opened_at", "rules", "stay")

    def __init__(self, rules: VisitRules, stay: dt.timedelta | None = None) -> None:
        self.rules = rules
        self.stay = stay
        self._day: dt.date | None = None
        self._open = False
        self._opened_at: dt.datetime | None = None
        self._last_at: dt.datetime | None = None
        self._last_direction: str | None = None

    def step(self, at: dt.datetime, explicit: str | None) -> str:
        day = self.rules.local_day(at)
        if day != self._day:
            self._day, self._open, self._last_at, self._last_direction = day, False, None, None
        if (
            self._last_at is not None
            and abs((at - self._last_at).total_seconds()) < self.rules.duplicate_seconds
            and (explicit is None or explicit == self._last_direction)
        ):
            return DUPLICATE
        if (
            self._open
            and self.stay is not None
            and self._opened_at is not None
            and at - self._opened_at >= self.stay
        ):
            self._open = False
        direction = explicit or (OUT if self._open else IN)
        self._open = direction == IN
        if self._open:
            self._opened_at = at
        self._last_at, self._last_direction = at, direction
        return direction


def directions(scans: Sequence[Scan], rules: VisitRules, stay: dt.timedelta | None = None) -> list[str]:
    """The direction of every scan of one person at one venue (``scans`` in time order)."""
    tracker = Tracker(rules, stay)
    return [tracker.step(scan.at, scan.explicit) for scan in scans]


@dataclass
class Visit:
    """A derived visit; ``closed_by`` says how it ended (None while it is still open)."""

    checked_in: Scan | None
    checked_out: Scan | None = None
    closed_at: dt.datetime | None = None
    closed_by: str | None = None

    @property
    def started_at(self) -> dt.datetime | None:
        return self.checked_in.at if self.checked_in else None

    @property
    def opened_at(self) -> dt.datetime:
        """The check-in time of a visit that has one (every visit still open has)."""
        assert self.checked_in is not None
        return self.checked_in.at


def derive_visits(
    scans: Sequence[Scan],
    rules: VisitRules,
    stay: dt.timedelta,
    now: dt.datetime,
    elsewhere: Sequence[dt.datetime] = (),
) -> list[Visit]:
    """Visits of one person at one venue from their scans (time order).

    ``elsewhere``: the times of the person's check-ins at *other* venues (sorted), used to close a
    visit that has no check-out. A visit whose every closing time lies after ``now`` stays open.
    """
    visits: list[Visit] = []
    current: Visit | None = None
    for scan, direction in zip(scans, directions(scans, rules, stay), strict=True):
        if direction == DUPLICATE:
            continue
        if current is not None and rules.local_day(scan.at) != rules.local_day(current.opened_at):
            _close_open(current, rules, stay, now, elsewhere)
            current = None
        if direction == IN:
            if current is not None:  # closed by the rules before this check-in, or by it (re-entry)
                _close_open(current, rules, stay, now, elsewhere, (scan.at, "reentry"))
            current = Visit(scan)
            visits.append(current)
        elif current is not None:
            current.checked_out, current.closed_at, current.closed_by = scan, scan.at, "check_out"
            current = None
        else:
            visits.append(Visit(None, scan, scan.at, "check_out"))
    if current is not None:
        _close_open(current, rules, stay, now, elsewhere)
    return visits


def _close_open(
    visit: Visit,
    rules: VisitRules,
    stay: dt.timedelta,
    now: dt.datetime,
    elsewhere: Sequence[dt.datetime],
    superseded: tuple[dt.datetime, str] | None = None,
) -> None:
    start = visit.opened_at
    candidates = [(start + stay, "default_stay"), (rules.day_bounds(rules.local_day(start))[1], "end_of_day")]
    if superseded is not None:
        candidates.append(superseded)
    if rules.close_at_next_check_in:
        later = [t for t in elsewhere if t > start]
        if later:
            candidates.append((min(later), "next_check_in_elsewhere"))
    at, reason = min(candidates, key=lambda c: c[0])
    if at <= now:
        visit.closed_at, visit.closed_by = at, reason
