"""What both tracing pictures share: the palette, the label rule, the input shapes (issue 12).

See :mod:`unifiedqr.imaging.tracing_pictures` for what the pictures show and why labels are cleaned.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Hashable, Sequence
from typing import Final, NamedTuple, Protocol

from unifiedqr.errors import InvalidInput
from unifiedqr.imaging.scene import Colour

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


def zone(utc_offset_minutes: int) -> dt.timezone:
    return dt.timezone(dt.timedelta(minutes=utc_offset_minutes))


def clock(at: dt.datetime, zone: dt.timezone) -> str:
    local = at.astimezone(zone)
    return f"{local:%H:%M %d/%m}"


def curve(a: tuple[float, float], b: tuple[float, float], steps: int = 12) -> tuple[tuple[float, float], ...]:
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


def check_cap(name: str, value: int) -> int:
    if not isinstance(value, int) or not 1 <= value <= 200:
        raise InvalidInput(name, f"must be 1..200, not {value!r}")
    return value
