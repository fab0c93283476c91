"""Reading the document number on the screen: which of its characters are shown, and how.

The masked form (``******029317``) is the hard case for OCR: Tesseract reads a run of asterisks as
``***+#+**#``, ``x*t#£+t`` or even ``x4eee©+``. So the visible digits decide and the mask is judged by
its shape:

1. A token (a word after any ``label:``, or digit groups joined: ``0010 9302 9317``, ``**…*01 3579``)
   is a candidate when it *ends* with the expected visible digits (the number after its first six
   characters; one wrong digit in six or more is tolerated, look-alike letters ``O l I | Q`` read as
   digits).
2. What comes before them is the *prefix*. Digits there that continue the person's number are a leak
   (``partly-masked``, or ``full`` when all are there). Otherwise the prefix is a mask when the glyphs
   in the image are short ones (an asterisk, a bullet or an ``x`` does not reach the digits' height:
   ink column runs measured on the screenshot, which also counts them), or, without the image, when
   the OCR text looks like one (no digits, a mask-like glyph).
3. A token that does not end with this person's digits but has the shape of an ID number (9 or 12
   characters, masked or not) is ``other``: someone else's number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt

from unifiedqr.conformance.ocr import Box, Line, Word
from unifiedqr.conformance.reading import Candidate, Expected, FieldReading, hamming_ok, is_mask, labelled

Gray = npt.NDArray[np.uint8]

#: OCR look-alikes of digits inside a number.
_LOOKALIKES: Final = str.maketrans({"O": "0", "o": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "!": "1"})
#: A mask glyph's ink is shorter than this share of the digits' height.
SHORT_GLYPH: Final = 0.8
_ID_LENGTHS: Final = (9, 12)


@dataclass(frozen=True)
class Token:
    text: str
    box: Box
    whole_word: bool  # the token is a whole OCR word (its box holds nothing else)


def tokens(line: Line) -> Iterable[Token]:
    """Words (after any ``label:``) and runs of words joined where OCR split one number."""
    words = list(line.words)
    for word in words:
        text = word.text.rsplit(":", 1)[-1].strip(".,;()[]")
        if text:
            yield Token(text, word.box, text == word.text.strip(".,;()[]"))
    for start in range(len(words)):
        joined: list[Word] = [words[start]]
        for word in words[start + 1 :]:
            previous = joined[-1]
            height = max(previous.box[3] - previous.box[1], 1)
            if not (re.fullmatch(r"[0-9]{1,6}", word.text) and re.search(r"[0-9]$", previous.text)):
                break
            if word.box[0] - previous.box[2] > height:
                break
            joined.append(word)
        if len(joined) >= 2:
            text = "".join(w.text for w in joined).rsplit(":", 1)[-1]
            box = (joined[0].box[0], min(w.box[1] for w in joined), joined[-1].box[2],
                   max(w.box[3] for w in joined))
            yield Token(text, box, False)


def glyph_heights(gray: Gray, box: Box, visible: int) -> list[float] | None:
    """Heights (relative to the visible characters') of the glyphs before the last ``visible`` glyphs
    of a word, nearest first, up to a word gap. None when the word cannot be cut into glyphs."""
    left, top, right, bottom = box
    height, width = gray.shape
    pad = max(2, (bottom - top) // 6)
    crop = gray[max(top - pad, 0) : min(bottom + pad, height), max(left - 1, 0) : min(right + 2, width)]
    if crop.size == 0 or crop.shape[1] < 4 or crop.shape[0] < 4:
        return None
    values = crop.astype(np.float64)
    border = np.concatenate((values[0], values[-1], values[:, 0], values[:, -1]))
    background = float(np.median(border))
    spread = float(np.max(np.abs(values - background)))
    if spread < 30:
        return None
    ink = np.abs(values - background) > spread * 0.45
    columns = ink.any(axis=0)
    runs: list[tuple[int, int, int]] = []  # start, end, ink height
    start = None
    for x, on in enumerate([*columns.tolist(), False]):
        if on and start is None:
            start = x
        elif not on and start is not None:
            rows = np.flatnonzero(ink[:, start:x].any(axis=1))
            runs.append((start, x, int(rows[-1] - rows[0] + 1)))
            start = None
    if len(runs) <= visible:
        return None
    digits = runs[-visible:]
    digit_height = float(np.median([h for _, _, h in digits]))
    gaps = [b[0] - a[1] for a, b in zip(digits, digits[1:], strict=False)] or [1]
    word_gap = max(3 * float(np.median(gaps)), digit_height * 0.5)
    out: list[float] = []
    edge = digits[0][0]
    for run_start, run_end, ink_height in reversed(runs[:-visible]):
        if edge - run_end > word_gap:
            break
        out.append(ink_height / digit_height)
        edge = run_start
    return out


def _prefix_form(
    prefix: str, heights: list[float] | None, expected: Expected
) -> tuple[str, int | None] | None:
    """The form of what precedes the visible digits: full, partly-masked, masked; None: no ID here."""
    hidden = None if expected.document_masked else expected.document[: len(expected.document) - len(expected.visible_suffix)]
    mapped = prefix.translate(_LOOKALIKES)
    short = [h < SHORT_GLYPH for h in heights] if heights else []
    glyph_mask = bool(short) and all(short)
    mask_count = len(short) if glyph_mask else None
    if not prefix:
        # only the last digits, no mask in front: this person's, but not the spec's form
        return ("masked-more", None) if len(expected.visible_suffix) >= 6 else None
    if mapped.isdigit():
        if hidden is not None:
            if len(mapped) == len(hidden) and hamming_ok(mapped, hidden):
                return ("full", None)
            if len(mapped) < len(hidden) and hidden.endswith(mapped):
                return ("partly-masked", None)
        elif len(mapped) == 6:
            return ("full", None)  # a safe code cannot confirm the hidden digits; their count is right
        return ("masked", mask_count) if glyph_mask else None
    digits_tail = re.search(r"[0-9]*$", mapped)
    tail = digits_tail.group(0) if digits_tail else ""
    if tail and hidden is not None and hidden.endswith(tail):
        tall_tail = heights is None or all(h >= SHORT_GLYPH for h in heights[: len(tail)])
        if tall_tail:
            return ("partly-masked", None)
    if glyph_mask or is_mask(prefix):
        return ("masked", mask_count if glyph_mask else None)
    return None


def judge(token: Token, expected: Expected, gray: Gray | None) -> tuple[str, str, int | None] | None:
    """(status, form, mask glyphs) of one token, or None when it is not a document number."""
    numeric = expected.document.lstrip("*").isdigit()
    text = token.text.upper() if not numeric else token.text
    suffix = expected.visible_suffix
    if len(text) > 20 or text == expected.qid:
        return None
    end = text[-len(suffix) :].translate(_LOOKALIKES) if numeric else text[-len(suffix) :]
    if len(text) >= len(suffix) and hamming_ok(end, suffix):
        prefix = text[: len(text) - len(suffix)]
        heights = None
        if token.whole_word and gray is not None and prefix:
            heights = glyph_heights(gray, token.box, len(suffix))
        form = _prefix_form(prefix, heights, expected)
        if form is not None:
            return ("match", form[0], form[1])
    # someone else's number: an ID-shaped token (digits, maybe masked in front)
    body = re.sub(r"[^0-9A-Za-z*#+•·xX]", "", text)
    digits = re.search(r"[0-9]+$", body.translate(_LOOKALIKES))
    if digits and len(body) in _ID_LENGTHS and len(digits.group(0)) >= 3:
        head = body[: len(body) - len(digits.group(0))]
        if head and is_mask(head) and suffix.endswith(digits.group(0)):
            return ("match", "masked-more", None)  # hides more than the spec: this person's digits
        if not head:
            return ("other", "full", None)
        if is_mask(head):
            return ("other", "masked", None)
    return None


def read_document(lines: Sequence[Line], expected: Expected, gray: Gray | None) -> FieldReading:
    candidates: list[Candidate] = []
    for line in lines:
        is_labelled: bool | None = None
        for token in tokens(line):
            verdict = judge(token, expected, gray)
            if verdict is None:
                continue
            if is_labelled is None:
                is_labelled = labelled(line, lines, "document")
            status, form, glyphs = verdict
            candidates.append(
                Candidate(status, form, token.text, line.text, token.box, is_labelled,  # type: ignore[arg-type]
                          mask_glyphs=glyphs, variant=line.variant)
            )
    return FieldReading("document", tuple(candidates))
