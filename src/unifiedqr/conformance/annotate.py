"""Evidence images annotated for the reports: the code's outline, its quiet zone, and the text read.

- **Blue** outline: the symbol as the decoder located it.
- **Dashed orange** box: the 4-module quiet zone the spec requires; **green** (or **red** when short)
  box: the clear zone measured around the symbol.
- **Thin grey** boxes: every line of text the OCR read. **Green** / **red** boxes with a label: the
  field readings (name, document number, birth date) and what they said; red where a finding points.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from PIL import Image, ImageDraw

from unifiedqr.conformance.assessment import ScreenReport
from unifiedqr.conformance.findings import Finding, Severity
from unifiedqr.imaging.card import font

BLUE: Final = (37, 99, 235)
ORANGE: Final = (234, 140, 0)
GREEN: Final = (22, 163, 74)
RED: Final = (220, 38, 38)
GREY: Final = (140, 140, 150)
REQUIRED_MODULES: Final = 4.0


def _dashed_rectangle(
    draw: ImageDraw.ImageDraw, box: Sequence[float], colour: tuple[int, int, int], width: int, dash: int
) -> None:
    left, top, right, bottom = box
    for x0, y0, x1, y1 in (
        (left, top, right, top),
        (right, top, right, bottom),
        (left, bottom, right, bottom),
        (left, top, left, bottom),
    ):
        length = max(abs(x1 - x0), abs(y1 - y0))
        steps = max(int(length // (2 * dash)), 1)
        for step in range(steps + 1):
            a = min(step * 2 * dash, length)
            b = min(a + dash, length)
            if x0 == x1:
                draw.line((x0, y0 + a, x1, y0 + b), fill=colour, width=width)
            else:
                draw.line((x0 + a, y0, x0 + b, y1), fill=colour, width=width)


def _label(
    draw: ImageDraw.ImageDraw,
    at: tuple[float, float],
    text: str,
    colour: tuple[int, int, int],
    size: int,
    bounds: tuple[int, int],
) -> None:
    face = font(size)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=face)
    width, height = right - left + 8, bottom - top + 6
    x = min(max(at[0], 0), max(bounds[0] - width, 0))
    y = at[1] - height if at[1] - height >= 0 else at[1]
    y = min(y, max(bounds[1] - height, 0))
    draw.rectangle((x, y, x + width, y + height), fill=colour)
    draw.text((x + 4 - left, y + 3 - top), text, font=face, fill=(255, 255, 255))


@dataclass(frozen=True)
class _Pen:
    """The canvas and the sizes every mark is drawn with, scaled to the screenshot once."""

    draw: ImageDraw.ImageDraw
    stroke: int
    text_size: int
    bounds: tuple[int, int]

    def label(self, at: tuple[float, float], text: str, colour: tuple[int, int, int]) -> None:
        _label(self.draw, at, text, colour, self.text_size, self.bounds)


def annotate(image: Image.Image, report: ScreenReport, findings: Iterable[Finding]) -> Image.Image:
    """A copy of ``image`` with the reading and the findings drawn on it."""
    out = image.convert("RGB").copy()
    pen = _Pen(ImageDraw.Draw(out), max(2, out.width // 360), max(12, out.width // 45), out.size)
    # text regions first, so the field boxes and the code are drawn over them
    _draw_text_regions(pen, report)
    if report.corners:
        _draw_symbol(pen, report, report.corners)
    flagged = [
        f for f in findings if f.severity is Severity.ERROR and isinstance(f.details.get("region"), list)
    ]
    _draw_fields(pen, report, flagged)
    _draw_flagged_regions(pen, report, flagged)
    return out


def _draw_text_regions(pen: _Pen, report: ScreenReport) -> None:
    """Every line the OCR read, once (variants read the same line), thin so the marks stay legible."""
    seen: set[tuple[int, ...]] = set()
    for region in report.text:
        if region.box in seen:
            continue
        seen.add(region.box)
        pen.draw.rectangle(region.box, outline=GREY, width=max(1, pen.stroke // 2))


def _draw_symbol(pen: _Pen, report: ScreenReport, corners_read: Sequence[Sequence[float]]) -> None:
    """The code's outline as the decoder located it, its quiet zones, and its version and EC level."""
    corners = [tuple(p) for p in corners_read]
    pen.draw.line([*corners, corners[0]], fill=BLUE, width=pen.stroke)
    xs = [p[0] for p in corners]
    ys = [p[1] for p in corners]
    box = (min(xs), min(ys), max(xs), max(ys))
    _draw_quiet_zones(pen, box, report.quality or {})
    pen.label(
        (box[0], box[3] + pen.stroke + pen.text_size * 1.6),
        f"QR v{report.version or '?'} EC {report.ec_level or '?'}",
        BLUE,
    )


def _draw_quiet_zones(pen: _Pen, box: tuple[float, float, float, float], quality: Mapping[str, Any]) -> None:
    """The zone the spec requires (dashed) beside the one measured, so a short side shows at a glance."""
    module = float(quality.get("module_px") or 0)
    if not module:
        return
    need = REQUIRED_MODULES * module
    _dashed_rectangle(
        pen.draw,
        (box[0] - need, box[1] - need, box[2] + need, box[3] + need),
        ORANGE,
        pen.stroke,
        max(4, int(module)),
    )
    zone = quality.get("quiet_zone_modules") or {}
    if not zone:
        return
    clear = (
        box[0] - zone.get("left", 0) * module,
        box[1] - zone.get("top", 0) * module,
        box[2] + zone.get("right", 0) * module,
        box[3] + zone.get("bottom", 0) * module,
    )
    short = min(zone.values()) < REQUIRED_MODULES - 0.25
    pen.draw.rectangle(clear, outline=RED if short else GREEN, width=pen.stroke)
    pen.label((clear[0], clear[1]), f"quiet zone ≥ {min(zone.values()):.1f} modules", RED if short else GREEN)


def _draw_fields(pen: _Pen, report: ScreenReport, flagged: Sequence[Finding]) -> None:
    """Each field reading with what it said: green when it matched, red when it did not or is flagged."""
    for field in report.fields:
        if field.box is None:
            continue
        colour = GREEN if field.status == "match" else RED
        if any(f.details.get("region") == list(field.box) for f in flagged):
            colour = RED
        pen.draw.rectangle(field.box, outline=colour, width=pen.stroke)
        pen.label((field.box[0], field.box[1]), f"{field.field}: {field.seen}", colour)


def _draw_flagged_regions(pen: _Pen, report: ScreenReport, flagged: Sequence[Finding]) -> None:
    """Regions errors point at that no field box already outlines, so no error is left unmarked."""
    for item in flagged:
        pointed = item.details["region"]
        assert isinstance(pointed, list)
        if not any(list(f.box or ()) == pointed for f in report.fields) and len(pointed) == 4:
            pen.draw.rectangle(pointed, outline=RED, width=pen.stroke)


def thumbnail(image: Image.Image, max_width: int) -> Image.Image:
    if image.width <= max_width:
        return image
    height = round(image.height * max_width / image.width)
    return image.resize((max_width, height), Image.Resampling.LANCZOS)
