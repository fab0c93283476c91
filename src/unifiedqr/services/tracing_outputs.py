"""Tracing outputs beyond the JSON list: CSV export, pictures, the venue-hours view and further rings.

Each starts from the same trace (:func:`unifiedqr.services.tracing.traced`) and audits, with purpose
``tracing``, every person it shows (the pictures: every person drawn). The CSV is for spreadsheets,
so every cell that a spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``, a tab or a
line break first, or their full-width forms) is prefixed with ``'`` (OWASP's advice): a venue name
typed by its owner or a tracer's reason can never run as a formula on an official's machine.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Hashable
from dataclasses import dataclass

from sqlalchemy import select

from unifiedqr.errors import InvalidInput, NotFound
from unifiedqr.imaging.scene import Scene
from unifiedqr.imaging.tracing_pictures import contact_graph, timeline_tracks, to_png, to_svg, venue_timeline
from unifiedqr.services.audit import AuditAction
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.tracing import first, traced
from unifiedqr.services.tracing_data import Traced, Who
from unifiedqr.services.tracing_rules import VenueFacts
from unifiedqr.services.tracing_venues import venue_hours
from unifiedqr.services.tracing_views import CandidateView, candidate_view
from unifiedqr.services.visitors import mask_name
from unifiedqr.store.models import Person

#: First characters a spreadsheet reads as the start of a formula (and their full-width forms).
FORMULA_STARTS = frozenset("=+-@\t\r\n\uff1d\uff0b\uff0d\uff20")
CSV_COLUMNS = (
    "rank",
    "qid",
    "visitor_id",
    "name_masked",
    "phone_masked",
    "verified",
    "score",
    "status",
    "reason",
    "venue_id",
    "venue_name",
    "case_scan_at",
    "scan_at",
    "minutes_apart",
    "overlap_minutes",
    "exposures",
)


def safe_cell(value: object) -> str:
    """A CSV cell no spreadsheet runs as a formula: ``'`` before a formula start (leading blanks too)."""
    text = "" if value is None else str(value)
    stripped = text.lstrip(" \u00a0\u3000")
    if text and (text[0] in FORMULA_STARTS or (stripped and stripped[0] in FORMULA_STARTS)):
        return "'" + text
    return text


def _local(at: dt.datetime, offset: dt.timedelta) -> str:
    return at.astimezone(dt.timezone(offset)).isoformat()


def _csv_row(v: CandidateView, offset: dt.timedelta) -> list[str]:
    values: list[object] = [
        v.rank,
        v.qid,
        v.visitor_id,
        v.name_masked,
        v.phone_masked,
        "yes" if v.verified else "no",
        f"{v.score:g}",
        v.status,
        v.reason,
        v.venue_id,
        v.venue_name,
        _local(v.case_scan_at, offset),
        _local(v.scan_at, offset),
        f"{v.minutes_apart:g}",
        f"{v.overlap_minutes:g}",
        len(v.exposures),
    ]
    return [safe_cell(x) for x in values]


def export_csv(ctx: Services, principal: Principal, case_id: str) -> str:
    """The ranked candidates as CSV (UTF-8 with a BOM, so spreadsheets read the diacritics), audited."""
    principal.require(Permission.TRACING_EXPORT)
    found = traced(ctx, principal, case_id, AuditAction.TRACING_EXPORTED, first(None))
    views = [candidate_view(found, c, rank) for rank, c in enumerate(found.candidates, 1)]
    offset = found.case.rule.visit_rules.offset
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_row(v, offset) for v in views)
    return out.getvalue()


def _people(found: Traced, limit: int | None = None) -> list[Who]:
    shown = found.candidates if limit is None else found.candidates[:limit]
    return [found.who(c.person) for c in shown]


# ---------------------------------------------------------------------------------------------------
# Venue-hours
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VenueHoursView:
    venue_id: str
    name: str
    type: str
    province: str
    district: str
    commune: str
    street: str
    start: dt.datetime  # whole local hours, [start, end)
    end: dt.datetime
    case_scans: int
    exposure_start: dt.datetime  # the rule's reach: contacts this far before and after count
    exposure_end: dt.datetime


@dataclass(frozen=True)
class VenueHoursList:
    case_id: str
    rule: str
    utc_offset_minutes: int
    venues: list[VenueHoursView]


