"""Bar charts as SVG, drawn on the server: check-ins and check-outs per hour (no script, no CDN).

Pure: numbers in, SVG text out. Every label is escaped; the chart carries a ``<title>`` and a
``<desc>`` for screen readers, and each bar its own ``<title>`` (the value on hover or long-press).
The owner's page also shows the same numbers as a table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 46
IN_FILL, OUT_FILL, GRID, INK = "#0b57a4", "#9bb3cc", "#dde3ea", "#3b4754"


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[int]
    fill: str


def nice_step(value: int, ticks: int = 4) -> int:
    """The gridline step: the smallest of 1, 2, 5 x 10^k with ``ticks`` steps reaching ``value``."""
    need = max(value, 1) / ticks
    power = 10 ** math.floor(math.log10(need)) if need >= 1 else 1
    for step in (1, 2, 5, 10):
        if step * power >= need:
            return step * power
    return 10 * power  # pragma: no cover (the loop always returns)


def hourly_bars(title: str, description: str, series: Sequence[Series], chart_id: str = "chart") -> str:
    """Grouped bars, one group per hour 0-23; ``series`` share the y axis (whole numbers)."""
    hours = len(series[0].values)
    step = nice_step(max((max(s.values, default=0) for s in series), default=0))
    top = step * 4
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / hours
    bar = group * 0.8 / len(series)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for i in range(5):  # gridlines and y labels
        value = step * i
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        label = f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="{INK}">'
        parts.append(f"{label}{value}</text>")
    for hour in range(hours):
        x0 = LEFT + group * hour + group * 0.1
        for index, s in enumerate(series):
            value = s.values[hour]
            h = plot_h * value / top
            x = x0 + bar * index
            parts.append(
                f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{s.fill}" rx="1.5"><title>{hour:02d}:00 {escape(s.label)}: {value}</title></rect>'
            )
        if hour % 3 == 0:
            parts.append(
                f'<text x="{LEFT + group * (hour + 0.5):.1f}" y="{TOP + plot_h + 18}" text-anchor="middle" '
                f'font-size="12" fill="{INK}">{hour}h</text>'
            )
    parts.append(_legend(series, TOP + plot_h + 38))
    parts.append("</svg>")
    return "".join(parts)


def _legend(series: Sequence[Series], y: float) -> str:
    out, x = [], float(LEFT)
    for s in series:
        out.append(f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="12" height="12" fill="{s.fill}" rx="2"/>')
        out.append(f'<text x="{x + 18:.0f}" y="{y:.0f}" font-size="13" fill="{INK}">{escape(s.label)}</text>')
        x += 30 + 7.5 * len(s.label)
    return "".join(out)


ROW_H, LABEL_W = 26, 170


def ranked_bars(
    title: str,
    description: str,
    rows: Sequence[tuple[str, Sequence[int]]],
    series: Sequence[Series],
    chart_id: str,
) -> str:
    """Horizontal stacked bars, one row per label (already ranked), ``series`` giving the fills and
    legend; each row's values are in series order. Labels longer than the gutter are cut with "…"."""
    top = max((sum(values) for _, values in rows), default=0)
    scale = nice_step(top) * 4
    height = TOP + ROW_H * max(len(rows), 1) + 40
    plot_w = WIDTH - LABEL_W - RIGHT - 40
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]
    for index, (label, values) in enumerate(rows):
        y = TOP + ROW_H * index
        shown = label if len(label) <= 22 else label[:21] + "…"
        parts.append(
            f'<text x="{LABEL_W - 8}" y="{y + 17}" text-anchor="end" font-size="13" fill="{INK}">'
            f"{escape(shown)}<title>{escape(label)}</title></text>"
        )
        x = float(LABEL_W)
        for s, value in zip(series, values, strict=True):
            w = plot_w * value / scale
            parts.append(
                f'<rect x="{x:.1f}" y="{y + 4}" width="{w:.1f}" height="{ROW_H - 8}" '
                f'fill="{s.fill}" rx="1.5">'
                f"<title>{escape(label)} · {escape(s.label)}: {value}</title></rect>"
            )
            x += w
        parts.append(f'<text x="{x + 6:.1f}" y="{y + 17}" font-size="12" fill="{INK}">{sum(values)}</text>')
    if not rows:
        parts.append(f'<text x="{LABEL_W}" y="{TOP + 17}" font-size="13" fill="{INK}">—</text>')
    parts.append(_legend(series, height - 12))
    parts.append("</svg>")
    return "".join(parts)
