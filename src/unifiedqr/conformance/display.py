"""What the screen shows beside the code, read from OCR lines and compared with the code's fields.

Pure functions: lines of text (and the screenshot, to count mask glyphs) in, one :class:`FieldReading`
per field out. The rules, and why they are tolerant where they are:

- **Name**: compared *folded* (diacritics removed, ``Đ`` → ``D``, upper case: the code's own form, so
  ``Nguyễn Lê Kha Hân`` and ``NGUYỄN LÊ KHA HÂN`` both match ``NGUYEN LE KHA HAN``) against every run
  of whole words of every line, and of every pair of adjacent lines (a long name wraps). A run matches
  when its edit distance is at most :func:`name_tolerance` of the name's length: OCR drops or swaps a
  letter in a long Vietnamese name; it does not turn one person's name into another's. Measured on the
  corpus in ``docs/decisions.md``.
- **Document number**: see :mod:`unifiedqr.conformance.document_number` (the visible digits decide,
  the mask is judged by the glyphs' shape in the image).
- **Birth date**: ``YYYY-MM-DD``, ``DD/MM/YYYY`` (and ``.``/``-`` separators), ``YYYY-**-**`` and
  ``**/**/YYYY`` with any mask-like glyphs; the year decides whether it is this person's.

Across OCR variants the best reading wins (a match over another value over nothing): OCR noise can hide
a match but cannot make one.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from unifiedqr.codes.payload import PersonalCode
from unifiedqr.conformance.document_number import read_document
from unifiedqr.conformance.ocr import Box, Line
from unifiedqr.conformance.reading import (
    LABELS,
    SURNAMES,
    Candidate,
    Expected,
    FieldReading,
    edit_distance,
    is_mask,
    labelled,
    letters_only,
    name_tolerance,
)


# -- name ---------------------------------------------------------------------------------------------
def _word_runs(words: Sequence[str], size: int) -> Iterable[tuple[int, int]]:
    for length in (size - 1, size, size + 1):
        if length < 1:
            continue
        for start in range(0, len(words) - length + 1):
            yield start, start + length


def read_name(lines: Sequence[Line], expected: Expected) -> FieldReading:
    target = expected.name
    size = len(target.split())
    candidates: list[Candidate] = []
    pools: list[tuple[str, Box, str]] = [(letters_only(line.text), line.box, line.text) for line in lines]
    for upper, lower in itertools.pairwise(lines):
        if 0 <= lower.box[1] - upper.box[3] <= (upper.box[3] - upper.box[1]) * 1.5:
            joined = f"{upper.text} {lower.text}"
            box = (
                min(upper.box[0], lower.box[0]),
                upper.box[1],
                max(upper.box[2], lower.box[2]),
                lower.box[3],
            )
            pools.append((letters_only(joined), box, joined))
    best: tuple[int, str, Box, str] | None = None
    for folded, box, raw in pools:
        words = folded.split()
        for start, end in _word_runs(words, size):
            run = " ".join(words[start:end])
            distance = edit_distance(run, target)
            if best is None or distance < best[0]:
                best = (distance, run, box, raw)
    if best is not None and best[0] <= name_tolerance(len(target)):
        candidates.append(Candidate("match", "name", best[1], best[3], best[2], distance=best[0]))
    else:
        for line in lines:
            shown = _other_name(line, lines)
            if shown:
                candidates.append(
                    Candidate("other", "name", shown, line.text, line.box, labelled(line, lines, "name"))
                )
    return FieldReading("name", tuple(candidates))


def _other_name(line: Line, lines: Sequence[Line]) -> str | None:
    """The name a line shows when it looks like one (labelled, or a family name and letters only)."""
    text = line.text
    if ":" in text:
        label, _, value = text.partition(":")
        if any(letters_only(label) == lab for lab in LABELS["name"]) and letters_only(value):
            return letters_only(value)
    folded_words = letters_only(text).split()
    if not 2 <= len(folded_words) <= 7 or re.search(r"[0-9*]", text):
        return None
    if any(letters_only(text).startswith(label) for labels in LABELS.values() for label in labels):
        return None
    if folded_words[0] in SURNAMES or labelled(line, lines, "name"):
        return " ".join(folded_words)
    return None


# -- birth date ---------------------------------------------------------------------------------------
_FULL_ISO = re.compile(r"(?<![0-9])([0-9]{4})[-/.]([0-9]{1,2})[-/.]([0-9]{1,2})(?![0-9])")
_FULL_DMY = re.compile(r"(?<![0-9])([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})(?![0-9])")
#: ``-`` after the year; small type's hyphen often comes back from the OCR as ``.`` or ``_``.
_MASKED_ISO = re.compile(r"(?<![0-9])([0-9]{4})[-._‐–](\S{2,9})")
_MASKED_DMY = re.compile(r"(\S{2,9})[-/.]([0-9]{4})(?![0-9])")
_YEAR = re.compile(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])")


def _date_tokens(text: str) -> Iterable[tuple[str, str, tuple[int, int | None, int | None]]]:
    """(form, token, (year, month, day)) for each date-like token of a line (month/day None: masked)."""
    squeezed = re.sub(r"\s*([-/.])\s*", r"\1", text)
    for match in _FULL_ISO.finditer(squeezed):
        yield "full-iso", match.group(0), (int(match[1]), int(match[2]), int(match[3]))
    for match in _FULL_DMY.finditer(squeezed):
        yield "full-dmy", match.group(0), (int(match[3]), int(match[2]), int(match[1]))
    for match in _MASKED_ISO.finditer(squeezed):
        rest = match[2].rstrip(".,;)")
        if is_mask(re.sub(r"[-._‐–]", "", rest)) and not any(c.isdigit() for c in rest):
            yield "masked-iso", f"{match[1]}-{rest}", (int(match[1]), None, None)
    for match in _MASKED_DMY.finditer(squeezed):
        rest = match[1].lstrip("(:")
        rest = rest.rsplit(":", 1)[-1]
        if is_mask(rest.replace("/", "").replace(".", "").replace("-", "")):
            yield "masked-dmy", f"{rest}/{match[2]}", (int(match[2]), None, None)


def read_birth_date(lines: Sequence[Line], expected: Expected) -> FieldReading:
    year = int(expected.birth_date[:4])
    month_day = (
        None if expected.birth_masked else (int(expected.birth_date[5:7]), int(expected.birth_date[8:10]))
    )
    candidates: list[Candidate] = []
    for line in lines:
        found = list(_date_tokens(line.text))
        has_label = labelled(line, lines, "birth_date")
        if not found and has_label:
            found = [("year-only", m[1], (int(m[1]), None, None)) for m in _YEAR.finditer(line.text)]
        for form, token, (y, m, d) in found:
            if form.startswith("full"):
                ok = y == year and (month_day is None or (m, d) == month_day)
            else:
                ok = y == year
            candidates.append(
                Candidate(
                    "match" if ok else "other",
                    form,
                    token,
                    line.text,
                    line.box,
                    has_label,
                    variant=line.variant,
                )
            )
    return FieldReading("birth_date", tuple(candidates))


@dataclass(frozen=True)
class DisplayReading:
    name: FieldReading = field(default_factory=lambda: FieldReading("name"))
    document: FieldReading = field(default_factory=lambda: FieldReading("document"))
    birth_date: FieldReading = field(default_factory=lambda: FieldReading("birth_date"))

    def fields(self) -> tuple[FieldReading, FieldReading, FieldReading]:
        return (self.name, self.document, self.birth_date)

    @property
    def document_conclusive(self) -> bool:
        """The number was read whole or with its mask; only its last digits (the mask lost by the OCR,
        or a shorter form) is worth another look."""
        return any(c.form in ("full", "masked", "partly-masked") for c in self.document.matches)

    @property
    def complete(self) -> bool:
        birth = any(c.form != "year-only" for c in self.birth_date.matches)  # the mask may be lost
        return self.name.status == "match" and birth and self.document_conclusive

    def merged(self, other: DisplayReading) -> DisplayReading:
        return DisplayReading(
            self.name.merged(other.name),
            self.document.merged(other.document),
            self.birth_date.merged(other.birth_date),
        )


def read_display(
    lines: Sequence[Line], code: PersonalCode, gray: npt.NDArray[np.uint8] | None = None
) -> DisplayReading:
    expected = Expected.of(code)
    return DisplayReading(
        read_name(lines, expected),
        read_document(lines, expected, gray),
        read_birth_date(lines, expected),
    )
