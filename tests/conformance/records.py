"""Assessment records for the platform tests, made the way ``conformance check --report`` writes them.

The checker itself is tested on the evidence corpus; these records stand for its output so that the
decisions can be tested quickly on both database backends. Each is judged with the platform's own
trust list (its key ids), which the platform requires of a submission.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from typing import Any

from unifiedqr.conformance.assessment import Assessment, ScreenReport
from unifiedqr.conformance.evidence import AppInfo
from unifiedqr.conformance.findings import Code, finding
from unifiedqr.services.context import Services
from unifiedqr.services.keys import trust_list

AT = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
VENDOR = "Công ty Thử nghiệm"
NAME = "Sổ sức khoẻ"
_serial = itertools.count()


def make_record(
    ctx: Services,
    *,
    version: str = "2.1.0",
    passed: bool = True,
    at: dt.datetime = AT,
    name: str = NAME,
    vendor: str = VENDOR,
    key_ids: tuple[str, ...] | None = None,
) -> dict[str, Any]:
    """A record (JSON) of one app version; every call gives a distinct record (another folder)."""
    keys = tuple(trust_list(ctx.db).keys) if key_ids is None else key_ids
    key = keys[0] if keys else "AAAAAAAAAAA"
    findings = (
        finding(Code.SIGNATURE_VALID, f"signature valid: key {key}", "default", key_id=key),
        finding(Code.QUALITY_INVERTED, "light modules on a dark ground", "full"),
    )
    if not passed:
        findings += (finding(Code.DISPLAY_DOCUMENT_NOT_MASKED, "the whole number is shown", "default"),)
    serial = next(_serial)
    screens = tuple(
        ScreenReport(
            screen, f"{screen}.png", hashlib.sha256(f"{screen}{serial}".encode()).hexdigest(), 720, 1520
        )
        for screen in ("default", "full")
    )
    assessment = Assessment(
        AppInfo(name, vendor, version),
        f"/evidence/{vendor}/{name}/{version}/{serial}",
        at,
        "0.1.0",
        keys,
        "tesseract",
        screens,
        (),
        findings,
    )
    return assessment.to_json()
