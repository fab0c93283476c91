"""Contact-tracing rules, pure: from a case's scans to ranked contact candidates (issue 12, spec §8).

No database, no clock: scans, the window and "now" are parameters, so the same functions run in
the service (fed by index range queries), in the scenario tests and in the benchmark. The SQL layer
fetches exactly the rows each function needs; every function says which query shape that is.

Two rules, chosen by configuration (:class:`TracingRule`):

- ``national`` (method ``scans``), the fixed contract: a person is a candidate when at least one of
  their scans at a venue lies within ±60 minutes, inclusive, of one of the case's scans at the same
  venue, where the case's scan lies inside the window (both ends inclusive). Every stored scan
  counts whatever its direction, duplicate status or signature outcome.
- ``overlap`` (method ``visits``): visits derived from the scans with :mod:`visits` (a visit with
  no check-out closed by the venue type's default stay, the next check-in elsewhere or the end of
  the day); the case's visit, clipped to the window and widened by ``widen_minutes`` on each side,
  must share at least ``min_overlap_minutes`` with the contact's visit.

Representation (``docs/tracing.md``): membership is decided on exact ``datetime`` differences
(microsecond integers), never on a rounded number. ``minutes_apart`` is then that difference in
minutes as an unrounded float (``timedelta / timedelta``, correctly rounded): exactly 60 min is
``60.0`` and in, 60 min + 1 s is ``60.0166…`` and out, and even 60 min + 1 µs compares above 60.0
as a float, so a consumer that re-checks ``minutes_apart <= 60`` agrees with the rule. For the
national rule ``overlap_minutes`` is computed as ``60 - minutes_apart`` (the contract's expression,
in floats). Rounding is for display only, at the edges.

Scoring: each *occasion* (one case scan, or one case visit, at one venue) scores
``weight(venue kind) × (1 + min(overlap, saturation) / saturation)``, its best exposure counting;
a candidate's score is their best occasion plus ``repeat_weight`` × the sum of their other
occasions, rounded to 6 decimals. Ranked by score (highest first), then smallest
``minutes_apart``, verified before unverified, earliest ``scan_at``, then ``repr`` of the person.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any, Literal, NamedTuple

from unifiedqr.errors import InvalidInput
from unifiedqr.services.visits import IN, Scan, Visit, VisitRules, derive_visits, directions

MINUTE = dt.timedelta(minutes=1)
_FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)
#: Any hashable identity: a person id, a 16-byte visitor key, a QID...
PersonRef = Hashable
#: A venue's identity as the caller knows it (internal integer id or public id).
VenueRef = Hashable

# --------------------------------------------------------------------------------------------------
# Inputs and outputs
# --------------------------------------------------------------------------------------------------


class CaseScan(NamedTuple):
    """One scan of the case (``explicit``: the direction the scanner asked for; overlap rule only)."""

    venue_id: VenueRef
    at: dt.datetime
    explicit: str | None = None


class ContactScan(NamedTuple):
    """One scan of someone else near the case's scans.

    ``verified``: the scan names a registered person; False for a visitor known only by phone or
    ID card from the public check-in page (the candidate is then marked ``unverified``).
    """

    person: PersonRef
    venue_id: VenueRef
    at: dt.datetime
    verified: bool = True
    explicit: str | None = None


class VenueFacts(NamedTuple):
    """What ranking and the visit rules need of a venue (unknown venues count as ``other``)."""

    kind: str = "other"
    default_stay_minutes: int | None = None


_UNKNOWN_VENUE = VenueFacts()


class Window(NamedTuple):
    """The infectious window, both ends inclusive, timezone-aware."""

    start: dt.datetime
    end: dt.datetime

    def contains(self, at: dt.datetime) -> bool:
        return self.start <= at <= self.end


class Exposure(NamedTuple):
    """One co-presence: the case's scan (or visit start) and the contact's scan (or visit start).

    ``via``: which source person it comes from in a ring expansion (None for the case itself).
    """

    venue_id: VenueRef
    case_scan_at: dt.datetime
    scan_at: dt.datetime
    minutes_apart: float
    overlap_minutes: float
    via: PersonRef = None


class VenueRange(NamedTuple):
    """One index range to fetch: ``venue_id = :v AND occurred_at BETWEEN :start AND :end``."""

    venue_id: VenueRef
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class Candidate:
    """One person, once, with every exposure (chronological) and the closest copied out."""

    person: PersonRef
    score: float
    exposures: tuple[Exposure, ...]
    unverified: bool
    closest: Exposure

    @property
    def venue_id(self) -> VenueRef:
        return self.closest.venue_id

    @property
    def case_scan_at(self) -> dt.datetime:
        return self.closest.case_scan_at

    @property
    def scan_at(self) -> dt.datetime:
        return self.closest.scan_at

    @property
    def minutes_apart(self) -> float:
        return self.closest.minutes_apart

    @property
    def overlap_minutes(self) -> float:
        return self.closest.overlap_minutes


# --------------------------------------------------------------------------------------------------
# Rules as configuration
# --------------------------------------------------------------------------------------------------

#: Ranking weights per venue type: closed rooms where people stay long (a hospital ward, an office,
#: a class) weigh more than a shop someone walks through. Unknown types weigh 1.
DEFAULT_VENUE_WEIGHTS: Mapping[str, float] = {
    "hospital": 3.0,
    "office": 2.0,
    "school": 2.0,
    "restaurant": 1.5,
    "transport": 1.5,
    "market": 1.2,
    "shop": 1.0,
    "other": 1.0,
}


def _weights() -> dict[str, float]:
    return dict(DEFAULT_VENUE_WEIGHTS)


@dataclass(frozen=True)
class TracingRule:
    """A named rule: the method, its thresholds, the default window and the ranking weights."""

    name: str
    method: Literal["scans", "visits"]
    distance_minutes: int = 60  # scans: |contact scan - case scan| <= this, inclusive
    widen_minutes: int = 15  # visits: the case's visit widened by this on each side
    min_overlap_minutes: int = 10  # visits: minimum shared time, inclusive
    days_before_onset: int = 2  # default window: this many days before onset, to isolation
    saturation_minutes: int = 60  # overlap beyond this adds nothing to the score
    repeat_weight: float = 0.25  # share of each further occasion added to the best one
    venue_weights: Mapping[str, float] = field(default_factory=_weights)
    visit_rules: VisitRules = field(default_factory=VisitRules)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InvalidInput("name", "a rule needs a name")
        if self.method not in ("scans", "visits"):
            raise InvalidInput("method", f"must be scans or visits, not {self.method!r}")
        for name in ("distance_minutes", "widen_minutes", "min_overlap_minutes", "days_before_onset"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 10_000:
                raise InvalidInput(name, f"must be a whole number 0..10000, not {value!r}")
        if not isinstance(self.saturation_minutes, int) or not 1 <= self.saturation_minutes <= 10_000:
            raise InvalidInput("saturation_minutes", "must be a whole number 1..10000")
        if not isinstance(self.repeat_weight, int | float) or not 0 <= self.repeat_weight <= 1:
            raise InvalidInput("repeat_weight", "must be between 0 and 1")
        for kind, weight in self.venue_weights.items():
            if not isinstance(weight, int | float) or not 0 <= weight <= 100:
                raise InvalidInput("venue_weights", f"{kind}: must be a number 0..100")

    def weight(self, kind: str) -> float:
        return float(self.venue_weights.get(kind, 1.0))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base: TracingRule | None = None) -> TracingRule:
        """A rule from configuration data (JSON, TOML): ``base``'s values where a key is absent.

        ``venue_weights`` given partly are merged over the base's; unknown keys are refused.
        """
        known = {f.name for f in fields(cls)} - {"visit_rules"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InvalidInput(unknown[0], f"unknown rule setting (known: {', '.join(sorted(known))})")
        values: dict[str, Any] = {}
        if base is not None:
            values = {f.name: getattr(base, f.name) for f in fields(cls)}
        values.update({k: v for k, v in data.items() if k != "venue_weights"})
        weights = dict(values.get("venue_weights") or DEFAULT_VENUE_WEIGHTS)
        extra = data.get("venue_weights", {})
        if not isinstance(extra, Mapping):
            raise InvalidInput("venue_weights", "must map venue types to numbers")
        weights.update(extra)
        values["venue_weights"] = weights
        if "name" not in values or "method" not in values:
            raise InvalidInput("name" if "name" not in values else "method", "is required")
        return cls(**values)


NATIONAL = TracingRule(name="national", method="scans", distance_minutes=60, saturation_minutes=60)
OVERLAP = TracingRule(name="overlap", method="visits", widen_minutes=15, min_overlap_minutes=10)
RULES: Mapping[str, TracingRule] = {NATIONAL.name: NATIONAL, OVERLAP.name: OVERLAP}


def rule_named(name: str, rules: Mapping[str, TracingRule] = RULES) -> TracingRule:
    try:
        return rules[name]
    except KeyError:
        raise InvalidInput("rule", f"must be one of {', '.join(sorted(rules))}, not {name!r}") from None


def _aware(at: dt.datetime, field_name: str) -> dt.datetime:
    if not isinstance(at, dt.datetime) or at.tzinfo is None or at.utcoffset() is None:
        raise InvalidInput(field_name, "must be a timezone-aware date and time")
    return at


def make_window(start: dt.datetime, end: dt.datetime) -> Window:
    """A checked window: both ends timezone-aware and ``start <= end``."""
    window = Window(_aware(start, "window_start"), _aware(end, "window_end"))
    if window.start > window.end:
        raise InvalidInput("window_end", "must not be before window_start")
    return window


def default_window(
    onset: dt.datetime | dt.date, isolation: dt.datetime, rule: TracingRule = NATIONAL
) -> Window:
    """``days_before_onset`` before symptom onset (or the positive sample) to isolation.

    An onset given as a date (symptoms are reported by day) starts at the beginning of that local
    day (UTC+7 by default), so the window covers the whole of the earliest day.
    """
    if isinstance(onset, dt.datetime):
        start = _aware(onset, "onset") - dt.timedelta(days=rule.days_before_onset)
    else:
        start = rule.visit_rules.day_bounds(onset - dt.timedelta(days=rule.days_before_onset))[0]
    return make_window(start, isolation)


# --------------------------------------------------------------------------------------------------
# Query shapes
# --------------------------------------------------------------------------------------------------


def merge_ranges(ranges: Iterable[VenueRange]) -> list[VenueRange]:
    """Overlapping or touching ranges of one venue merged; sorted by start, then venue."""
    per_venue: dict[VenueRef, list[VenueRange]] = defaultdict(list)
    for r in ranges:
        per_venue[r.venue_id].append(r)
    out: list[VenueRange] = []
    for items in per_venue.values():
        items.sort(key=lambda r: r.start)
        current = items[0]
        for r in items[1:]:
            if r.start <= current.end:
                current = current._replace(end=max(current.end, r.end))
            else:
                out.append(current)
                current = r
        out.append(current)
    out.sort(key=lambda r: (r.start, repr(r.venue_id)))
    return out


def contact_ranges(
    case_scans: Iterable[CaseScan],
    window: Window,
    rule: TracingRule = NATIONAL,
    venues: Mapping[VenueRef, VenueFacts] | None = None,
    now: dt.datetime | None = None,
) -> list[VenueRange]:
    """The index ranges (``venue_id, occurred_at``) holding every scan :func:`trace` can match.

    ``scans``: each in-window case scan ± ``distance_minutes``, merged per venue. ``visits``: the
    whole local day(s) touched by each case visit widened by ``widen_minutes``, because a visit is
    derived from all the person's scans of that day at the venue. Query per range::

        SELECT person, venue_id, occurred_at, verified, explicit FROM scan_events
        WHERE venue_id = :venue_id AND occurred_at BETWEEN :start AND :end
    """
    scans = list(case_scans)
    if rule.method == "scans":
        span = dt.timedelta(minutes=rule.distance_minutes)
        return merge_ranges(
            VenueRange(s.venue_id, s.at - span, s.at + span) for s in scans if window.contains(s.at)
        )
    vr = rule.visit_rules
    out = []
    for venue, start, end, _first in case_intervals(scans, window, rule, venues or {}, now):
        first_day, last_day = vr.local_day(start), vr.local_day(end)
        out.append(VenueRange(venue, vr.day_bounds(first_day)[0], vr.day_bounds(last_day)[1]))
    return merge_ranges(out)


# --------------------------------------------------------------------------------------------------
# Tracing
# --------------------------------------------------------------------------------------------------

#: One source of exposure: who (None for the case), their scans, and the window in which they count.
Source = tuple[PersonRef, Sequence[CaseScan], Window]


def trace(
    case_scans: Iterable[CaseScan],
    contacts: Iterable[ContactScan],
    window: Window,
    rule: TracingRule = NATIONAL,
    *,
    case: Collection[PersonRef] = (),
    venues: Mapping[VenueRef, VenueFacts] | None = None,
    elsewhere: Mapping[PersonRef, Iterable[tuple[VenueRef, dt.datetime]]] | None = None,
    now: dt.datetime | None = None,
) -> list[Candidate]:
    """Ranked candidates: one per person, never anyone in ``case`` (the case's own identities).

    ``contacts``: the rows of the ranges :func:`contact_ranges` returns (more rows are harmless:
    what no rule matches is ignored). ``elsewhere`` (``visits`` only): each contact's check-ins at
    other venues those days, ``(venue_id, at)``, to close visits without a check-out as the venue
    history does (``person_key = ANY(:keys) AND direction = 'in' AND occurred_at`` in the days).
    ``now``: visits whose closing time lies after it end at ``now``; None: every visit is closed
    by the rules. ``venues``: kind and default stay per venue, for ranking and the visit rules.
    """
    return trace_sources(
        [(None, list(case_scans), window)], contacts, rule, set(case), venues, elsewhere, now
    )


def trace_sources(
    sources: Sequence[Source],
    contacts: Iterable[ContactScan],
    rule: TracingRule,
    exclude: Collection[PersonRef],
    venues: Mapping[VenueRef, VenueFacts] | None,
    elsewhere: Mapping[PersonRef, Iterable[tuple[VenueRef, dt.datetime]]] | None,
    now: dt.datetime | None,
) -> list[Candidate]:
    """:func:`trace` from several sources at once (the ring expansion), each with its own window.

    Every exposure names its source in ``via``; a person exposed to several sources is still one
    candidate. ``exclude``: people who are never candidates (the sources themselves, earlier rings).
    """
    facts = venues or {}
    if rule.method == "scans":
        found, verified = _scan_exposures(sources, contacts, rule, exclude)
    else:
        found, verified = _visit_exposures(sources, contacts, rule, exclude, facts, elsewhere or {}, now)
    candidates = [
        _candidate(person, exposures, not verified[person], rule, facts)
        for person, exposures in found.items()
    ]
    candidates.sort(key=_rank_key)
    return candidates


def _scan_exposures(
    sources: Sequence[Source],
    contacts: Iterable[ContactScan],
    rule: TracingRule,
    exclude: Collection[PersonRef],
) -> tuple[dict[PersonRef, set[Exposure]], dict[PersonRef, bool]]:
    span = dt.timedelta(minutes=rule.distance_minutes)
    per_venue: dict[VenueRef, list[tuple[dt.datetime, int]]] = defaultdict(list)
    for index, (_via, scans, window) in enumerate(sources):
        for s in scans:
            if window.contains(s.at):
                per_venue[s.venue_id].append((s.at, index))
    times: dict[VenueRef, list[dt.datetime]] = {}
    for venue, items in per_venue.items():
        items.sort()
        times[venue] = [at for at, _ in items]
    found: dict[PersonRef, set[Exposure]] = defaultdict(set)
    verified: dict[PersonRef, bool] = defaultdict(bool)
    for c in contacts:
        near = times.get(c.venue_id)
        if near is None or c.person in exclude:
            continue
        lo = bisect.bisect_left(near, c.at - span)  # near[lo:hi] are the case scans with |Δ| <= span
        hi = bisect.bisect_right(near, c.at + span)
        if lo == hi:
            continue
        items = per_venue[c.venue_id]
        for at, index in items[lo:hi]:
            minutes = abs(c.at - at) / MINUTE
            via = sources[index][0]
            found[c.person].add(Exposure(c.venue_id, at, c.at, minutes, rule.distance_minutes - minutes, via))
        verified[c.person] = verified[c.person] or c.verified
    return found, verified


def _interval(
    visit: Visit, stay: dt.timedelta, now: dt.datetime
) -> tuple[dt.datetime, dt.datetime, dt.datetime]:
    """``(start, end, first scan)`` of a derived visit.

    A lone check-out (no check-in that day) is taken to have lasted the default stay before it; a
    visit still open at ``now`` ends at ``now``.
    """
    if visit.checked_in is None:
        assert visit.checked_out is not None
        out = visit.checked_out.at
        return out - stay, out, out
    start = visit.checked_in.at
    end = visit.closed_at if visit.closed_at is not None else max(start, now)
    return start, end, start


def _visits_of(
    scans: Sequence[tuple[VenueRef, dt.datetime, str | None]],
    rule: TracingRule,
    venues: Mapping[VenueRef, VenueFacts],
    now: dt.datetime,
    checkins: Iterable[tuple[VenueRef, dt.datetime]] = (),
) -> list[tuple[VenueRef, dt.datetime, dt.datetime, dt.datetime]]:
    """``(venue, start, end, first scan)`` of one person's visits, derived with the visit rules."""
    vr = rule.visit_rules
    per_venue: dict[VenueRef, list[Scan]] = defaultdict(list)
    for venue, at, explicit in scans:
        per_venue[venue].append(Scan(at, explicit))
    stays = {}
    ins: set[tuple[VenueRef, dt.datetime]] = set(checkins)
    for venue, items in per_venue.items():
        items.sort(key=lambda s: s.at)
        facts = venues.get(venue, _UNKNOWN_VENUE)
        stays[venue] = vr.stay(facts.kind, facts.default_stay_minutes)
        ins.update(
            (venue, s.at) for s, d in zip(items, directions(items, vr, stays[venue]), strict=True) if d == IN
        )
    out = []
    for venue, items in per_venue.items():
        elsewhere = sorted(at for v, at in ins if v != venue)
        for visit in derive_visits(items, vr, stays[venue], now, elsewhere):
            out.append((venue, *_interval(visit, stays[venue], now)))
    return out


def case_intervals(
    scans: Sequence[CaseScan],
    window: Window,
    rule: TracingRule,
    venues: Mapping[VenueRef, VenueFacts],
    now: dt.datetime | None,
    widen_them: bool = True,
) -> list[tuple[VenueRef, dt.datetime, dt.datetime, dt.datetime]]:
    """The case's visits clipped to the window, then widened: ``(venue, start, end, first scan)``."""
    widen = dt.timedelta(minutes=rule.widen_minutes if widen_them else 0)
    out = []
    for venue, start, end, first in _visits_of(
        [(s.venue_id, s.at, s.explicit) for s in scans], rule, venues, now or _FAR_FUTURE
    ):
        if end < window.start or start > window.end:
            continue
        out.append((venue, max(start, window.start) - widen, min(end, window.end) + widen, first))
    return out


def _visit_exposures(
    sources: Sequence[Source],
    contacts: Iterable[ContactScan],
    rule: TracingRule,
    exclude: Collection[PersonRef],
    venues: Mapping[VenueRef, VenueFacts],
    elsewhere: Mapping[PersonRef, Iterable[tuple[VenueRef, dt.datetime]]],
    now: dt.datetime | None,
) -> tuple[dict[PersonRef, set[Exposure]], dict[PersonRef, bool]]:
    clock = now or _FAR_FUTURE
    case_visits: dict[VenueRef, list[tuple[dt.datetime, dt.datetime, dt.datetime, PersonRef]]] = defaultdict(
        list
    )
    for via, own, window in sources:
        for venue, start, end, first in case_intervals(own, window, rule, venues, now):
            case_visits[venue].append((start, end, first, via))
    per_person: dict[PersonRef, list[tuple[VenueRef, dt.datetime, str | None]]] = defaultdict(list)
    verified: dict[PersonRef, bool] = defaultdict(bool)
    for c in contacts:
        if c.venue_id in case_visits and c.person not in exclude:
            per_person[c.person].append((c.venue_id, c.at, c.explicit))
            verified[c.person] = verified[c.person] or c.verified
    minimum = dt.timedelta(minutes=rule.min_overlap_minutes)
    found: dict[PersonRef, set[Exposure]] = defaultdict(set)
    for person, scans in per_person.items():
        for venue, start, end, first in _visits_of(scans, rule, venues, clock, elsewhere.get(person, ())):
            for c_start, c_end, c_first, via in case_visits[venue]:
                shared = min(end, c_end) - max(start, c_start)
                if shared >= minimum and shared >= dt.timedelta(0):
                    found[person].add(
                        Exposure(venue, c_first, first, abs(first - c_first) / MINUTE, shared / MINUTE, via)
                    )
    return {p: e for p, e in found.items() if e}, verified


# --------------------------------------------------------------------------------------------------
# Scoring and ranking
# --------------------------------------------------------------------------------------------------


def _closeness(e: Exposure) -> tuple[float, float, dt.datetime, dt.datetime, str]:
    """Sort key, closest first: largest overlap, then fewest minutes apart, then earliest."""
    return (-e.overlap_minutes, e.minutes_apart, e.scan_at, e.case_scan_at, repr(e.venue_id))


def exposure_score(e: Exposure, rule: TracingRule, venues: Mapping[VenueRef, VenueFacts]) -> float:
    kind = venues.get(e.venue_id, _UNKNOWN_VENUE).kind
    overlap = min(max(e.overlap_minutes, 0.0), float(rule.saturation_minutes))
    return rule.weight(kind) * (1.0 + overlap / rule.saturation_minutes)


def score(exposures: Iterable[Exposure], rule: TracingRule, venues: Mapping[VenueRef, VenueFacts]) -> float:
    """Best occasion + ``repeat_weight`` × the others (an occasion: one case scan or visit at one venue)."""
    best: dict[tuple[str, dt.datetime, str], float] = {}
    for e in exposures:
        key = (repr(e.venue_id), e.case_scan_at, repr(e.via))
        best[key] = max(best.get(key, 0.0), exposure_score(e, rule, venues))
    ordered = sorted(best.values(), reverse=True)
    if not ordered:
        return 0.0
    return round(ordered[0] + rule.repeat_weight * sum(ordered[1:]), 6)


def _candidate(
    person: PersonRef,
    exposures: set[Exposure],
    unverified: bool,
    rule: TracingRule,
    venues: Mapping[VenueRef, VenueFacts],
) -> Candidate:
    ordered = tuple(
        sorted(exposures, key=lambda e: (e.case_scan_at, e.scan_at, repr(e.venue_id), repr(e.via)))
    )
    return Candidate(person, score(ordered, rule, venues), ordered, unverified, min(ordered, key=_closeness))


def _rank_key(c: Candidate) -> tuple[float, float, bool, dt.datetime, str]:
    return (-c.score, c.minutes_apart, c.unverified, c.scan_at, repr(c.person))


__all__ = [
    "DEFAULT_VENUE_WEIGHTS",
    "NATIONAL",
    "OVERLAP",
    "RULES",
    "Candidate",
    "CaseScan",
    "ContactScan",
    "Exposure",
    "Source",
    "TracingRule",
    "VenueFacts",
    "VenueRange",
    "Window",
    "case_intervals",
    "contact_ranges",
    "default_window",
    "exposure_score",
    "make_window",
    "merge_ranges",
    "rule_named",
    "score",
    "trace",
    "trace_sources",
]
