"""What was read for a field, and the text helpers the field readers share.

A :class:`Candidate` is one piece of screen text that could be a field, judged against the code:
``match`` (this person's value, in some *form*), ``other`` (a value of the same kind that is not this
person's) or, when no candidate exists, ``missing``. The helpers are the tolerant comparisons the
readers use; their thresholds are measured on the corpus (``docs/decisions.md``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from unifiedqr.codes.payload import PersonalCode
from unifiedqr.conformance.ocr import Box, Line

Status = Literal["match", "other", "missing"]
FIELDS: Final = ("name", "document", "birth_date")

_FOLD_SPECIAL = str.maketrans({"Đ": "D", "đ": "D", "Ð": "D", "ð": "D"})
MASK_GLYPHS: Final = frozenset("*#+×xX•·●∙⋅✱∗※✲✳⁎")
#: Words of the labels apps put before each field (folded), to tell "another value" from "nothing".
LABELS: Final = {
    "name": ("HO TEN", "HO VA TEN", "TEN", "NAME", "FULL NAME", "HO TEN DAY DU"),
    "document": (
        "CCCD",
        "CMND",
        "CCCD/CMND",
        "SO GIAY TO",
        "GIAY TO",
        "SO DINH DANH",
        "HO CHIEU",
        "PASSPORT",
        "ID",
        "SO CCCD",
        "SO CMND",
        "DOCUMENT",
    ),
    "birth_date": ("NGAY SINH", "NAM SINH", "SINH NGAY", "DATE OF BIRTH", "BIRTH", "DOB"),
}
#: The commonest Vietnamese family names (over 90 % of the population): a line starting with one and
#: made only of letters is taken for a displayed name when the expected one is not found.
SURNAMES: Final = frozenset(
    (
        "NGUYEN",
        "TRAN",
        "LE",
        "PHAM",
        "HOANG",
        "HUYNH",
        "PHAN",
        "VU",
        "VO",
        "DANG",
        "BUI",
        "DO",
        "HO",
        "NGO",
        "DUONG",
        "LY",
        "DINH",
        "DAO",
        "DOAN",
        "TRUONG",
        "LAM",
        "MAI",
        "TRINH",
        "LUONG",
        "CAO",
        "QUACH",
        "TA",
        "LUU",
        "CHU",
        "KIEU",
        "THAI",
        "VUONG",
        "DIEP",
        "LAI",
        "TONG",
        "VI",
        "TANG",
        "HUA",
        "NONG",
        "KHUAT",
    )
)


@dataclass(frozen=True)
class Candidate:
    """One piece of text that could be the field: its status against the code, its form, where it is."""

    status: Status
    form: str
    seen: str
    line: str
    box: Box
    labelled: bool = False
    distance: int = 0
    mask_glyphs: int | None = None
    variant: str = "plain"


@dataclass(frozen=True)
class FieldReading:
    field: str
    candidates: tuple[Candidate, ...] = ()

    @property
    def matches(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.status == "match")

    @property
    def others(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.status == "other")

    @property
    def status(self) -> Status:
        return "match" if self.matches else "other" if self.others else "missing"

    @property
    def best(self) -> Candidate | None:
        pool = self.matches or self.others
        partial = ("masked-more", "year-only")  # a part of the value: a fuller reading says more
        return (
            sorted(pool, key=lambda c: (c.form in partial, not c.labelled, c.distance))[0] if pool else None
        )

    def merged(self, other: FieldReading) -> FieldReading:
        known = {(c.status, c.form, c.seen) for c in self.candidates}
        extra = tuple(c for c in other.candidates if (c.status, c.form, c.seen) not in known)
        return FieldReading(self.field, self.candidates + extra)


@dataclass(frozen=True)
class Expected:
    """The code's fields as the screen should show them (a masked code knows only part of them)."""

    name: str
    document: str
    document_masked: bool
    birth_date: str
    birth_masked: bool
    qid: str

    @classmethod
    def of(cls, code: PersonalCode) -> Expected:
        return cls(
            letters_only(code.full_name),  # a lenient code may carry diacritics or lower case
            code.document_number,
            code.document_masked,
            code.birth_date,
            code.birth_date_masked,
            code.qid,
        )

    @property
    def visible_suffix(self) -> str:
        """What the masked form shows: the document number after its first six characters."""
        return self.document[6:] if len(self.document) > 6 else self.document[-3:]


# -- text helpers -------------------------------------------------------------------------------------
def fold(text: str) -> str:
    """Upper case without diacritics (``Đ`` → ``D``), other characters kept."""
    decomposed = unicodedata.normalize("NFD", text.translate(_FOLD_SPECIAL))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).upper()


def letters_only(text: str) -> str:
    return " ".join(re.sub(r"[^A-Z]+", " ", fold(text)).split())


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance (insert, delete, substitute: 1 each)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def name_tolerance(length: int) -> int:
    """Edits allowed between the folded name and what OCR read: 1 per 8 characters, at least 1."""
    return max(1, length // 8)


def close(seen: str, expected: str) -> bool:
    """Equal, or one OCR slip apart (a digit inserted, dropped or misread) when 6 characters or more.

    Different people's ID numbers differ in many digits (even two CCCDs of one province and birth
    year share only their first 6), so one slip cannot make another person's number match."""
    if seen == expected:
        return True
    return len(expected) >= 6 and abs(len(seen) - len(expected)) <= 1 and edit_distance(seen, expected) <= 1


def is_mask(text: str) -> bool:
    return (
        2 <= len(text) <= 14
        and not any(ch.isdigit() for ch in text)
        and any(ch in MASK_GLYPHS for ch in text)
    )


def labelled(line: Line, lines: Sequence[Line], field_name: str) -> bool:
    """The line, or the line just above or to its left, carries a label of ``field_name``."""

    def has_label(text: str) -> bool:
        folded = f" {letters_only(text)} "
        return any(f" {label} " in folded for label in LABELS[field_name]) or (
            field_name == "document" and re.search(r"CCCD|CMND", fold(text)) is not None
        )

    if has_label(line.text):
        return True
    left, top, right, bottom = line.box
    height = max(bottom - top, 1)
    for other in lines:
        if other is line:
            continue
        o_left, o_top, o_right, o_bottom = other.box
        same_row = abs((o_top + o_bottom) / 2 - (top + bottom) / 2) < height * 0.6 and o_right <= left + 4
        above = 0 <= top - o_bottom <= height * 1.6 and o_left < right and o_right > left
        if (same_row or above) and has_label(other.text):
            return True
    return False
