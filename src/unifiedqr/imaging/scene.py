"""A tiny vector scene (boxes, polylines, dots, text) and its two writers: SVG text and PNG (Pillow).

Why our own and not matplotlib or graphviz: the tracing pictures need a dozen primitives, and
one layout drawn by two writers keeps the SVG and the PNG the same picture by construction. See
docs/decisions.md for the measurements. Both writers are deterministic (fixed number formatting,
no time stamps, the shipped DejaVu Sans with Pillow's BASIC layout), so golden tests can compare.

Coordinates are in pixels of the PNG at ``scale=1``; text ``y`` is the baseline; ``anchor`` is
``start``, ``middle`` or ``end`` as in SVG.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

from unifiedqr.imaging.card import font
from unifiedqr.imaging.render import png_bytes

Colour = tuple[int, int, int]
Anchor = Literal["start", "middle", "end"]
Point = tuple[float, float]
FONT_FAMILY: Final = "DejaVu Sans, Verdana, sans-serif"
DASH: Final = (6.0, 4.0)
_PIL_ANCHOR: Final = {"start": "ls", "middle": "ms", "end": "rs"}


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    fill: Colour | None = None
    stroke: Colour | None = None
    width: float = 1.0
    radius: float = 0.0
    dashed: bool = False


@dataclass(frozen=True)
class Poly:
    """A polyline (``closed``: a polygon, filled with ``fill`` if given)."""

    points: tuple[Point, ...]
    stroke: Colour | None = None
    width: float = 1.0
    fill: Colour | None = None
    closed: bool = False
    dashed: bool = False


@dataclass(frozen=True)
class Dot:
    cx: float
    cy: float
    r: float
    fill: Colour | None = None
    stroke: Colour | None = None
    width: float = 1.0


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: int = 13
    fill: Colour = (20, 24, 28)
    bold: bool = False
    anchor: Anchor = "start"


Shape = Rect | Poly | Dot | Text


@dataclass(frozen=True)
class Scene:
    width: int
    height: int
    shapes: tuple[Shape, ...]
    background: Colour = (255, 255, 255)
    title: str = ""


def text_width(text: str, size: int, bold: bool = False) -> float:
    return float(font(size, bold).getlength(text))


def fit(text: str, size: int, width: float, bold: bool = False) -> str:
    """``text`` cut with an ellipsis so that it is at most ``width`` pixels wide."""
    if text_width(text, size, bold) <= width:
        return text
    while text and text_width(text + "…", size, bold) > width:
        text = text[:-1]
    return text.rstrip() + "…"


# --------------------------------------------------------------------------------------------------
# SVG
# --------------------------------------------------------------------------------------------------


def _n(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _hex(colour: Colour | None) -> str:
    return "none" if colour is None else "#{:02x}{:02x}{:02x}".format(*colour)


def _stroke(stroke: Colour | None, width: float, dashed: bool) -> str:
    if stroke is None:
        return ' stroke="none"'
    dash = f' stroke-dasharray="{_n(DASH[0])} {_n(DASH[1])}"' if dashed else ""
    return f' stroke="{_hex(stroke)}" stroke-width="{_n(width)}"{dash}'


def _svg_shape(shape: Shape) -> str:
    if isinstance(shape, Rect):
        radius = f' rx="{_n(shape.radius)}"' if shape.radius else ""
        return (
            f'<rect x="{_n(shape.x)}" y="{_n(shape.y)}" width="{_n(shape.w)}" height="{_n(shape.h)}"{radius}'
            f' fill="{_hex(shape.fill)}"{_stroke(shape.stroke, shape.width, shape.dashed)}/>'
        )
    if isinstance(shape, Poly):
        points = " ".join(f"{_n(x)},{_n(y)}" for x, y in shape.points)
        tag = "polygon" if shape.closed else "polyline"
        return (
            f'<{tag} points="{points}" fill="{_hex(shape.fill)}"'
            f"{_stroke(shape.stroke, shape.width, shape.dashed)}/>"
        )
    if isinstance(shape, Dot):
        return (
            f'<circle cx="{_n(shape.cx)}" cy="{_n(shape.cy)}" r="{_n(shape.r)}" fill="{_hex(shape.fill)}"'
            f"{_stroke(shape.stroke, shape.width, False)}/>"
        )
    weight = ' font-weight="bold"' if shape.bold else ""
    return (
        f'<text x="{_n(shape.x)}" y="{_n(shape.y)}" font-size="{shape.size}"{weight}'
        f' text-anchor="{shape.anchor}" fill="{_hex(shape.fill)}">{escape(shape.text)}</text>'
    )


def to_svg(scene: Scene) -> str:
    """The scene as a standalone SVG document (UTF-8 text; Vietnamese as is, escaped for XML)."""
    title = f"<title>{escape(scene.title)}</title>" if scene.title else ""
    body = "\n".join(_svg_shape(s) for s in scene.shapes)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{scene.width}" '
        f'height="{scene.height}" viewBox="0 0 {scene.width} {scene.height}" '
        f'font-family="{FONT_FAMILY}">{title}\n'
        f'<rect width="{scene.width}" height="{scene.height}" fill="{_hex(scene.background)}"/>\n'
        f"{body}\n</svg>\n"
    )


# --------------------------------------------------------------------------------------------------
# PNG
# --------------------------------------------------------------------------------------------------


def _dashes(points: Sequence[Point]) -> list[tuple[Point, Point]]:
    """The visible pieces of a dashed polyline (the same pattern as SVG's dasharray)."""
    on, off = DASH
    pieces: list[tuple[Point, Point]] = []
    phase, drawing = 0.0, True
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        length = math.hypot(x2 - x1, y2 - y1)
        done = 0.0
        while done < length:
            step = min((on if drawing else off) - phase, length - done)
            if drawing:
                a, b = done / length, (done + step) / length
                pieces.append(
                    ((x1 + (x2 - x1) * a, y1 + (y2 - y1) * a), (x1 + (x2 - x1) * b, y1 + (y2 - y1) * b))
                )
            done += step
            phase += step
            if phase >= (on if drawing else off) - 1e-9:
                phase, drawing = 0.0, not drawing
    return pieces


def _line(
    draw: ImageDraw.ImageDraw, points: Sequence[Point], colour: Colour, width: int, dashed: bool
) -> None:
    if dashed:
        for a, b in _dashes(points):
            draw.line([a, b], fill=colour, width=width)
    else:
        draw.line(list(points), fill=colour, width=width, joint="curve")


def _png_shape(draw: ImageDraw.ImageDraw, shape: Shape, k: float) -> None:
    if isinstance(shape, Rect):
        box = (shape.x * k, shape.y * k, (shape.x + shape.w) * k, (shape.y + shape.h) * k)
        width = max(1, round(shape.width * k))
        if shape.dashed and shape.stroke is not None:
            draw.rounded_rectangle(box, radius=shape.radius * k, fill=shape.fill)
            x1, y1, x2, y2 = box
            _line(draw, [(x1, y1), (x2, y1), (x2, y2), (x1, y2), (x1, y1)], shape.stroke, width, True)
        else:
            draw.rounded_rectangle(
                box, radius=shape.radius * k, fill=shape.fill, outline=shape.stroke, width=width
            )
    elif isinstance(shape, Poly):
        points = [(x * k, y * k) for x, y in shape.points]
        if shape.closed:
            draw.polygon(points, fill=shape.fill, outline=None if shape.dashed else shape.stroke)
        if shape.stroke is not None and (not shape.closed or shape.dashed):
            _line(draw, points, shape.stroke, max(1, round(shape.width * k)), shape.dashed)
    elif isinstance(shape, Dot):
        r = shape.r * k
        box = (shape.cx * k - r, shape.cy * k - r, shape.cx * k + r, shape.cy * k + r)
        draw.ellipse(box, fill=shape.fill, outline=shape.stroke, width=max(1, round(shape.width * k)))
    else:
        face = font(max(6, round(shape.size * k)), shape.bold)
        draw.text(
            (shape.x * k, shape.y * k),
            shape.text,
            font=face,
            fill=shape.fill,
            anchor=_PIL_ANCHOR[shape.anchor],
        )


def to_image(scene: Scene, scale: float = 1.0) -> Image.Image:
    image = Image.new("RGB", (round(scene.width * scale), round(scene.height * scale)), scene.background)
    draw = ImageDraw.Draw(image)
    for shape in scene.shapes:
        _png_shape(draw, shape, scale)
    return image


def to_png(scene: Scene, scale: float = 1.0) -> bytes:
    """The scene as PNG; ``scale`` 2 gives a sharp picture for high-density screens."""
    return png_bytes(to_image(scene, scale))
