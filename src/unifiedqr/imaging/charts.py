"""Line charts on the project's vector scene: latency over time, with what happened marked on it.

The drills (``bench/drill_scale.py``) plot p50 and p99 per second while workers are killed and the
database restarts, because an operator would rather look than read; one chart, two writers (SVG
and PNG), no plotting library to install (docs/decisions.md, "Tracing": the scene's reasons).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from unifiedqr.imaging.scene import Colour, Poly, Rect, Scene, Shape, Text

PALETTE: tuple[Colour, ...] = ((31, 119, 180), (214, 39, 40), (44, 160, 44), (148, 103, 189))
_GRID: Colour = (225, 228, 232)
_INK: Colour = (60, 64, 70)
_EVENT: Colour = (230, 140, 20)


@dataclass(frozen=True)
class Series:
    name: str
    points: tuple[tuple[float, float], ...]  # (x, y); y may be NaN for "no data"


def _nice_max(value: float) -> float:
    if value <= 0 or math.isnan(value):
        return 1.0
    step = float(10 ** math.floor(math.log10(value)))
    for factor in (1, 2, 2.5, 5, 10):
        if value <= factor * step:
            return factor * step
    return 10 * step


def _frame(
    left: float, top: float, width: float, height: float, x_max: float, y_max: float, labels: tuple[str, str]
) -> list[Shape]:
    shapes: list[Shape] = [Rect(left, top, width, height, stroke=_GRID)]
    for i in range(5):
        y = top + height - height * i / 4
        shapes += [
            Poly(((left, y), (left + width, y)), stroke=_GRID),
            Text(left - 6, y + 4, f"{y_max * i / 4:g}", 11, _INK, anchor="end"),
        ]
    for i in range(6):
        x = left + width * i / 5
        shapes.append(Text(x, top + height + 16, f"{x_max * i / 5:.0f}", 11, _INK, anchor="middle"))
    shapes += [
        Text(left + width / 2, top + height + 34, labels[0], 12, _INK, anchor="middle"),
        Text(left, top - 8, labels[1], 12, _INK),
    ]
    return shapes


def line_chart(
    title: str,
    series: Sequence[Series],
    events: Sequence[tuple[float, str]] = (),
    x_label: str = "seconds",
    y_label: str = "ms",
    size: tuple[int, int] = (900, 420),
) -> Scene:
    """Series as lines (gaps where y is NaN), vertical marks for ``events``, a legend."""
    width, height = size
    left, top, right, bottom = 64.0, 48.0, 24.0, 60.0
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [x for s in series for x, _ in s.points] + [x for x, _ in events] + [1.0]
    ys = [y for s in series for _, y in s.points if not math.isnan(y)]
    x_max = max(xs)
    y_max = _nice_max(max(ys, default=1.0))

    def at(x: float, y: float) -> tuple[float, float]:
        return left + plot_w * x / x_max, top + plot_h - plot_h * min(y, y_max) / y_max

    shapes: list[Shape] = [Text(left, 24, title, 15, bold=True)]
    shapes += _frame(left, top, plot_w, plot_h, x_max, y_max, (x_label, y_label))
    for x, label in events:
        px = left + plot_w * x / x_max
        shapes += [
            Poly(((px, top), (px, top + plot_h)), stroke=_EVENT, width=1.5, dashed=True),
            Text(px + 3, top + 12, label, 10, _EVENT),
        ]
    for index, line in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        run: list[tuple[float, float]] = []
        for x, y in [*line.points, (math.nan, math.nan)]:
            if math.isnan(y):
                if len(run) > 1:
                    shapes.append(Poly(tuple(run), stroke=colour, width=1.8))
                run = []
            else:
                run.append(at(x, y))
        legend_x = left + plot_w - 150 * (len(series) - index)
        shapes += [Rect(legend_x, 14, 14, 4, fill=colour), Text(legend_x + 20, 20, line.name, 12, _INK)]
    return Scene(width, height, tuple(shapes), title=title)
