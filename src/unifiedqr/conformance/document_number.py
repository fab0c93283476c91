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

from unifiedqr.conformance.glyphs import SHORT_GLYPH, Prefix, glyph_heights
from unifiedqr.conformance.ocr import Box, Line, Word
from unifiedqr.conformance.reading import Candidate, Expected, FieldReading, Status, close, is_mask, labelled

Gray = npt.NDArray[np.uint8]
#: (status, form, mask glyphs counted) of one token.
Verdict = tuple[Status, str, int | None]

#: OCR look-alikes of digits inside a number.
_LOOKALIKES: Final = str.maketrans({"O": "0", "o": "0", "Q": "0", "I": "1", "l": "1", "|": "1", "!": "1"})
#: ID numbers are 9 or 12 characters (passports 6-9); one OCR slip either way is still one.
_ID_LENGTHS: Final = (8, 9, 10, 11, 12, 13)
_PHONE: Final = re.compile(r"0[0-9]{9}")
#: Characters a document number token may hold: letters and digits, and mask glyphs in front.
_ID_SHAPED: Final = re.compile(r"[^\s/.:-]*[0-9A-Za-z|!]")


@dataclass(frozen=True)
class Token:
    text: str
    box: Box
    whole_word: bool  # the token is a whole OCR word (its box holds nothing else)


def tokens(line: Line) -> Iterable[Token]:
    """Words (after any ``label:``), and runs of words joined where OCR or the app split one number."""
    words = list(line.words)
    for word in words:
        text = word.text.rsplit(":", 1)[-1].strip(".,;()[]")
        if text:
            yield Token(text, word.box, text == word.text.strip(".,;()[]"))
    start = 0
    while start < len(words):
        joined: list[Word] = [words[start]]
        for word in words[start + 1 :]:
            previous = joined[-1]
            height = max(previous.box[3] - previous.box[1], 1)
            # digit groups ("0010 9302 9317"), or a mask then the digits ("****** 029317")
            after = re.search(r"[0-9]$", previous.text) or (len(joined) == 1 and is_mask(previous.text))
            if not (re.fullmatch(r"[0-9]{1,6}", word.text) and after):
                break
            if word.box[0] - previous.box[2] > height:
                break
            joined.append(word)
        if len(joined) >= 2:  # only whole runs: a run's tail ("8586 1711 00" of a QID) is no number
            text = "".join(w.text for w in joined).rsplit(":", 1)[-1]
            box = (
                joined[0].box[0],
                min(w.box[1] for w in joined),
                joined[-1].box[2],
                max(w.box[3] for w in joined),
            )
            yield Token(text, box, False)
        start += len(joined)


def _prefix_form(prefix: str, glyphs: Prefix | None, expected: Expected) -> tuple[str, int | None] | None:
    """The form of what precedes the visible digits: full, partly-masked, masked; None: no ID here."""
    hidden = (
        None
        if expected.document_masked
        else expected.document[: len(expected.document) - len(expected.visible_suffix)]
    )
    mapped = prefix.translate(_LOOKALIKES)
    heights = glyphs.heights if glyphs else None
    short = [h < SHORT_GLYPH for h in heights] if heights else []
    glyph_mask = bool(short) and all(short)
    mask_count = len(short) if glyph_mask and glyphs is not None and glyphs.countable else None
    if not prefix:
        # only the last digits, no mask in front: this person's, but not the spec's form
        return ("masked-more", None) if len(expected.visible_suffix) >= 6 else None
    if mapped.isdigit():
        if hidden is not None:
            if close(mapped, hidden):
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


def judge(token: Token, expected: Expected, gray: Gray | None) -> Verdict | None:
    """(status, form, mask glyphs) of one token, or None when it is not a document number."""
    numeric = expected.document.lstrip("*").isdigit()
    text = token.text if numeric else token.text.upper()
    suffix = expected.visible_suffix
    if len(text) > 20 or not _ID_SHAPED.fullmatch(text):
        return None
    mapped = text.translate(_LOOKALIKES) if numeric else text
    if mapped == expected.qid:
        return None
    if mapped.isalnum() and not expected.document_masked and close(mapped, expected.document):
        return ("match", "full", None)
    for cut in (len(suffix), len(suffix) + 1, len(suffix) - 1):
        if cut < 2 or len(text) < cut or not close(mapped[-cut:], suffix):
            continue
        prefix = text[: len(text) - cut]
        glyphs = None
        if token.whole_word and gray is not None and prefix:
            # the image holds the number's real digits, whatever the OCR inserted or dropped
            glyphs = glyph_heights(gray, token.box, len(suffix))
        form = _prefix_form(prefix, glyphs, expected)
        if form is not None:
            return ("match", form[0], form[1])
    return _other(text, mapped, suffix)


def _other(text: str, mapped: str, suffix: str) -> Verdict | None:
    """Someone else's number: ID-shaped (8-13 characters, not a 10-digit phone), maybe masked in front."""
    digits = re.search(r"[0-9]+$", mapped)
    if not digits or len(digits.group(0)) < 3 or len(text) not in _ID_LENGTHS:
        return None
    head = text[: len(text) - len(digits.group(0))]
    if head and is_mask(head) and suffix.endswith(digits.group(0)):
        return ("match", "masked-more", None)  # hides more than the spec: still this person's digits
    if not head:
        if _PHONE.fullmatch(mapped):
            return None
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
                Candidate(
                    status,
                    form,
                    token.text,
                    line.text,
                    token.box,
                    is_labelled,
                    mask_glyphs=glyphs,
                    variant=line.variant,
                )
            )
    return FieldReading("document", tuple(candidates))
