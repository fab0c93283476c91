"""Second ring, pure: from confirmed contacts to their contacts, by the same rule, bounded.

A tracer confirms contacts of ring 1; this expands from them (ring 2, then optionally ring 3 …)
with the rule the case used, each source counting from their earliest exposure to the case
(:func:`source_window`) to a given end. Bounded twice: ``max_depth`` hops and ``max_people``
candidates over all rings. I/O is the caller's: :func:`expand_rings` takes three callbacks, each
called once per hop with every source (one batched query per hop, as docs/tracing.md says).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from unifiedqr.errors import InvalidInput
from unifiedqr.services.tracing_rules import (
    NATIONAL,
    Candidate,
    CaseScan,
    ContactScan,
    PersonRef,
    TracingRule,
    VenueFacts,
    VenueRange,
    VenueRef,
    Window,
    contact_ranges,
    merge_ranges,
    trace_sources,
)


class Ring(NamedTuple):
    """One expansion: ring 2 are the contacts of confirmed contacts, ring 3 theirs, and so on."""

    depth: int
    sources: tuple[PersonRef, ...]
    candidates: tuple[Candidate, ...]
    truncated: bool


def source_window(contact: Candidate, end: dt.datetime) -> Window:
    """A contact counts as a source from their earliest exposure (the earlier of the two scans) to ``end``."""
    start = min(min(e.scan_at, e.case_scan_at) for e in contact.exposures)
    return Window(start, max(start, end))


def next_ring(
    sources: Sequence[Candidate],
    source_scans: Mapping[PersonRef, Sequence[CaseScan]],
    contacts: Iterable[ContactScan],
    end: dt.datetime,
    rule: TracingRule = NATIONAL,
    *,
    exclude: Collection[PersonRef] = (),
    venues: Mapping[VenueRef, VenueFacts] | None = None,
    elsewhere: Mapping[PersonRef, Iterable[tuple[VenueRef, dt.datetime]]] | None = None,
    now: dt.datetime | None = None,
) -> list[Candidate]:
    """One hop: the candidates of ``sources`` by the same rule, each exposure naming its source (``via``).

    ``source_scans``: each source's scans (``person_key = ANY(:keys) AND occurred_at BETWEEN``
    the earliest source window start and ``end``); ``contacts``: the rows of
    :func:`ring_ranges`. Sources and ``exclude`` (the case, earlier rings) are never candidates.
    """
    plan = [(s.person, list(source_scans.get(s.person, ())), source_window(s, end)) for s in sources]
    skip = set(exclude) | {s.person for s in sources}
    return trace_sources(plan, contacts, rule, skip, venues, elsewhere, now)


def ring_ranges(
    sources: Sequence[Candidate],
    source_scans: Mapping[PersonRef, Sequence[CaseScan]],
    end: dt.datetime,
    rule: TracingRule = NATIONAL,
    venues: Mapping[VenueRef, VenueFacts] | None = None,
    now: dt.datetime | None = None,
) -> list[VenueRange]:
    """The index ranges of one hop, merged across sources: one batched query per hop."""
    out: list[VenueRange] = []
    for s in sources:
        out += contact_ranges(source_scans.get(s.person, ()), source_window(s, end), rule, venues, now)
    return merge_ranges(out)


def expand_rings(
    confirmed: Sequence[Candidate],
    *,
    scans_of: Callable[[Sequence[PersonRef]], Mapping[PersonRef, Sequence[CaseScan]]],
    scans_near: Callable[[Sequence[VenueRange]], Iterable[ContactScan]],
    end: dt.datetime,
    rule: TracingRule = NATIONAL,
    exclude: Collection[PersonRef] = (),
    venues: Mapping[VenueRef, VenueFacts] | None = None,
    checkins_of: Callable[[Sequence[PersonRef]], Mapping[PersonRef, Iterable[tuple[VenueRef, dt.datetime]]]]
    | None = None,
    now: dt.datetime | None = None,
    max_depth: int = 1,
    max_people: int = 200,
    follow: Callable[[Candidate], bool] | None = None,
) -> list[Ring]:
    """Rings 2, 3, … from ``confirmed`` contacts, at most ``max_depth`` hops and ``max_people`` in all.

    Each hop makes one call of each callback (the SQL layer batches: ``scans_of`` by
    ``person_key``, ``scans_near`` the hop's :func:`ring_ranges`, ``checkins_of`` for the visits
    rule). A hop follows the previous ring's candidates that ``follow`` accepts (default: all of
    them); people already listed (``exclude``: the case and ring 1; earlier rings) are skipped.
    When the bound cuts a ring, its best-ranked candidates are kept and ``truncated`` is set, and no
    further hop is made.
    """
    if max_depth < 0 or max_people < 0:
        raise InvalidInput("max_depth" if max_depth < 0 else "max_people", "must not be negative")
    seen = set(exclude) | {c.person for c in confirmed}
    rings: list[Ring] = []
    sources = list(confirmed)
    left = max_people
    for hop in range(max_depth):
        if not sources or left <= 0:
            break
        people = [s.person for s in sources]
        source_scans = scans_of(people)
        ranges = ring_ranges(sources, source_scans, end, rule, venues, now)
        contacts = list(scans_near(ranges)) if ranges else []
        elsewhere = None
        if rule.method == "visits" and checkins_of is not None:
            elsewhere = checkins_of(sorted({c.person for c in contacts} - seen, key=repr))
        found = next_ring(
            sources,
            source_scans,
            contacts,
            end,
            rule,
            exclude=seen,
            venues=venues,
            elsewhere=elsewhere,
            now=now,
        )
        kept, truncated = found[:left], len(found) > left
        rings.append(Ring(hop + 2, tuple(people), tuple(kept), truncated))
        left -= len(kept)
        seen.update(c.person for c in kept)
        if truncated:
            break
        sources = [c for c in kept if follow is None or follow(c)]
    return rings


__all__ = ["Ring", "expand_rings", "next_ring", "ring_ranges", "source_window"]
