"""The chip ID card (CCCD) QR: ``ID|OldID|Name|ddmmyyyy|Nam or Nữ|Address|IssueDate ddmmyyyy`` (spec §5).

People without a smartphone hold up their card; its QR carries both the 12-digit number and the old
9-digit CMND (empty when there was none), so the platform can keep one QID across both documents.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import Gender, decode_input
from unifiedqr.errors import CCCDError, InvalidInput

_ID12 = re.compile(r"[0-9]{12}")
_ID9 = re.compile(r"[0-9]{9}")
_DDMMYYYY = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})")
_GENDERS = {
    "nam": Gender.MALE,
    "nữ": Gender.FEMALE,
    "nu": Gender.FEMALE,
    "male": Gender.MALE,
    "female": Gender.FEMALE,
}


@dataclass(frozen=True, slots=True)
class CCCDRecord:
    id_number: str
    old_id_number: str | None
    full_name: str
    birth_date: dt.date
    gender: Gender
    address: str
    issue_date: dt.date | None
    extra: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "id_number": self.id_number,
            "old_id_number": self.old_id_number,
            "full_name": self.full_name,
            "birth_date": self.birth_date.isoformat(),
            "gender": self.gender.label,
            "address": self.address,
            "issue_date": self.issue_date.isoformat() if self.issue_date else None,
        }

    def to_draft(self) -> dict[str, str]:
        """The inputs of a personal code for this card holder (the QID comes from the platform)."""
        return {
            "document_number": self.id_number,
            "full_name": fold_name(self.full_name),
            "birth_date": self.birth_date.isoformat(),
            "gender": self.gender.label,
        }


def _date(field: str, text: str) -> dt.date:
    match = _DDMMYYYY.fullmatch(text)
    if not match:
        raise CCCDError(field, f"{text!r} is not a date of the form ddmmyyyy")
    try:
        return dt.date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        raise CCCDError(field, f"{text} is not a calendar date") from None


def parse_cccd(data: str | bytes) -> CCCDRecord:
    """Parse a CCCD QR text; every rejection names the field."""
    try:
        text = unicodedata.normalize("NFC", decode_input(data))
    except InvalidInput as exc:
        raise CCCDError(exc.field, exc.reason) from None
    fields = text.split("|")
    if len(fields) < 7:
        raise CCCDError("cccd", f"expected at least 7 fields separated by '|', got {len(fields)}")
    id_number, old_id, name, birth, gender_text, address, issued, *extra = fields
    if not _ID12.fullmatch(id_number):
        raise CCCDError("id_number", "must be 12 digits")
    if old_id and not _ID9.fullmatch(old_id):
        raise CCCDError("old_id_number", "must be 9 digits or empty")
    if not name.strip():
        raise CCCDError("full_name", "is empty")
    try:
        fold_name(name, "full_name")
    except InvalidInput as exc:
        raise CCCDError(exc.field, exc.reason) from None
    gender = _GENDERS.get(gender_text.strip().lower())
    if gender is None:
        raise CCCDError("gender", f"must be 'Nam' or 'Nữ', got {gender_text!r}")
    return CCCDRecord(
        id_number=id_number,
        old_id_number=old_id or None,
        full_name=" ".join(name.split()),
        birth_date=_date("birth_date", birth),
        gender=gender,
        address=address.strip(),
        issue_date=_date("issue_date", issued) if issued else None,
        extra=tuple(extra),
    )


def looks_like_cccd(fields: list[str]) -> bool:
    """Shape test used by the classifier: 12-digit ID first, ddmmyyyy birth date in field 4."""
    return (
        len(fields) >= 7
        and _ID12.fullmatch(fields[0]) is not None
        and _DDMMYYYY.fullmatch(fields[3]) is not None
        and (not fields[6] or _DDMMYYYY.fullmatch(fields[6]) is not None)
    )
