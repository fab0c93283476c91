"""Second ring (and further), served from the store: the contacts of the contacts a tracer confirmed.

The pure expansion is :func:`unifiedqr.services.tracing_rings.expand_rings`; this module gives it
its three callbacks over :mod:`unifiedqr.store.tracing_rows` (one batched query each per hop) and
bounds it: at most ``UNIFIEDQR_TRACING_MAX_RING_DEPTH`` hops and ``_MAX_RING_PEOPLE`` people in all.
Each source counts from their earliest exposure to the case's isolation (or the window's end).
Nobody listed before (the case, ring 1, earlier rings) is listed again.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from unifiedqr.errors import InvalidInput
from unifiedqr.services.audit import AuditAction
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.tracing import traced
from unifiedqr.services.tracing_data import Traced, Who, as_int, audit_reads, labels
from unifiedqr.services.tracing_rings import expand_rings, source_window
from unifiedqr.services.tracing_rules import Candidate, CaseScan, ContactScan, VenueFacts, VenueRange
from unifiedqr.services.tracing_views import CandidateView, candidate_view
from unifiedqr.store.tracing_rows import ContactRow, TracingRows


@dataclass(frozen=True)
class RingCandidateView(CandidateView):
    via: tuple[str, ...] = ()  # the confirmed contacts (QID or visitor id) this person met


@dataclass(frozen=True)
class RingView:
    ring: int  # 2: contacts of confirmed contacts; 3: theirs; ...
    sources: tuple[str, ...]  # QIDs or visitor ids of the people it expands from
    truncated: bool  # the people bound cut this ring (its best kept); no further hop was made
    candidates: list[RingCandidateView]


@dataclass(frozen=True)
class RingsView:
    case_id: str
    rule: str
    depth: int
    max_people: int
    rings: list[RingView]


class _Store:
    """The expansion's callbacks on one read session; remembers venues and rows to label the result."""

    def __init__(self, session: Session, found: Traced, end: dt.datetime) -> None:
        self.rows = TracingRows(session)
        self.found = found
        self.end = end
        self.facts: dict[Hashable, VenueFacts] = {
            i: VenueFacts(v.kind, v.default_stay_minutes) for i, v in found.venues.items()
        }
        self.venues = dict(found.venues)
        self.seen: list[ContactRow] = []
        self.start = end

    def scans_of(self, people: Sequence[Hashable]) -> Mapping[Hashable, Sequence[CaseScan]]:
        keys = [p for p in people if isinstance(p, bytes)]
        out: dict[Hashable, list[CaseScan]] = defaultdict(list)
        for key, venue, at, explicit in self.rows.scans_of(keys, self.start, self.end):
            out[key].append(CaseScan(venue, at, explicit))
        new = {s.venue_id for scans in out.values() for s in scans} - set(self.venues)
        for i, v in self.rows.venues(as_int(x) for x in new).items():
            self.venues[i] = v
            self.facts[i] = VenueFacts(v.kind, v.default_stay_minutes)
        return out

    def scans_near(self, ranges: Sequence[VenueRange]) -> Iterable[ContactScan]:
        found = self.rows.contacts([(as_int(r.venue_id), r.start, r.end) for r in ranges])
        self.seen += found
        return [
            ContactScan(
                c.person_key,
                c.venue_id,
                c.occurred_at,
                c.person_id is not None and c.source != "web",
                c.explicit,
            )
            for c in found
        ]

    def checkins_of(
        self, people: Sequence[Hashable]
    ) -> Mapping[Hashable, Iterable[tuple[Hashable, dt.datetime]]]:
        keys = [p for p in people if isinstance(p, bytes)]
        out: dict[Hashable, list[tuple[Hashable, dt.datetime]]] = defaultdict(list)
        start = self.start - dt.timedelta(days=1)
        for key, venue, at in self.rows.checkins_of(keys, start, self.end + dt.timedelta(days=1)):
            out[key].append((venue, at))
        return out


def _bounds(ctx: Services, depth: int, max_people: int) -> None:
    limits = ctx.settings.tracing
    if not 1 <= depth <= limits.max_ring_depth:
        raise InvalidInput("depth", f"must be 1 to {limits.max_ring_depth}")
    if not 1 <= max_people <= limits.max_ring_people:
        raise InvalidInput("max_people", f"must be 1 to {limits.max_ring_people}")


def rings(
    ctx: Services, principal: Principal, case_id: str, depth: int = 1, max_people: int = 200
) -> RingsView:
    """Rings 2.. from the confirmed contacts of ring 1, by the case's rule; every person shown is audited."""
    _bounds(ctx, depth, max_people)
    found = traced(ctx, principal, case_id)
    case = found.case
    confirmed = [c for c in found.candidates if found.reviews.get(_key(c), ("",))[0] == "confirmed"]
    end = case.isolation or case.window.end
    if not confirmed:
        return RingsView(case.public_id, case.rule.name, depth, max_people, [])
    with ctx.db.read() as session:
        store = _Store(session, found, end)
        store.start = min(source_window(c, end).start for c in confirmed)
        result = expand_rings(
            confirmed,
            scans_of=store.scans_of,
            scans_near=store.scans_near,
            checkins_of=store.checkins_of,
            end=end,
            rule=case.rule,
            exclude=set(case.keys) | {c.person for c in found.candidates},
            venues=store.facts,
            now=ctx.now(),
            max_depth=depth,
            max_people=max_people,
        )
        listed = {c.person for r in result for c in r.candidates}
        people = {**found.people, **labels(store.rows, [c for c in store.seen if c.person_key in listed])}
    view = Traced(case, found.case_scans, (), people, store.venues, {})
    out = [
        RingView(
            r.depth,
            tuple(_id(people, s) for s in r.sources),
            r.truncated,
            [_ring_view(view, c, rank) for rank, c in enumerate(r.candidates, 1)],
        )
        for r in result
    ]
    shown = [people[_key(c)] for r in result for c in r.candidates]
    audit_reads(
        ctx,
        principal,
        AuditAction.TRACING_CANDIDATES_READ,
        case,
        [*map(found.who, (c.person for c in confirmed)), *shown],
    )
    return RingsView(case.public_id, case.rule.name, depth, max_people, out)


def _ring_view(found: Traced, c: Candidate, rank: int) -> RingCandidateView:
    via = sorted({_id(found.people, e.via) for e in c.exposures if e.via is not None})
    return RingCandidateView(**vars(candidate_view(found, c, rank)), via=tuple(via))


def _key(c: Candidate) -> bytes:
    assert isinstance(c.person, bytes)
    return c.person


def _id(people: Mapping[bytes, Who], source: Hashable) -> str:
    assert isinstance(source, bytes)
    who = people[source]
    return who.qid or who.visitor_id
