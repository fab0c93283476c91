"""What tracing returns: frozen dataclasses whose field names are the JSON keys (``serialize.jsonable``).

The candidate entry follows the fixed contract (issue 12): ``qid`` (null for a visitor known only by
phone or ID card, who has a ``visitor_id`` and a masked name and phone), ``score``, ``exposures``
(each exactly ``venue_id``, ``case_scan_at``, ``scan_at``, ``minutes_apart``), and the closest
exposure's ``venue_id``, ``case_scan_at``, ``scan_at`` and ``overlap_minutes`` copied to the entry.
``venue_id`` is always the venue's public id, never the internal row id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from unifiedqr.services.tracing_data import CaseRecord, Traced
from unifiedqr.services.tracing_rules import Candidate


@dataclass(frozen=True)
class CaseView:
    case_id: str
    qid: str | None
    status: str
    rule: str
    window_start: dt.datetime
    window_end: dt.datetime
    onset: dt.datetime | None
    isolation: dt.datetime | None
    opened_at: dt.datetime
    opened_by: str
    closed_at: dt.datetime | None
    case_scans: int | None  # the case's scans in the window (None in lists: not computed)
    venues: int | None  # distinct venues of those scans


@dataclass(frozen=True)
class LogEntry:
    at: dt.datetime
    action: str  # opened | confirmed | dismissed | notified | closed | reopened
    subject: str | None  # the candidate's QID or visitor id
    reason: str
    role: str
    actor: str


@dataclass(frozen=True)
class CaseDetail(CaseView):
    log: tuple[LogEntry, ...] = ()


@dataclass(frozen=True)
class ExposureView:
    venue_id: str
    case_scan_at: dt.datetime
    scan_at: dt.datetime
    minutes_apart: float


@dataclass(frozen=True)
class CandidateView:
    rank: int
    qid: str | None
    visitor_id: str
    name_masked: str
    phone_masked: str | None
    verified: bool
    unverified: bool
    score: float
    status: str  # pending | confirmed | dismissed
    reason: str | None
    venue_id: str
    venue_name: str
    case_scan_at: dt.datetime
    scan_at: dt.datetime
    minutes_apart: float
    overlap_minutes: float
    exposures: tuple[ExposureView, ...]


@dataclass(frozen=True)
class CandidateList:
    case_id: str
    rule: str
    window_start: dt.datetime
    window_end: dt.datetime
    status: str
    total: int
    candidates: list[CandidateView]


@dataclass(frozen=True)
class DecisionView:
    case_id: str
    qid: str | None
    visitor_id: str
    status: str
    reason: str
    decided_at: dt.datetime
    decided_by: str


@dataclass(frozen=True)
class WindowView:
    rule: str
    window_start: dt.datetime
    window_end: dt.datetime


def case_view(case: CaseRecord, counts: tuple[int, int] | None) -> CaseView:
    return CaseView(
        case.public_id,
        case.qid,
        case.status,
        case.rule.name,
        case.window.start,
        case.window.end,
        case.onset,
        case.isolation,
        case.opened_at,
        case.opened_by,
        case.closed_at,
        counts[0] if counts else None,
        counts[1] if counts else None,
    )


def candidate_view(found: Traced, c: Candidate, rank: int) -> CandidateView:
    who = found.who(c.person)
    status, reason = found.reviews.get(who_key(c), ("pending", None))
    venue = found.venue(c.venue_id)
    return CandidateView(
        rank,
        who.qid,
        who.visitor_id,
        who.name_masked,
        who.phone_masked,
        not c.unverified,
        c.unverified,
        c.score,
        status,
        reason,
        venue.public_id,
        venue.name,
        c.case_scan_at,
        c.scan_at,
        c.minutes_apart,
        c.overlap_minutes,
        tuple(
            ExposureView(found.venue(e.venue_id).public_id, e.case_scan_at, e.scan_at, e.minutes_apart)
            for e in c.exposures
        ),
    )


def who_key(c: Candidate) -> bytes:
    assert isinstance(c.person, bytes)
    return c.person
