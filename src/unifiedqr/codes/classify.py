"""What did the scanner read? One classifier for everything a person may hold up (spec §5).

Both a CCCD and a personal code can start with a 12-digit number and have several ``|`` fields, so
the decision rests on the date shapes and the LoaiDinhDanh value, not on the field count.
Classification never raises: arbitrary bytes give ``unknown``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from unifiedqr.codes.cccd import looks_like_cccd, parse_cccd
from unifiedqr.codes.payload import MAX_PAYLOAD_BYTES, parse
from unifiedqr.codes.venue import is_venue_url
from unifiedqr.errors import InvalidInput

PERSONAL = "personal"
CCCD = "cccd"
VENUE = "venue"
EU_DCC = "eu_dcc"
UNKNOWN = "unknown"
KINDS = (PERSONAL, CCCD, VENUE, EU_DCC, UNKNOWN)

_DATE_OR_MASKED = re.compile(r"[0-9]{4}-(?:[0-9]{2}-[0-9]{2}|\*\*-\*\*)")
_BASE45 = re.compile(r"[0-9A-Z $%*+\-./:]+")


@dataclass(frozen=True)
class Classification:
    kind: str
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, **self.details}


def classify(data: str | bytes) -> Classification:
    try:
        return _classify(data)
    except Exception as exc:
        return Classification(UNKNOWN, {"reason": f"unreadable input ({type(exc).__name__})"})


def _classify(data: str | bytes) -> Classification:
    if isinstance(data, bytes | bytearray):
        if len(data) > 64 * MAX_PAYLOAD_BYTES:
            return Classification(UNKNOWN, {"reason": "input too large"})
        try:
            text = bytes(data).decode("utf-8")
        except UnicodeDecodeError:
            return Classification(UNKNOWN, {"reason": "not UTF-8 text"})
    elif isinstance(data, str):
        text = data
    else:
        return Classification(UNKNOWN, {"reason": "not text"})
    text = text.strip()
    if len(text) > 64 * MAX_PAYLOAD_BYTES:
        return Classification(UNKNOWN, {"reason": "input too large"})
    if text.startswith("HC1:"):
        return Classification(EU_DCC, {"valid_base45": bool(_BASE45.fullmatch(text[4:]))})
    if text.startswith("https://"):
        if is_venue_url(text):
            return Classification(VENUE, {})
        return Classification(UNKNOWN, {"reason": "a URL that is not a venue code"})
    fields = text.split("|")
    if len(fields) == 6 and _DATE_OR_MASKED.fullmatch(fields[2]) and fields[3] in ("0", "1"):
        try:
            code = parse(text, lenient=True)
        except InvalidInput as exc:
            return Classification(PERSONAL, {"valid": False, "error": str(exc), "masked": "*" in text})
        strict_error = None
        try:
            parse(text)
        except InvalidInput as exc:
            strict_error = str(exc)
        details: dict[str, Any] = {"valid": True, "masked": code.masked, "signed": code.signed}
        if strict_error:
            details["strict_error"] = strict_error
        return Classification(PERSONAL, details)
    if looks_like_cccd(fields):
        try:
            record = parse_cccd(text)
        except InvalidInput as exc:
            return Classification(CCCD, {"valid": False, "error": str(exc)})
        return Classification(CCCD, {"valid": True, "has_old_id": record.old_id_number is not None})
    return Classification(UNKNOWN, {})
