"""The QR symbol as the app displays it: found with the project's decoder, then measured in pixels.

Every measurement works on the quadrilateral the decoder reports (the symbol's outer corners) and the
module count of its version, so it holds for a code at any position and scale, and for a slightly
rotated one. Luminance is Rec. 601 luma (what a camera-based scanner binarises), 0..255.

- **Levels**: the *ink* level is the median of the three finder patterns' outer rings (always dark
  modules), the *paper* level the median of their inner light rings. Ink lighter than paper means the
  app shows the code inverted (light modules on a dark ground).
- **Contrast**: every module centre is sampled and classified by the mid level; the symbol contrast is
  the difference of the medians of the two classes over 255 (ISO/IEC 15415's symbol contrast on a
  screen, without its reflectance calibration).
- **Quiet zone**: for each side, lines parallel to it are sampled outwards, one pixel apart; a line is
  clear when at least 97 % of its samples are within 35 % of the ink-paper contrast of the paper
  level. The quiet zone on that side is the clear distance in modules; the image's edge ends it.
  Lines in the first half module are not judged (anti-aliasing of the symbol's own edge), nor the
  side's end modules (a plate's rounded corners may cut the very corners, which no scanner needs).
- **Module size**: mean side length over the module count.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
from PIL import Image

from unifiedqr.imaging.decode import Decoded, decode_gray

Gray = npt.NDArray[np.uint8]
Point = tuple[float, float]

#: A quiet zone is measured up to this many modules (enough to tell 4 from less, and to report).
QUIET_ZONE_CAP: Final = 8.0
#: Share of a sampled line that must be paper for the line to count as clear.
CLEAR_SHARE: Final = 0.97
#: A sample is paper when within this share of the ink-paper contrast from the paper level.
PAPER_TOLERANCE: Final = 0.35
SIDES: Final = ("top", "right", "bottom", "left")


@dataclass(frozen=True)
class SymbolReading:
    """One code the decoder found: text, kind, corners (tl, tr, br, bl), EC level and version."""

    text: str
    kind: str
    corners: tuple[Point, Point, Point, Point]
    ec_level: str
    version: int
    step: str

    @property
    def modules(self) -> int:
        return 17 + 4 * self.version if self.version else 0

    @property
    def area(self) -> float:
        (x0, y0), (x1, y1), (x2, y2), (x3, y3) = self.corners
        return abs((x0 * y1 - x1 * y0) + (x1 * y2 - x2 * y1) + (x2 * y3 - x3 * y2) + (x3 * y0 - x0 * y3)) / 2

    @property
    def box(self) -> tuple[int, int, int, int]:
        xs = [p[0] for p in self.corners]
        ys = [p[1] for p in self.corners]
        return (math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys)))


@dataclass(frozen=True)
class Quality:
    """Measurements of the displayed symbol (see the module docstring for how each is made)."""

    modules: int
    module_px: float
    ink: float
    paper: float
    contrast: float
    inverted: bool
    quiet_zone: dict[str, float]

    @property
    def quiet_zone_min(self) -> float:
        return min(self.quiet_zone.values())

    def to_json(self) -> dict[str, object]:
        """Plain JSON numbers (never NaN: strict JSON parsers refuse it)."""
        return {
            "modules": self.modules,
            "module_px": _number(self.module_px, 2),
            "ink": _number(self.ink, 1),
            "paper": _number(self.paper, 1),
            "contrast": _number(self.contrast, 3),
            "inverted": self.inverted,
            "quiet_zone_modules": {side: _number(value, 2) for side, value in self.quiet_zone.items()},
        }


def _number(value: float, digits: int) -> float | None:
    return round(float(value), digits) if math.isfinite(value) else None


def gray_of(image: Image.Image) -> Gray:
    return np.asarray(image.convert("L"))


def find_symbols(gray: Gray) -> list[SymbolReading]:
    """Every QR code on the screen (the project's decoder, cascade included), largest first."""
    found: list[Decoded] = decode_gray(gray)
    readings = [
        SymbolReading(
            d.text,
            d.kind,
            tuple((float(x), float(y)) for x, y in d.position),  # type: ignore[arg-type]
            d.ec_level,
            d.version,
            d.step,
        )
        for d in found
        if len(d.position) == 4
    ]
    return sorted(readings, key=lambda r: -r.area)


def _at(
    corners: tuple[Point, Point, Point, Point], u: npt.NDArray[np.float64], v: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Bilinear map of unit-square coordinates (u right, v down) onto the symbol's quadrilateral."""
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = corners
    x = (1 - u) * (1 - v) * x0 + u * (1 - v) * x1 + u * v * x2 + (1 - u) * v * x3
    y = (1 - u) * (1 - v) * y0 + u * (1 - v) * y1 + u * v * y2 + (1 - u) * v * y3
    return x, y


def _sample(gray: Gray, x: npt.NDArray[np.float64], y: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Nearest-pixel samples; points outside the image come back as NaN."""
    height, width = gray.shape
    xi = np.floor(x).astype(np.int64)
    yi = np.floor(y).astype(np.int64)
    inside = (xi >= 0) & (xi < width) & (yi >= 0) & (yi < height)
    out = np.full(x.shape, np.nan)
    out[inside] = gray[yi[inside], xi[inside]]
    return out


def _module_centres(
    gray: Gray, corners: tuple[Point, Point, Point, Point], n: int
) -> npt.NDArray[np.float64]:
    """An n × n array of the luma at each module's centre."""
    index = (np.arange(n) + 0.5) / n
    u, v = np.meshgrid(index, index)
    x, y = _at(corners, u, v)
    return _sample(gray, x, y)


def _finder_masks(n: int) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """(outer dark rings, inner light rings) of the three finder patterns."""
    outer = np.zeros((n, n), dtype=bool)
    inner = np.zeros((n, n), dtype=bool)
    rows, cols = np.mgrid[0:7, 0:7]
    ring = np.maximum(abs(rows - 3), abs(cols - 3))
    for top, left in ((0, 0), (0, n - 7), (n - 7, 0)):
        outer[top : top + 7, left : left + 7] |= ring == 3
        inner[top : top + 7, left : left + 7] |= ring == 2
    return outer, inner


def estimate_modules(gray: Gray, corners: tuple[Point, Point, Point, Point]) -> int:
    """Module count when the decoder did not report the version: the top-left finder's first row is a
    run of 7 dark modules, so its length gives the module size, and the side over it the count."""
    side = math.dist(corners[0], corners[1])
    steps = max(int(side), 8)
    u = np.linspace(0, 0.5, steps)
    x, y = _at(corners, u, np.full(steps, min(0.5 / 21, 1.0 / max(side, 1.0))))
    row = _sample(gray, x, y)
    if np.isnan(row).any():
        return 0
    mid = (np.nanmax(row) + np.nanmin(row)) / 2
    dark_first = row[0] < mid
    run = int(np.argmax((row < mid) != dark_first)) or steps
    module = (run / steps) * 0.5 * side / 7
    if module <= 0:
        return 0
    version = round((side / module - 17) / 4)
    return 17 + 4 * version if 1 <= version <= 40 else 0


def _quiet_zone(
    gray: Gray,
    corners: tuple[Point, Point, Point, Point],
    module_px: float,
    paper: float,
    tolerance: float,
    modules: int,
) -> dict[str, float]:
    cx = sum(p[0] for p in corners) / 4
    cy = sum(p[1] for p in corners) / 4
    limit = math.ceil(QUIET_ZONE_CAP * module_px) + 1
    skip = module_px / 2
    out: dict[str, float] = {}
    for index, side in enumerate(SIDES):
        (ax, ay), (bx, by) = corners[index], corners[(index + 1) % 4]
        length = math.hypot(bx - ax, by - ay) or 1.0
        nx, ny = (by - ay) / length, -(bx - ax) / length
        if (cx - ax) * nx + (cy - ay) * ny > 0:  # point the normal away from the symbol
            nx, ny = -nx, -ny
        count = max(int(length), 16)
        # the side without its end modules: a plate's rounded corners may cut the very corners
        end = 1.0 / max(modules, 1)
        t = np.linspace(end, 1.0 - end, count)
        base_x, base_y = ax + (bx - ax) * t, ay + (by - ay) * t
        clear = float(limit)
        for d in range(1, limit + 1):
            samples = _sample(gray, base_x + nx * d, base_y + ny * d)
            paper_share = float(np.mean(np.abs(samples - paper) <= tolerance)) if samples.size else 0.0
            if np.isnan(samples).any():
                paper_share = 0.0  # beyond the screen's edge: nothing clear there
            if paper_share < CLEAR_SHARE and d > skip:
                clear = d - 0.5
                break
        out[side] = min(clear / module_px, QUIET_ZONE_CAP)
    return out


def measure(gray: Gray, reading: SymbolReading) -> Quality | None:
    """Quality of one displayed symbol, or None when its geometry cannot be sampled."""
    n = reading.modules or estimate_modules(gray, reading.corners)
    if n < 21:
        return None
    side = sum(math.dist(reading.corners[i], reading.corners[(i + 1) % 4]) for i in range(4)) / 4
    module_px = side / n
    if module_px <= 0.5:
        return None
    centres = _module_centres(gray, reading.corners, n)
    if np.isnan(centres).any():
        return None
    outer, inner = _finder_masks(n)
    ink = float(np.median(centres[outer]))
    paper = float(np.median(centres[inner]))
    mid = (ink + paper) / 2
    inverted = ink > paper
    dark_class = centres > mid if inverted else centres < mid
    dark_values = centres[dark_class]
    light_values = centres[~dark_class]
    if dark_values.size == 0 or light_values.size == 0:
        contrast = 0.0
    else:
        contrast = abs(float(np.median(light_values)) - float(np.median(dark_values))) / 255.0
    tolerance = max(PAPER_TOLERANCE * abs(paper - ink), 8.0)
    quiet = _quiet_zone(gray, reading.corners, module_px, paper, tolerance, n)
    return Quality(n, module_px, ink, paper, contrast, inverted, quiet)
