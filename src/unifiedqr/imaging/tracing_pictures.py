"""Tracing pictures: the case → venues → candidates graph, and a timeline per venue (issue 12).

Tracers would rather look than read. Both pictures are laid out once as a :class:`Scene` and written
as SVG (:func:`to_svg`) or PNG (:func:`to_png`), identical by construction and deterministic.

What may appear: only the display labels the caller gives (masked names such as
``N***** V** AN``), venue names, times, scores. As a second line of defence every label is
cleaned by :func:`safe_label`: a run of five or more digits (a phone, a document number, a QID,
even masked) becomes ``•••``. Size is bounded: at most ``max_venues`` venues and
``max_candidates`` people (graph) or ``max_tracks`` rows (timeline) are drawn, the rest summed up
in a "+N …" node or row, and long labels are cut with an ellipsis.

Inputs are duck-typed (:class:`CandidateLike`): the tracing service's candidates fit as they are,
and imaging does not import the services (imports run downwards).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections import defaultdict
from collections.abc import Hashable, Mapping, Sequence
from typing import Final, NamedTuple, Protocol

from unifiedqr.errors import InvalidInput
from unifiedqr.imaging.scene import Colour, Dot, Poly, Rect, Scene, Shape, Text, fit, to_png, to_svg

WIDTH: Final = 1000
CASE: Final[Colour] = (215, 38, 61)
CASE_LIGHT: Final[Colour] = (250, 219, 223)
VENUE: Final[Colour] = (31, 78, 121)
VENUE_LIGHT: Final[Colour] = (221, 233, 244)
INK: Final[Colour] = (20, 24, 28)
MUTED: Final[Colour] = (90, 98, 108)
GRID: Final[Colour] = (226, 229, 233)
EDGE: Final[Colour] = (150, 158, 168)
UNVERIFIED: Final[Colour] = (120, 126, 134)
#: Candidate fill and outline by score tier (top third of the best score, middle, rest).
TIERS: Final[tuple[tuple[Colour, Colour], ...]] = (
    ((255, 224, 204), (196, 69, 0)),
    ((255, 238, 204), (204, 122, 0)),
    ((255, 248, 225), (176, 142, 40)),
)
_LONG_DIGITS = re.compile(r"\d{5,}")


class ExposureLike(Protocol):
    @property
    def venue_id(self) -> Hashable: ...
    @property
    def case_scan_at(self) -> dt.datetime: ...
    @property
    def scan_at(self) -> dt.datetime: ...


class CandidateLike(Protocol):
    @property
    def person(self) -> Hashable: ...
    @property
    def score(self) -> float: ...
    @property
    def unverified(self) -> bool: ...
    @property
    def exposures(self) -> Sequence[ExposureLike]: ...


class Track(NamedTuple):
    """One row of a timeline: a person's scans (and visit spans, if the rule derived them)."""

    label: str
    times: Sequence[dt.datetime]
    unverified: bool = False
    spans: Sequence[tuple[dt.datetime, dt.datetime]] = ()


def safe_label(text: str, limit: int = 80) -> str:
    """A label fit to print: control characters dropped, spaces collapsed, long digit runs hidden."""
    cleaned = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in str(text))
    cleaned = _LONG_DIGITS.sub("•••", " ".join(cleaned.split()))
    return cleaned[:limit]


def _zone(utc_offset_minutes: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(minutes=utc_offset_minutes))


def _clock(at: dt.datetime, zone: dt.timezone) -> str:
    local = at.astimezone(zone)
    return f"{local:%H:%M %d/%m}"


def _curve(
    a: tuple[float, float], b: tuple[float, float], steps: int = 12
) -> tuple[tuple[float, float], ...]:
    """A horizontal S-curve from ``a`` to ``b`` (cubic Bézier sampled, so both writers draw the same)."""
    (x1, y1), (x2, y2) = a, b
    mid = (x1 + x2) / 2
    out = []
    for i in range(steps + 1):
        t = i / steps
        u = 1 - t
        x = u**3 * x1 + 3 * u * u * t * mid + 3 * u * t * t * mid + t**3 * x2
        y = u**3 * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t**3 * y2
        out.append((round(x, 1), round(y, 1)))
    return tuple(out)


