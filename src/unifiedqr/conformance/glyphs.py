"""Glyphs as ink column runs: counting mask characters, and finding masked numbers OCR cannot read.

Tesseract reads a run of asterisks as noise: ``******509`` in a right-aligned column came back as
nothing at all, in every variant, on our corpus. But a masked number has a shape no OCR is needed to
see: a run of *short* glyphs (an asterisk, a bullet, an ``x`` does not reach the digits' height) right
before a run of *tall* ones. In a UI font every glyph is one run of inked columns (glyphs do not
touch), so cutting a word into glyphs is a column projection; only the tall part then goes to the OCR.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from unifiedqr.conformance.ocr import Box

Gray = npt.NDArray[np.uint8]

#: A mask glyph's ink is shorter than this share of the digits' height.
SHORT_GLYPH: Final = 0.8
#: At least this many mask glyphs and visible characters make a masked number.
MIN_MASK: Final = 3
MIN_VISIBLE: Final = 2


@dataclass(frozen=True)
class Glyph:
    left: int
    right: int  # exclusive
    top: int
    bottom: int  # inclusive

    @property
    def height(self) -> int:
        return self.bottom - self.top + 1

    @property
    def width(self) -> int:
        return self.right - self.left


def _ink(values: npt.NDArray[np.float64], background: float) -> npt.NDArray[np.bool_] | None:
    spread = float(np.max(np.abs(values - background))) if values.size else 0.0
    if spread < 30:
        return None
    return np.abs(values - background) > spread * 0.45


def glyph_runs(ink: npt.NDArray[np.bool_], x_offset: int = 0, y_offset: int = 0) -> list[Glyph]:
    """One glyph per run of inked columns, with the vertical extent of its ink."""
    columns = ink.any(axis=0)
    edges = np.flatnonzero(np.diff(np.concatenate(([False], columns, [False])).astype(np.int8)))
    out = []
    for start, end in zip(edges[::2], edges[1::2], strict=True):
        rows = np.flatnonzero(ink[:, start:end].any(axis=1))
        out.append(
            Glyph(
                int(start) + x_offset, int(end) + x_offset, int(rows[0]) + y_offset, int(rows[-1]) + y_offset
            )
        )
    return out


@dataclass(frozen=True)
class Prefix:
    """The glyphs before a word's visible characters: their heights relative to those characters'
    (nearest first), and whether they look alike enough to be counted (glyphs merged by blur or
    compression come out about twice as wide as the others)."""

    heights: tuple[float, ...]
    countable: bool


def glyph_heights(gray: Gray, box: Box, visible: int) -> Prefix | None:
    """The glyphs before the last ``visible`` glyphs of a word, up to a word gap; None when the word
    cannot be cut into glyphs."""
    left, top, right, bottom = box
    height, width = gray.shape
    pad = max(2, (bottom - top) // 6)
    crop = gray[max(top - pad, 0) : min(bottom + pad, height), max(left - 1, 0) : min(right + 2, width)]
    if crop.size == 0 or crop.shape[1] < 4 or crop.shape[0] < 4:
        return None
    values = crop.astype(np.float64)
    border = np.concatenate((values[0], values[-1], values[:, 0], values[:, -1]))
    ink = _ink(values, float(np.median(border)))
    if ink is None:
        return None
    runs = glyph_runs(ink)
    if len(runs) <= visible:
        return None
    digits = runs[-visible:]
    digit_height = float(np.median([g.height for g in digits]))
    gaps = [b.left - a.right for a, b in itertools.pairwise(digits)] or [1]
    word_gap = max(3 * float(np.median(gaps)), digit_height * 0.5)
    before: list[Glyph] = []
    edge = digits[0].left
    for glyph in reversed(runs[:-visible]):
        if edge - glyph.right > word_gap:
            break
        before.append(glyph)
        edge = glyph.left
    widths = sorted(g.width for g in before)
    countable = bool(widths) and widths[-1] <= 1.5 * widths[len(widths) // 2] and digit_height >= 10
    return Prefix(tuple(g.height / digit_height for g in before), countable)


@dataclass(frozen=True)
class MaskedNumber:
    """A word made of ``mask`` short glyphs then tall ones; ``visible`` is the box of the tall part."""

    word: Box
    visible: Box
    mask: int


def _words(glyphs: Sequence[Glyph], gap: float) -> Iterable[list[Glyph]]:
    word: list[Glyph] = []
    for glyph in glyphs:
        if word and glyph.left - word[-1].right > gap:
            yield word
            word = []
        word.append(glyph)
    if word:
        yield word


def masked_numbers(gray: Gray, bands: Iterable[tuple[int, int]]) -> list[MaskedNumber]:
    """Masked numbers (short glyphs, then tall ones) in horizontal bands ``(top, bottom)`` of the screen."""
    height = gray.shape[0]
    found: dict[Box, MaskedNumber] = {}
    for band_top, band_bottom in bands:
        top, bottom = max(band_top, 0), min(band_bottom, height)
        if bottom - top < 6:
            continue
        values = gray[top:bottom].astype(np.float64)
        ink = _ink(values, float(np.median(values)))
        if ink is None:
            continue
        band_height = bottom - top
        glyphs = [g for g in glyph_runs(ink, 0, top) if g.width <= band_height and g.height >= 2]
        for word in _words(glyphs, band_height * 0.45):
            tall_height = max(g.height for g in word)
            tall = [g.height >= SHORT_GLYPH * tall_height for g in word]
            visible = 0
            while visible < len(word) and tall[len(word) - 1 - visible]:
                visible += 1
            mask = 0
            while mask < len(word) - visible and not tall[len(word) - visible - 1 - mask]:
                mask += 1
            if mask:  # a colon or a full stop in front ("CCCD: ****") is narrower than mask glyphs
                widths = sorted(g.width for g in word[len(word) - visible - mask : len(word) - visible])
                median = widths[len(widths) // 2]
                while mask and word[len(word) - visible - mask].width < 0.5 * median:
                    mask -= 1
            if visible < MIN_VISIBLE or mask < MIN_MASK:
                continue
            start = word[len(word) - visible - mask]
            tall_part = word[len(word) - visible :]
            word_box = (start.left, min(g.top for g in word), word[-1].right, max(g.bottom for g in word))
            visible_box = (
                tall_part[0].left,
                min(g.top for g in tall_part),
                tall_part[-1].right,
                max(g.bottom for g in tall_part),
            )
            found.setdefault(word_box, MaskedNumber(word_box, visible_box, mask))
    return list(found.values())
