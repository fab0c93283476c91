"""Building a strict personal code from human input: diacritics, ``dd/mm/yyyy`` dates, spaced numbers.

Parsing (:mod:`unifiedqr.codes.payload`) reads what a scanner saw; this module turns what a person
typed (or a registration form sent) into the one canonical code, and checks the result by parsing
it strictly, so there is one set of rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import (
    BHYT,
    MASK,
    PHONE,
    ExtForm,
    Gender,
    PersonalCode,
    check_characters,
    format_code,
    parse,
    validate_document,
    validate_qid,
)
from unifiedqr.errors import PayloadError


def parse_human_date(text: str, field: str = "NgaySinh") -> dt.date:
    """A birth date as people type it: ``18/01/1987``, ``18-01-1987`` or ``1987-01-18``."""
    value = text.strip() if isinstance(text, str) else ""
    for pattern in (r"([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})", r"([0-9]{4})-([0-9]{2})-([0-9]{2})"):
        match = re.fullmatch(pattern, value)
        if match:
            parts = [int(p) for p in match.groups()]
            day, month, year = parts if len(match[1]) <= 2 else (parts[2], parts[1], parts[0])
            try:
                date = dt.date(year, month, day)
            except ValueError:
                raise PayloadError(field, f"{value} is not a calendar date") from None
            if year < 1900:
                raise PayloadError(field, f"{value} is before 1900")
            return date
    raise PayloadError(field, f"{value!r} is not a date (write dd/mm/yyyy or YYYY-MM-DD)")


def normalise_document(text: str) -> str:
    """Document number as typed: spaces dropped, letters upper-cased, then validated strictly."""
    doc = "".join(str(text).split()).upper()
    validate_document(doc, lenient=False)
    if doc.startswith(MASK):
        raise PayloadError("SoGiayTo", "a masked number cannot be used to build a code")
    return doc


def normalise_phone(text: str, field: str = "phone") -> str:
    """Phone as typed: spaces, dots and dashes dropped, +84/84 turned into the leading 0."""
    phone = re.sub(r"[\s.\-()]", "", str(text))
    if phone.startswith("+84"):
        phone = "0" + phone[3:]
    elif phone.startswith("84") and len(phone) == 11:
        phone = "0" + phone[2:]
    if not PHONE.fullmatch(phone):
        raise PayloadError(field, "must be 10 digits starting with 0")
    return phone


def normalise_insurance(text: str, field: str = "insurance_number") -> str:
    value = "".join(str(text).split()).upper()
    if not BHYT.fullmatch(value):
        raise PayloadError(field, "must be 2 letters and 13 digits (e.g. HS4010120878821)")
    return value


def build(
    *,
    document_number: str,
    full_name: str,
    birth_date: str | dt.date,
    qid: str,
    gender: Gender | str | None = None,
    phone: str | None = None,
    insurance_number: str | None = None,
    proxy_qid: str | None = None,
    extra: Sequence[str] = (),
    form: ExtForm = ExtForm.GUIDANCE,
) -> PersonalCode:
    """Build a strict code from human input (diacritics, ``dd/mm/yyyy`` dates, spaced numbers)."""
    doc = normalise_document(document_number)
    name = fold_name(full_name)
    date = birth_date if isinstance(birth_date, dt.date) else parse_human_date(birth_date)
    qid_text = str(qid).strip()
    validate_qid("QID", qid_text, lenient=False)
    proxy = str(proxy_qid).strip() if proxy_qid else ""
    if proxy:
        validate_qid("proxy_qid", proxy, lenient=False)
        if proxy == qid_text:
            raise PayloadError("proxy_qid", "must be the declarer's QID, not the person's own")
    if isinstance(gender, str):
        gender = Gender.from_label(gender) if gender else None
    gender_text = gender.value if gender is not None else "0"
    phone_text = normalise_phone(phone) if phone else ""
    bhyt = normalise_insurance(insurance_number) if insurance_number else ""
    for index, value in enumerate(extra):
        check_characters(f"extra[{index}]", value)
        if "|" in value:
            raise PayloadError(f"extra[{index}]", "contains '|', which only separates fields")
    if form is ExtForm.GUIDANCE:
        ext = (proxy, gender_text, bhyt, phone_text, *extra)
    else:
        ext = (proxy, gender_text, bhyt or "00", *(extra or ("",)), phone_text)
    code = PersonalCode(doc, name, date.isoformat(), "1" if proxy else "0", qid_text, tuple(ext))
    return parse(format_code(code))  # one set of rules: whatever is built must parse strictly
