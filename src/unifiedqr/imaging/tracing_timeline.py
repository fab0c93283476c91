"""A timeline per venue (issue 12): the case's scans and their band above the contacts' scans."""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from unifiedqr.errors import InvalidInput
from unifiedqr.imaging.scene import Dot, Poly, Rect, Scene, Shape, Text, fit
from unifiedqr.imaging.tracing_style import (
    CASE,
    CASE_LIGHT,
    GRID,
    INK,
    MUTED,
    UNVERIFIED,
    VENUE,
    VENUE_LIGHT,
    WIDTH,
    CandidateLike,
    Track,
    check_cap,
    safe_label,
    zone,
)

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


@dataclass(frozen=True)
class _Axis:
    """The timeline's local-time axis: from ``lo`` to ``hi`` (whole hours), a tick every ``step`` hours."""

    lo: dt.datetime
    hi: dt.datetime
    step: int

    def x(self, at: dt.datetime) -> float:
        total = (self.hi - self.lo).total_seconds()
        return round(_PLOT_X0 + (at - self.lo).total_seconds() / total * (_PLOT_X1 - _PLOT_X0), 1)


def _axis(moments: Sequence[dt.datetime], zone: dt.timezone) -> _Axis:
    hour = dt.timedelta(hours=1)
    lo = min(moments).astimezone(zone).replace(minute=0, second=0, microsecond=0)
    hi_raw = max(moments).astimezone(zone)
    hi = hi_raw.replace(minute=0, second=0, microsecond=0)
    if hi < hi_raw or hi == lo:
        hi += hour
    total = (hi - lo).total_seconds()
    step = next((h for h in _STEPS_HOURS if total / (h * 3600) <= 10), _STEPS_HOURS[-1])
    return _Axis(lo, hi, step)


def _ticks(axis: _Axis, top: float, bottom: float) -> list[Shape]:
    """A tick and its time each ``step`` hours; the date at the first tick and at local midnight."""
    shapes: list[Shape] = []
    tick = axis.lo
    first = True
    while tick <= axis.hi:
        tx = axis.x(tick)
        shapes.append(Poly(((tx, top - 4), (tx, bottom)), GRID, 1.0))
        shapes.append(Text(tx, top - 8, f"{tick:%H:%M}", 10, MUTED, anchor="middle"))
        if first or (tick.hour == 0 and tick.minute == 0):
            shapes.append(Text(tx, top - 22, f"{tick:%d/%m}", 10, INK, True, anchor="middle"))
        first = False
        tick += dt.timedelta(hours=axis.step)
    return shapes


def _case_row(
    axis: _Axis,
    case_times: Sequence[dt.datetime],
    case_spans: Sequence[tuple[dt.datetime, dt.datetime]],
    band: dt.timedelta,
    case_y: float,
    bottom: float,
) -> list[Shape]:
    """The case's row: the ±band shading, visit bars, then a diamond and a guide line per scan."""
    x = axis.x
    shapes: list[Shape] = [Text(20, case_y + 4, "Ca bệnh", 12, CASE, True)]
    for at in sorted(case_times):
        shapes.append(Rect(x(at - band), case_y - 10, x(at + band) - x(at - band), 20, CASE_LIGHT))
    for start, end in sorted(case_spans):
        shapes.append(Rect(x(start), case_y - 4, max(x(end) - x(start), 1.0), 8, CASE))
    for at in sorted(case_times):
        cx = x(at)
        shapes.append(Poly(((cx, case_y), (cx, bottom)), CASE, 1.0, dashed=True))
        diamond = ((cx, case_y - 7), (cx + 7, case_y), (cx, case_y + 7), (cx - 7, case_y))
        shapes.append(Poly(diamond, CASE, 1.0, CASE, True))
    return shapes


def _track_rows(axis: _Axis, shown: Sequence[Track], hidden: int, top: float) -> list[Shape]:
    """One row per contact: label, visit bars, a dot per scan (hollow: unverified); then "+N"."""
    x = axis.x
    shapes: list[Shape] = []
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
    return shapes


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
    check_cap("max_tracks", max_tracks)
    if not case_times and not case_spans:
        raise InvalidInput("case_times", "a timeline needs at least one scan of the case")
    band = dt.timedelta(minutes=band_minutes)
    shown = list(tracks[:max_tracks])
    hidden = len(tracks) - len(shown)
    moments = [t for at in case_times for t in (at - band, at + band)]
    moments += [t for s in case_spans for t in s]
    moments += [t for tr in shown for t in (*tr.times, *(x for s in tr.spans for x in s))]
    axis = _axis(moments, zone(utc_offset_minutes))
    top = 84.0
    bottom = top + (1 + len(shown) + (1 if hidden else 0)) * _TRACK
    height = int(bottom + 40)
    subtitle = f"Giờ địa phương (UTC{utc_offset_minutes / 60:+g}) · vùng tô: ±{band_minutes} phút"
    legend = "◆ lần quét của ca bệnh   ● lần quét của người tiếp xúc   ○ chưa xác minh"
    shapes: list[Shape] = [
        Text(20, 28, fit(safe_label(venue_label), 18, WIDTH - 40, True), 18, INK, True),
        Text(20, 48, subtitle, 12, MUTED),
        *_ticks(axis, top, bottom),
        *_case_row(axis, case_times, case_spans, band, top + _TRACK / 2, bottom),
        *_track_rows(axis, shown, hidden, top),
        Text(20, height - 14, legend, 11, MUTED),
    ]
    return Scene(WIDTH, height, tuple(shapes), title=safe_label(venue_label))
