"""What single scans and offline batches share: input checks, the stored row and the answer.

One definition each, so that a scan sent live and the same scan uploaded later from a device's queue
are checked, stored and described alike.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from unifiedqr.errors import Code, ScanRejected
from unifiedqr.services.times import parse_instant
from unifiedqr.services.venue_runtime import VenueInfo
from unifiedqr.services.visitors import Visitor, mask_name, mask_phone
from unifiedqr.services.visits import IN, OUT, VisitRules
from unifiedqr.store.crypto import Vault
from unifiedqr.store.scan_rows import StoredScan

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@dataclass(frozen=True)
class ScanResult:
    """The answer to one scan: what the door shows (masked), and whether it was new."""

    status: str  # recorded | already_recorded
    direction: str  # in | out | duplicate
    venue_id: str
    venue_name: str
    entrance_id: str | None
    occurred_at: dt.datetime
    visitor_name: str
    visitor_phone: str | None
    code_kind: str
    verification: str
    colour: str  # green | yellow | red | neutral: services.health.door_colour


def result_of(info: VenueInfo, status: str, scan: StoredScan, colour: str) -> ScanResult:
    """What the door is told about a stored scan (``status``: recorded or already_recorded)."""
    entrance = info.entrance_names.get(scan.entrance_id) if scan.entrance_id is not None else None
    return ScanResult(
        status,
        scan.direction,
        info.public_id,
        info.name,
        entrance[0] if entrance else None,
        scan.occurred_at,
        scan.name_masked,
        scan.phone_masked,
        scan.code_kind,
        scan.verification,
        colour,
    )


def check_time(rules: VisitRules, at: str | None, now: dt.datetime, field: str = "at") -> dt.datetime:
    """A scan time: RFC 3339 (absent means now), not far in the future, not older than retention."""
    return within_retention(rules, now if at is None else parse_instant(at, field), now, field)


def within_retention(rules: VisitRules, value: dt.datetime, now: dt.datetime, field: str) -> dt.datetime:
    if value > now + dt.timedelta(seconds=rules.future_tolerance_seconds):
        raise ScanRejected(field, Code.FUTURE_TIMESTAMP, "is in the future (check the device clock)")
    if value < now - dt.timedelta(days=rules.max_age_days):
        raise ScanRejected(field, Code.TOO_OLD, f"is older than the {rules.max_age_days}-day retention")
    return value


def direction_of(value: str | None, field: str = "direction") -> str | None:
    if value is None or value in (IN, OUT):
        return value
    raise ScanRejected(field, Code.MALFORMED, "must be in, out or absent (inferred)")


def idempotency_key_of(value: object, field: str = "idempotency_key") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.fullmatch(value):
        raise ScanRejected(field, Code.MALFORMED, "1-64 characters: letters, digits, '.', '_', ':', '-'")
    return value


def device_id_of(value: object, field: str = "device_id") -> str | None:
    """An optional device id of a single scan (the key space of its idempotency key): 1-64 characters."""
    if value is None:
        return None
    if not isinstance(value, str) or not 1 <= len(value) <= 64:
        raise ScanRejected(field, Code.MALFORMED, "must be 1 to 64 characters")
    return value


def scan_row(
    vault: Vault, info: VenueInfo, visitor: Visitor, key: bytes, person_id: int | None, **values: Any
) -> dict[str, Any]:
    """The ``scan_events`` row of one scan (``values``: the columns the caller decides)."""
    # Unit-separated rather than JSON: this runs once per scan and json.dumps cost 13 µs of ~100.
    identity = "\x1f".join((visitor.qid or "", visitor.name, visitor.document or "", visitor.phone or ""))
    values.update(
        venue_id=info.id,
        person_key=key,
        person_id=person_id,
        code_kind=visitor.kind,
        verification=visitor.verification,
        name_masked=mask_name(visitor.name) if visitor.name else "",
        phone_masked=mask_phone(visitor.phone),
        identity_enc=vault.encrypt("scan_events.identity", identity),
    )
    return values
