"""Vietnamese name folding for the HoTen field (spec §2, "Name normalisation").

Decomposition removes the tone and vowel marks, but ``Đ``/``đ`` is a letter of its own (not a D with
a combining mark), so it is mapped explicitly. NFC and NFD input fold to the same result.
"""

from __future__ import annotations

import re
import unicodedata

from unifiedqr.errors import NameFormatError

MAX_NAME_LENGTH = 100
_SPECIAL = str.maketrans({"Đ": "D", "đ": "D", "Ð": "D", "ð": "D", "Ø": "O", "ø": "O", "Æ": "AE", "æ": "AE"})
_STRICT_NAME = re.compile(r"[A-Z]+(?: [A-Z]+)*")
# Apostrophes and hyphens occur in foreign names on passports; folding drops them to keep HoTen A-Z.
_DROP = re.compile(r"['’`.\-]")


def fold_name(text: str, field: str = "HoTen") -> str:
    """Fold a name as people type it into the code's form: ``Nguyễn Lê  Kha Hân`` -> ``NGUYEN LE KHA HAN``."""
    if not isinstance(text, str):
        raise NameFormatError(field, "must be text")
    folded = text.translate(_SPECIAL)
    folded = unicodedata.normalize("NFD", folded)
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    folded = _DROP.sub(" ", folded)
    folded = " ".join(folded.split()).upper()
    if not folded:
        raise NameFormatError(field, "is empty")
    if len(folded) > MAX_NAME_LENGTH:
        raise NameFormatError(field, f"is longer than {MAX_NAME_LENGTH} characters")
    if not _STRICT_NAME.fullmatch(folded):
        bad = next(ch for ch in folded if not ("A" <= ch <= "Z" or ch == " "))
        raise NameFormatError(field, f"contains {bad!r}, which is not a letter of the Latin alphabet")
    return folded


def is_normalised(name: str) -> bool:
    """True when ``name`` already is upper-case ASCII words separated by exactly one space."""
    return len(name) <= MAX_NAME_LENGTH and _STRICT_NAME.fullmatch(name) is not None
