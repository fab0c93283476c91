"""The case → venues → candidates graph (issue 12): candidates in rank order, bounded, masked labels."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from unifiedqr.imaging.scene import Poly, Rect, Scene, Shape, Text, fit
from unifiedqr.imaging.tracing_style import (
    CASE,
    CASE_LIGHT,
    EDGE,
    INK,
    MUTED,
    TIERS,
    UNVERIFIED,
    VENUE,
    VENUE_LIGHT,
    WIDTH,
    CandidateLike,
    check_cap,
    clock,
    curve,
    safe_label,
    zone,
)

# --------------------------------------------------------------------------------------------------
# Graph
# --------------------------------------------------------------------------------------------------

_ROW: Final = 44
_BOX: Final = 36
_TOP: Final = 64
_CASE_X, _CASE_W = 20, 200
_VENUE_X, _VENUE_W = 330, 290
_CAND_X, _CAND_W = 730, 250


def _two_lines(x: float, y: float, w: float, first: str, second: str, bold: bool = True) -> list[Shape]:
    return [
        Text(x + 8, y + 15, fit(first, 12, w - 16, bold), 12, INK, bold),
        Text(x + 8, y + 30, fit(second, 10, w - 16), 10, MUTED),
    ]


@dataclass(frozen=True)
class _GraphPlan:
    """Where everything of the graph goes: the drawn people, the shown venues, the rows."""

    drawn: list[CandidateLike]
    hidden_people: int
    first_at: dict[Hashable, dt.datetime]  # each venue's earliest case scan
    people_at: dict[Hashable, int]  # each venue's number of people (drawn or not)
    venues: list[Hashable]  # every venue, busiest first
    shown: list[Hashable]  # the venues drawn, by first case scan
    venue_rows: int
    people_rows: int

    @property
    def hidden_venues(self) -> int:
        return len(self.venues) - len(self.shown)

    @property
    def plot_h(self) -> float:
        return max(self.venue_rows, self.people_rows, 1) * _ROW

    def centre(self, i: int, n: int) -> float:
        return _TOP + (i + 0.5) * self.plot_h / max(n, 1)

    @property
    def venue_y(self) -> dict[Hashable, float]:
        return {v: self.centre(i, self.venue_rows) for i, v in enumerate(self.shown)}

    @property
    def more_venue_y(self) -> float | None:
        return self.centre(len(self.shown), self.venue_rows) if self.hidden_venues else None


def _plan_graph(candidates: Sequence[CandidateLike], max_venues: int, max_candidates: int) -> _GraphPlan:
    drawn = list(candidates[:max_candidates])
    first_at: dict[Hashable, dt.datetime] = {}
    people_at: dict[Hashable, int] = defaultdict(int)
    for c in candidates:  # every venue counts its people, drawn or not
        for venue in {e.venue_id for e in c.exposures}:
            people_at[venue] += 1
        for e in c.exposures:
            if _earlier(first_at, e.venue_id, e.case_scan_at):
                first_at[e.venue_id] = e.case_scan_at
    venues = sorted(first_at, key=lambda v: (-people_at[v], first_at[v], repr(v)))
    shown = sorted(venues[:max_venues], key=lambda v: (first_at[v], repr(v)))
    hidden_people = len(candidates) - len(drawn)
    return _GraphPlan(
        drawn,
        hidden_people,
        first_at,
        people_at,
        venues,
        shown,
        len(shown) + (1 if len(venues) > len(shown) else 0),
        len(drawn) + (1 if hidden_people else 0),
    )


def _graph_edges(plan: _GraphPlan, case_y: float) -> list[Shape]:
    """Edges first, so that boxes cover their ends: case to venues, venues to people."""
    shapes: list[Shape] = []
    venue_y, more_venue_y = plan.venue_y, plan.more_venue_y
    for y in [*venue_y.values(), *([more_venue_y] if more_venue_y is not None else [])]:
        shapes.append(Poly(curve((_CASE_X + _CASE_W, case_y), (_VENUE_X, y)), CASE, 2.0))
    for i, c in enumerate(plan.drawn):
        y = plan.centre(i, plan.people_rows)
        targets = {venue_y.get(e.venue_id, more_venue_y) for e in c.exposures}
        for vy in sorted(t for t in targets if t is not None):
            shapes.append(
                Poly(curve((_VENUE_X + _VENUE_W, vy), (_CAND_X, y)), EDGE, 1.5, dashed=c.unverified)
            )
    return shapes


def _graph_venues(
    plan: _GraphPlan, venue_labels: Mapping[Hashable, str], kinds: Mapping[Hashable, str], zone: dt.timezone
) -> list[Shape]:
    shapes: list[Shape] = []
    for v, y in plan.venue_y.items():
        top = y - _BOX / 2
        kind = safe_label(kinds.get(v, ""))
        detail = (
            f"{kind + ' · ' if kind else ''}{plan.people_at[v]} người · từ {clock(plan.first_at[v], zone)}"
        )
        shapes.append(Rect(_VENUE_X, top, _VENUE_W, _BOX, VENUE_LIGHT, VENUE, 1.5, 6.0))
        shapes += _two_lines(_VENUE_X, top, _VENUE_W, safe_label(venue_labels.get(v, "?")), detail)
    more = plan.more_venue_y
    if more is not None:
        shapes.append(Rect(_VENUE_X, more - _BOX / 2, _VENUE_W, _BOX, (245, 246, 248), EDGE, 1.0, 6.0))
        shapes.append(Text(_VENUE_X + 8, more + 5, f"+{plan.hidden_venues} địa điểm khác", 12, MUTED))
    return shapes


def _graph_people(plan: _GraphPlan, person_labels: Mapping[Hashable, str]) -> list[Shape]:
    shapes: list[Shape] = []
    best = max((c.score for c in plan.drawn), default=0.0) or 1.0
    for i, c in enumerate(plan.drawn):
        top = plan.centre(i, plan.people_rows) - _BOX / 2
        fill, outline = TIERS[0 if c.score >= best * 2 / 3 else 1 if c.score >= best / 3 else 2]
        if c.unverified:
            fill, outline = (246, 246, 246), UNVERIFIED
        label = safe_label(person_labels.get(c.person, "?"))
        detail = f"#{i + 1} · điểm {c.score:.2f}" + (" · chưa xác minh" if c.unverified else "")
        shapes.append(Rect(_CAND_X, top, _CAND_W, _BOX, fill, outline, 1.5, 6.0, dashed=c.unverified))
        shapes += _two_lines(_CAND_X, top, _CAND_W, label, detail)
    if plan.hidden_people:
        y = plan.centre(len(plan.drawn), plan.people_rows)
        shapes.append(Rect(_CAND_X, y - _BOX / 2, _CAND_W, _BOX, (245, 246, 248), EDGE, 1.0, 6.0))
        shapes.append(Text(_CAND_X + 8, y + 5, f"+{plan.hidden_people} người khác", 12, MUTED))
    return shapes


def contact_graph(
    candidates: Sequence[CandidateLike],
    *,
    case_label: str,
    person_labels: Mapping[Hashable, str],
    venue_labels: Mapping[Hashable, str],
    venue_kinds: Mapping[Hashable, str] | None = None,
    title: str = "Truy vết tiếp xúc",
    max_venues: int = 12,
    max_candidates: int = 30,
    utc_offset_minutes: int = 420,
) -> Scene:
    """Case (left) → the venues of the exposures (middle) → candidates in rank order (right).

    ``candidates`` as ranked by the rules (best first); labels are looked up by person and venue
    (a missing label prints as "?"). Unverified people get a dashed outline.
    """
    check_cap("max_venues", max_venues)
    check_cap("max_candidates", max_candidates)
    plan = _plan_graph(candidates, max_venues, max_candidates)
    height = _TOP + plan.plot_h + 44
    case_y = _TOP + plan.plot_h / 2
    summary = f"{len(candidates)} người có thể tiếp xúc · {len(plan.venues)} địa điểm · xếp theo điểm"
    shapes: list[Shape] = [
        Text(20, 28, fit(safe_label(title), 18, WIDTH - 40, True), 18, INK, True),
        Text(20, 48, summary, 12, MUTED),
        *_graph_edges(plan, case_y),
        Rect(_CASE_X, case_y - 26, _CASE_W, 52, CASE_LIGHT, CASE, 2.0, 6.0),
        Text(_CASE_X + 10, case_y - 6, "CA BỆNH", 12, CASE, True),
        Text(_CASE_X + 10, case_y + 14, fit(safe_label(case_label), 13, _CASE_W - 20, True), 13, INK, True),
        *_graph_venues(plan, venue_labels, venue_kinds or {}, zone(utc_offset_minutes)),
        *_graph_people(plan, person_labels),
        Text(
            20,
            height - 16,
            "Nét đứt: chưa xác minh (chỉ có số điện thoại hoặc CCCD từ trang check-in). Tên đã ẩn một phần.",
            11,
            MUTED,
        ),
    ]
    return Scene(WIDTH, int(height), tuple(shapes), title=safe_label(title))


def _earlier(first_at: Mapping[Hashable, dt.datetime], venue: Hashable, at: dt.datetime) -> bool:
    """True when ``at`` is the earliest case scan seen so far at ``venue``."""
    known = first_at.get(venue)
    return known is None or at < known
