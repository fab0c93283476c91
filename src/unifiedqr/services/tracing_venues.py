"""The venue view, pure: which venues the case touched and when, in whole local hours.

For notifying venues and local authorities ("a confirmed case was here on 05/10 from 10:00 to
12:00"): the hours are local (UTC+7, the visit rules' offset), start inclusive, end exclusive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from unifiedqr.services.tracing_rules import (
    NATIONAL,
    CaseScan,
    TracingRule,
    VenueFacts,
    VenueRange,
    VenueRef,
    Window,
    case_intervals,
    merge_ranges,
)


class VenueHours(NamedTuple):
    """Whole local hours at one venue touched by the case: ``[start, end)`` in UTC+7 (the rules' offset).

    ``case_scans``: how many of the case's in-window scans at the venue fall in the span (both ends
    counted: a check-out at 11:00 sharp belongs to the visit that ends then).
    """

    venue_id: VenueRef
    start: dt.datetime
    end: dt.datetime
    case_scans: int


def venue_hours(
    case_scans: Iterable[CaseScan],
    window: Window,
    rule: TracingRule = NATIONAL,
    venues: Mapping[VenueRef, VenueFacts] | None = None,
    now: dt.datetime | None = None,
) -> list[VenueHours]:
    """Which venues the case touched and when, as whole local hours, for notifying venues.

    ``scans``: the local hour of each in-window case scan; ``visits``: every local hour a derived
    visit (clipped to the window, not widened) covers. Adjacent hours merge into one span. Input:
    the case's own scans (``person_key = :case AND occurred_at BETWEEN`` the window's days).
    """
    scans = list(case_scans)
    vr = rule.visit_rules
    zone = dt.timezone(vr.offset)
    hour = dt.timedelta(hours=1)

    def floor(at: dt.datetime) -> dt.datetime:
        return at.astimezone(zone).replace(minute=0, second=0, microsecond=0)

    spans: list[VenueRange] = []
    if rule.method == "scans":
        spans = [
            VenueRange(s.venue_id, floor(s.at), floor(s.at) + hour) for s in scans if window.contains(s.at)
        ]
    else:
        for venue, start, end, _first in case_intervals(scans, window, rule, venues or {}, now, False):
            last = floor(end)
            if last == end and end > start:  # a visit ending at 11:00 sharp does not touch 11:00-12:00
                last -= hour
            spans.append(VenueRange(venue, floor(start), last + hour))
    out = []
    for r in merge_ranges(spans):
        count = sum(
            1
            for s in scans
            if s.venue_id == r.venue_id and r.start <= s.at <= r.end and window.contains(s.at)
        )
        out.append(VenueHours(r.venue_id, r.start.astimezone(zone), r.end.astimezone(zone), count))
    return out


__all__ = ["VenueHours", "venue_hours"]