def venue_view(ctx: Services, principal: Principal, case_id: str) -> VenueHoursList:
    """Which venues the case touched and when (for notifying venues and local authorities)."""
    found = traced(ctx, principal, case_id, AuditAction.TRACING_CASE_READ)
    rule = found.case.rule
    reach = dt.timedelta(minutes=rule.distance_minutes if rule.method == "scans" else rule.widen_minutes)
    out = []
    for h in venue_hours(found.case_scans, found.case.window, rule, _facts(found), ctx.now()):
        v = found.venue(h.venue_id)
        out.append(
            VenueHoursView(
                v.public_id,
                v.name,
                v.kind,
                v.province,
                v.district,
                v.commune,
                v.street,
                h.start,
                h.end,
                h.case_scans,
                h.start - reach,
                h.end + reach,
            )
        )
    return VenueHoursList(found.case.public_id, rule.name, rule.visit_rules.utc_offset_minutes, out)


def _facts(found: Traced) -> dict[Hashable, VenueFacts]:
    return {i: VenueFacts(v.kind, v.default_stay_minutes) for i, v in found.venues.items()}


# ---------------------------------------------------------------------------------------------------
# Pictures
# ---------------------------------------------------------------------------------------------------
GRAPH_PEOPLE = 30
TIMELINE_TRACKS = 20


def _label(who: Who) -> str:
    return who.name_masked or who.phone_masked or "khách"


def _case_label(ctx: Services, found: Traced) -> str:
    if found.case.person_id is None:
        return "?"
    with ctx.db.read() as session:
        name = session.scalars(select(Person.full_name).where(Person.id == found.case.person_id)).first()
    return mask_name(name) if name else "?"


def _write(scene: Scene, fmt: str) -> bytes:
    if fmt == "svg":
        return to_svg(scene).encode("utf-8")
    if fmt == "png":
        return to_png(scene)
    raise InvalidInput("format", "must be svg or png")


def graph(ctx: Services, principal: Principal, case_id: str, fmt: str = "svg") -> bytes:
    """Case → venues → candidates (the first 30 drawn, the rest counted), masked labels only."""
    found = traced(ctx, principal, case_id, AuditAction.TRACING_CANDIDATES_READ, first(GRAPH_PEOPLE))
    scene = contact_graph(
        found.candidates,
        case_label=_case_label(ctx, found),
        person_labels={key: _label(w) for key, w in found.people.items()},
        venue_labels={i: v.name for i, v in found.venues.items()},
        venue_kinds={i: v.kind for i, v in found.venues.items()},
        max_candidates=GRAPH_PEOPLE,
        utc_offset_minutes=found.case.rule.visit_rules.utc_offset_minutes,
    )
    return _write(scene, fmt)


def timeline(ctx: Services, principal: Principal, case_id: str, venue_id: str, fmt: str = "svg") -> bytes:
    """The case's scans at one venue (with the rule's band) above the contacts' scans there."""

    def at_venue(found: Traced) -> list[Who]:
        drawn = [
            c for c in found.candidates if any(_public(found, e.venue_id) == venue_id for e in c.exposures)
        ]
        return [found.who(c.person) for c in drawn[:TIMELINE_TRACKS]]

    found = traced(ctx, principal, case_id, AuditAction.TRACING_CANDIDATES_READ, at_venue)
    venue = next((v for v in found.venues.values() if v.public_id == venue_id), None)
    window = found.case.window
    times = [s.at for s in found.case_scans if venue and s.venue_id == venue.id and window.contains(s.at)]
    if venue is None or not times:
        raise NotFound("venue_id", "the case has no scan at this venue in the window")
    labels: dict[Hashable, str] = {key: _label(w) for key, w in found.people.items()}
    tracks = timeline_tracks(found.candidates, venue.id, labels)
    rule = found.case.rule
    band = rule.distance_minutes if rule.method == "scans" else rule.widen_minutes
    scene = venue_timeline(
        venue.name,
        times,
        tracks,
        band_minutes=band,
        max_tracks=TIMELINE_TRACKS,
        utc_offset_minutes=rule.visit_rules.utc_offset_minutes,
    )
    return _write(scene, fmt)


def _public(found: Traced, venue_id: Hashable) -> str:
    return found.venue(venue_id).public_id