def _check_cap(name: str, value: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= 200:
        raise InvalidInput(name, f"must be 1..200, not {value!r}")
    return value


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
    _check_cap("max_venues", max_venues)
    _check_cap("max_candidates", max_candidates)
    zone = _zone(utc_offset_minutes)
    kinds = venue_kinds or {}
    drawn = list(candidates[:max_candidates])
    hidden_people = len(candidates) - len(drawn)
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
    hidden_venues = len(venues) - len(shown)
    venue_rows = len(shown) + (1 if hidden_venues else 0)
    people_rows = len(drawn) + (1 if hidden_people else 0)
    rows = max(venue_rows, people_rows, 1)
    plot_h = rows * _ROW
    height = _TOP + plot_h + 44

    def centre(i: int, n: int) -> float:
        return _TOP + (i + 0.5) * plot_h / max(n, 1)

    shapes: list[Shape] = [
        Text(20, 28, fit(safe_label(title), 18, WIDTH - 40, True), 18, INK, True),
        Text(
            20,
            48,
            f"{len(candidates)} người có thể tiếp xúc · {len(venues)} địa điểm · xếp theo điểm",
            12,
            MUTED,
        ),
    ]
    venue_y = {v: centre(i, venue_rows) for i, v in enumerate(shown)}
    more_venue_y = centre(len(shown), venue_rows) if hidden_venues else None
    case_y = _TOP + plot_h / 2
    # Edges first, so that boxes cover their ends.
    for y in [*venue_y.values(), *([more_venue_y] if more_venue_y is not None else [])]:
        shapes.append(Poly(_curve((_CASE_X + _CASE_W, case_y), (_VENUE_X, y)), CASE, 2.0))
    best = max((c.score for c in drawn), default=0.0) or 1.0
    for i, c in enumerate(drawn):
        y = centre(i, people_rows)
        targets = {venue_y.get(e.venue_id, more_venue_y) for e in c.exposures}
        for vy in sorted(t for t in targets if t is not None):
            shapes.append(
                Poly(_curve((_VENUE_X + _VENUE_W, vy), (_CAND_X, y)), EDGE, 1.5, dashed=c.unverified)
            )
    shapes += [
        Rect(_CASE_X, case_y - 26, _CASE_W, 52, CASE_LIGHT, CASE, 2.0, 6.0),
        Text(_CASE_X + 10, case_y - 6, "CA BỆNH", 12, CASE, True),
        Text(_CASE_X + 10, case_y + 14, fit(safe_label(case_label), 13, _CASE_W - 20, True), 13, INK, True),
    ]
    for v, y in venue_y.items():
        top = y - _BOX / 2
        count = people_at[v]
        kind = safe_label(kinds.get(v, ""))
        detail = f"{kind + ' · ' if kind else ''}{count} người · từ {_clock(first_at[v], zone)}"
        shapes.append(Rect(_VENUE_X, top, _VENUE_W, _BOX, VENUE_LIGHT, VENUE, 1.5, 6.0))
        shapes += _two_lines(_VENUE_X, top, _VENUE_W, safe_label(venue_labels.get(v, "?")), detail)
    if more_venue_y is not None:
        shapes.append(
            Rect(_VENUE_X, more_venue_y - _BOX / 2, _VENUE_W, _BOX, (245, 246, 248), EDGE, 1.0, 6.0)
        )
        shapes.append(Text(_VENUE_X + 8, more_venue_y + 5, f"+{hidden_venues} địa điểm khác", 12, MUTED))
    for i, c in enumerate(drawn):
        y = centre(i, people_rows)
        top = y - _BOX / 2
        fill, outline = TIERS[0 if c.score >= best * 2 / 3 else 1 if c.score >= best / 3 else 2]
        if c.unverified:
            fill, outline = (246, 246, 246), UNVERIFIED
        label = safe_label(person_labels.get(c.person, "?"))
        detail = f"#{i + 1} · điểm {c.score:.2f}" + (" · chưa xác minh" if c.unverified else "")
        shapes.append(Rect(_CAND_X, top, _CAND_W, _BOX, fill, outline, 1.5, 6.0, dashed=c.unverified))
        shapes += _two_lines(_CAND_X, top, _CAND_W, label, detail)
    if hidden_people:
        y = centre(len(drawn), people_rows)
        shapes.append(Rect(_CAND_X, y - _BOX / 2, _CAND_W, _BOX, (245, 246, 248), EDGE, 1.0, 6.0))
        shapes.append(Text(_CAND_X + 8, y + 5, f"+{hidden_people} người khác", 12, MUTED))
    shapes.append(
        Text(
            20,
            height - 16,
            "Nét đứt: chưa xác minh (chỉ có số điện thoại hoặc CCCD từ trang check-in). Tên đã ẩn một phần.",
            11,
            MUTED,
        )
    )
    return Scene(WIDTH, int(height), tuple(shapes), title=safe_label(title))


def _earlier(first_at: Mapping[Hashable, dt.datetime], venue: Hashable, at: dt.datetime) -> bool:
    """True when ``at`` is the earliest case scan seen so far at ``venue``."""
    known = first_at.get(venue)
    return known is None or at < known


# --------------------------------------------------------------------------------------------------
# Timeline
# --------------------------------------------------------------------------------------------------

_STEPS_HOURS: Final = (1, 2, 3, 4, 6, 12, 24, 48, 72, 168)
_PLOT_X0, _PLOT_X1 = 220.0, 980.0
_TRACK: Final = 28


def timeline_tracks(
    candidates: Sequence[CandidateLike], venue_id: Hashable, person_labels: Mapping[Hashable, str]
) -> list[Track]:
    """One track per candidate exposed at ``venue_id`` (rank order), with their scans there."""
    tracks = []
    for c in candidates:
        times = sorted({e.scan_at for e in c.exposures if e.venue_id == venue_id})
        if times:
            tracks.append(Track(person_labels.get(c.person, "?"), times, c.unverified))
    return tracks


def venue_timeline(
    venue_label: str,
    case_times: Sequence[dt.datetime],
    tracks: Sequence[Track],
    *,
    band_minutes: int = 60,
    case_spans: Sequence[tuple[dt.datetime, dt.datetime]] = (),
    max_tracks: int = 20,
    utc_offset_minutes: int = 420,
) -> Scene:
    """The case's scans at one venue (with the ±``band_minutes`` band) above the contacts' scans.

    Local time (UTC+7 by default) on the axis; a tick at local midnight carries the date, so a
    timeline across midnight reads right. ``case_spans`` and each track's ``spans``: derived
    visits, drawn as bars (the overlap rule).
    """
    _check_cap("max_tracks", max_tracks)
    if not case_times and not case_spans:
        raise InvalidInput("case_times", "a timeline needs at least one scan of the case")
    zone = _zone(utc_offset_minutes)
    band = dt.timedelta(minutes=band_minutes)
    shown = list(tracks[:max_tracks])
    hidden = len(tracks) - len(shown)
    moments = [t for at in case_times for t in (at - band, at + band)]
    moments += [t for s in case_spans for t in s]
    moments += [t for tr in shown for t in (*tr.times, *(x for s in tr.spans for x in s))]
    hour = dt.timedelta(hours=1)
    lo = min(moments).astimezone(zone).replace(minute=0, second=0, microsecond=0)
    hi_raw = max(moments).astimezone(zone)
    hi = hi_raw.replace(minute=0, second=0, microsecond=0)
    if hi < hi_raw or hi == lo:
        hi += hour
    total = (hi - lo).total_seconds()
    step = next((h for h in _STEPS_HOURS if total / (h * 3600) <= 10), _STEPS_HOURS[-1])

    def x(at: dt.datetime) -> float:
        return round(_PLOT_X0 + (at - lo).total_seconds() / total * (_PLOT_X1 - _PLOT_X0), 1)

    rows = 1 + len(shown) + (1 if hidden else 0)
    top = 84.0
    bottom = top + rows * _TRACK
    height = int(bottom + 40)
    shapes: list[Shape] = [
        Text(20, 28, fit(safe_label(venue_label), 18, WIDTH - 40, True), 18, INK, True),
        Text(
            20,
            48,
            f"Giờ địa phương (UTC{utc_offset_minutes / 60:+g}) · vùng tô: ±{band_minutes} phút",
            12,
            MUTED,
        ),
    ]
    tick = lo
    first = True
    while tick <= hi:
        tx = x(tick)
        shapes.append(Poly(((tx, top - 4), (tx, bottom)), GRID, 1.0))
        shapes.append(Text(tx, top - 8, f"{tick:%H:%M}", 10, MUTED, anchor="middle"))
        if first or (tick.hour == 0 and tick.minute == 0):
            shapes.append(Text(tx, top - 22, f"{tick:%d/%m}", 10, INK, True, anchor="middle"))
        first = False
        tick += dt.timedelta(hours=step)
    case_y = top + _TRACK / 2
    shapes.append(Text(20, case_y + 4, "Ca bệnh", 12, CASE, True))
    for at in sorted(case_times):
        shapes.append(Rect(x(at - band), case_y - 10, x(at + band) - x(at - band), 20, CASE_LIGHT))
    for start, end in sorted(case_spans):
        shapes.append(Rect(x(start), case_y - 4, max(x(end) - x(start), 1.0), 8, CASE))
    for at in sorted(case_times):
        cx = x(at)
        shapes.append(Poly(((cx, case_y), (cx, bottom)), CASE, 1.0, dashed=True))
        shapes.append(
            Poly(
                ((cx, case_y - 7), (cx + 7, case_y), (cx, case_y + 7), (cx - 7, case_y)),
                CASE,
                1.0,
                CASE,
                True,
            )
        )
    for i, track in enumerate(shown):
        y = top + (i + 1.5) * _TRACK
        colour = UNVERIFIED if track.unverified else VENUE
        label = safe_label(track.label) + (" (chưa xác minh)" if track.unverified else "")
        shapes.append(Text(20, y + 4, fit(label, 12, _PLOT_X0 - 30), 12, INK))
        for start, end in sorted(track.spans):
            shapes.append(Rect(x(start), y - 4, max(x(end) - x(start), 1.0), 8, VENUE_LIGHT, colour, 1.0))
        for at in sorted(track.times):
            fill = None if track.unverified else colour
            shapes.append(Dot(x(at), y, 5, fill, colour, 1.5))
    if hidden:
        shapes.append(Text(20, top + (len(shown) + 1.5) * _TRACK + 4, f"+{hidden} người khác", 12, MUTED))
    legend = "◆ lần quét của ca bệnh   ● lần quét của người tiếp xúc   ○ chưa xác minh"
    shapes.append(Text(20, height - 14, legend, 11, MUTED))
    return Scene(WIDTH, height, tuple(shapes), title=safe_label(venue_label))


__all__ = [
    "CandidateLike",
    "ExposureLike",
    "Scene",
    "Track",
    "contact_graph",
    "safe_label",
    "timeline_tracks",
    "to_png",
    "to_svg",
    "venue_timeline",
]
