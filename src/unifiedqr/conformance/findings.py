"""Findings: what the checker says about an app, each under a stable code with a fixed severity.

Like the SMART Health Cards validator's ``ErrorCode``, a code is a promise: tools and tests match on it,
so a code is never renamed or reused for another meaning, only added (and retired in the catalogue,
``docs/conformance.md``, which says what each code means and how to fix it; a test keeps the two in
step). The severity belongs to the code, not to the call site, so the same problem is always judged
the same way: ``error`` fails the assessment, ``warning`` is reported but passes, ``info`` records
what was measured or not run.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final


class Severity(enum.Enum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Code(enum.Enum):
    """Every finding code. The value is the code as printed; the catalogue below gives the severity."""

    # -- evidence -----------------------------------------------------------------------------------
    EVIDENCE_FOLDER_MISSING = "EVIDENCE_FOLDER_MISSING"
    EVIDENCE_FILE_MISSING = "EVIDENCE_FILE_MISSING"
    EVIDENCE_APP_INVALID = "EVIDENCE_APP_INVALID"
    EVIDENCE_NOT_AN_IMAGE = "EVIDENCE_NOT_AN_IMAGE"
    EVIDENCE_IMAGE_DAMAGED = "EVIDENCE_IMAGE_DAMAGED"
    EVIDENCE_IMAGE_TOO_LARGE = "EVIDENCE_IMAGE_TOO_LARGE"
    EVIDENCE_IMAGE_TOO_SMALL = "EVIDENCE_IMAGE_TOO_SMALL"
    EVIDENCE_LOSSY_IMAGE = "EVIDENCE_LOSSY_IMAGE"
    EVIDENCE_ACCOUNT_INVALID = "EVIDENCE_ACCOUNT_INVALID"
    TRUST_LIST_INVALID = "TRUST_LIST_INVALID"
    # -- the code on the screen ---------------------------------------------------------------------
    QR_NOT_FOUND = "QR_NOT_FOUND"
    QR_MULTIPLE = "QR_MULTIPLE"
    PAYLOAD_NOT_PERSONAL = "PAYLOAD_NOT_PERSONAL"
    PAYLOAD_INVALID = "PAYLOAD_INVALID"
    PAYLOAD_SAFE_CODE_INCOMPLETE = "PAYLOAD_SAFE_CODE_INCOMPLETE"
    SCREENS_DIFFERENT_PERSON = "SCREENS_DIFFERENT_PERSON"
    # -- signature ----------------------------------------------------------------------------------
    SIGNATURE_VALID = "SIGNATURE_VALID"
    SIGNATURE_UNSIGNED = "SIGNATURE_UNSIGNED"
    SIGNATURE_INVALID = "SIGNATURE_INVALID"
    SIGNATURE_UNKNOWN_KEY = "SIGNATURE_UNKNOWN_KEY"
    SIGNATURE_CODE_REVOKED = "SIGNATURE_CODE_REVOKED"
    SIGNATURE_KEY_REVOKED = "SIGNATURE_KEY_REVOKED"
    SIGNATURE_KEY_EXPIRED = "SIGNATURE_KEY_EXPIRED"
    SIGNATURE_KEY_NOT_YET_VALID = "SIGNATURE_KEY_NOT_YET_VALID"
    # -- symbol quality as displayed ----------------------------------------------------------------
    QUALITY_MEASURED = "QUALITY_MEASURED"
    QUALITY_NOT_MEASURED = "QUALITY_NOT_MEASURED"
    QUALITY_QUIET_ZONE = "QUALITY_QUIET_ZONE"
    QUALITY_MODULE_TOO_SMALL = "QUALITY_MODULE_TOO_SMALL"
    QUALITY_MODULE_SMALL = "QUALITY_MODULE_SMALL"
    QUALITY_LOW_CONTRAST = "QUALITY_LOW_CONTRAST"
    QUALITY_CONTRAST_MARGINAL = "QUALITY_CONTRAST_MARGINAL"
    QUALITY_EC_LOW = "QUALITY_EC_LOW"
    QUALITY_INVERTED = "QUALITY_INVERTED"
    # -- display (OCR) ------------------------------------------------------------------------------
    OCR_UNAVAILABLE = "OCR_UNAVAILABLE"
    OCR_FAILED = "OCR_FAILED"
    DISPLAY_NAME_MISSING = "DISPLAY_NAME_MISSING"
    DISPLAY_NAME_MISMATCH = "DISPLAY_NAME_MISMATCH"
    DISPLAY_DOCUMENT_MISSING = "DISPLAY_DOCUMENT_MISSING"
    DISPLAY_DOCUMENT_MISMATCH = "DISPLAY_DOCUMENT_MISMATCH"
    DISPLAY_DOCUMENT_NOT_MASKED = "DISPLAY_DOCUMENT_NOT_MASKED"
    DISPLAY_DOCUMENT_MASKED_IN_FULL = "DISPLAY_DOCUMENT_MASKED_IN_FULL"
    DISPLAY_DOCUMENT_MASK_FORM = "DISPLAY_DOCUMENT_MASK_FORM"
    DISPLAY_BIRTH_DATE_MISSING = "DISPLAY_BIRTH_DATE_MISSING"
    DISPLAY_BIRTH_DATE_MISMATCH = "DISPLAY_BIRTH_DATE_MISMATCH"
    DISPLAY_BIRTH_DATE_NOT_MASKED = "DISPLAY_BIRTH_DATE_NOT_MASKED"
    DISPLAY_BIRTH_DATE_MASKED_IN_FULL = "DISPLAY_BIRTH_DATE_MASKED_IN_FULL"
    DISPLAY_BIRTH_DATE_MASK_FORM = "DISPLAY_BIRTH_DATE_MASK_FORM"
    DISPLAY_BIRTH_DATE_FORMAT = "DISPLAY_BIRTH_DATE_FORMAT"
    # -- live integration and registry --------------------------------------------------------------
    LIVE_NOT_RUN = "LIVE_NOT_RUN"
    LIVE_UNREACHABLE = "LIVE_UNREACHABLE"
    LIVE_CALL_FAILED = "LIVE_CALL_FAILED"
    LIVE_PASSED = "LIVE_PASSED"
    LIVE_CHECKINS_NOT_RUN = "LIVE_CHECKINS_NOT_RUN"
    REGISTRY_QID_UNKNOWN = "REGISTRY_QID_UNKNOWN"
    # -- the checker itself -------------------------------------------------------------------------
    CHECKER_INTERNAL_ERROR = "CHECKER_INTERNAL_ERROR"


_E, _W, _I = Severity.ERROR, Severity.WARNING, Severity.INFO

#: The severity of every code (the catalogue's meaning and fix live in docs/conformance.md).
SEVERITY: Final[Mapping[Code, Severity]] = {
    Code.EVIDENCE_FOLDER_MISSING: _E,
    Code.EVIDENCE_FILE_MISSING: _E,
    Code.EVIDENCE_APP_INVALID: _E,
    Code.EVIDENCE_NOT_AN_IMAGE: _E,
    Code.EVIDENCE_IMAGE_DAMAGED: _E,
    Code.EVIDENCE_IMAGE_TOO_LARGE: _E,
    Code.EVIDENCE_IMAGE_TOO_SMALL: _E,
    Code.EVIDENCE_LOSSY_IMAGE: _I,
    Code.EVIDENCE_ACCOUNT_INVALID: _E,
    Code.TRUST_LIST_INVALID: _E,
    Code.QR_NOT_FOUND: _E,
    Code.QR_MULTIPLE: _W,
    Code.PAYLOAD_NOT_PERSONAL: _E,
    Code.PAYLOAD_INVALID: _E,
    Code.PAYLOAD_SAFE_CODE_INCOMPLETE: _E,
    Code.SCREENS_DIFFERENT_PERSON: _E,
    Code.SIGNATURE_VALID: _I,
    Code.SIGNATURE_UNSIGNED: _E,
    Code.SIGNATURE_INVALID: _E,
    Code.SIGNATURE_UNKNOWN_KEY: _E,
    Code.SIGNATURE_CODE_REVOKED: _E,
    Code.SIGNATURE_KEY_REVOKED: _E,
    Code.SIGNATURE_KEY_EXPIRED: _E,
    Code.SIGNATURE_KEY_NOT_YET_VALID: _E,
    Code.QUALITY_MEASURED: _I,
    Code.QUALITY_NOT_MEASURED: _W,
    Code.QUALITY_QUIET_ZONE: _E,
    Code.QUALITY_MODULE_TOO_SMALL: _E,
    Code.QUALITY_MODULE_SMALL: _W,
    Code.QUALITY_LOW_CONTRAST: _E,
    Code.QUALITY_CONTRAST_MARGINAL: _W,
    Code.QUALITY_EC_LOW: _E,
    Code.QUALITY_INVERTED: _W,
    Code.OCR_UNAVAILABLE: _E,
    Code.OCR_FAILED: _E,
    Code.DISPLAY_NAME_MISSING: _E,
    Code.DISPLAY_NAME_MISMATCH: _E,
    Code.DISPLAY_DOCUMENT_MISSING: _E,
    Code.DISPLAY_DOCUMENT_MISMATCH: _E,
    Code.DISPLAY_DOCUMENT_NOT_MASKED: _E,
    Code.DISPLAY_DOCUMENT_MASKED_IN_FULL: _E,
    Code.DISPLAY_DOCUMENT_MASK_FORM: _W,
    Code.DISPLAY_BIRTH_DATE_MISSING: _E,
    Code.DISPLAY_BIRTH_DATE_MISMATCH: _E,
    Code.DISPLAY_BIRTH_DATE_NOT_MASKED: _E,
    Code.DISPLAY_BIRTH_DATE_MASKED_IN_FULL: _E,
    Code.DISPLAY_BIRTH_DATE_MASK_FORM: _W,
    Code.DISPLAY_BIRTH_DATE_FORMAT: _W,
    Code.LIVE_NOT_RUN: _I,
    Code.LIVE_UNREACHABLE: _E,
    Code.LIVE_CALL_FAILED: _E,
    Code.LIVE_PASSED: _I,
    Code.LIVE_CHECKINS_NOT_RUN: _I,
    Code.REGISTRY_QID_UNKNOWN: _W,
    Code.CHECKER_INTERNAL_ERROR: _E,
}

#: JSON-safe values a finding may carry beside its code and message.
Detail = str | int | float | bool | None | list[Any] | dict[str, Any]


@dataclass(frozen=True)
class Finding:
    """One statement about the evidence: a stable code, a human message, and where/what (``details``).

    ``screen`` names the evidence image (``default``, ``full``) when the finding is about one; the
    details carry extra keys such as ``expected``, ``seen`` and ``region`` (``[left, top, right,
    bottom]`` in the image's pixels) that the reports use to annotate the image.
    """

    code: Code
    message: str
    screen: str | None = None
    details: Mapping[str, Detail] = field(default_factory=dict)

    @property
    def severity(self) -> Severity:
        return SEVERITY[self.code]

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message,
        }
        if self.screen is not None:
            out["screen"] = self.screen
        for key, value in self.details.items():
            if key not in out:
                out[key] = value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        """The inverse of :meth:`to_json` (an unknown code raises ``ValueError``)."""
        details = {k: v for k, v in data.items() if k not in ("code", "severity", "message", "screen")}
        return cls(Code(data["code"]), str(data["message"]), data.get("screen"), details)

    def line(self) -> str:
        """One line for the human output: ``error   CODE [screen] message``."""
        where = f" [{self.screen}]" if self.screen else ""
        return f"{self.severity.value:<7} {self.code.value}{where}: {self.message}"


def finding(code: Code, message: str, screen: str | None = None, **details: Detail) -> Finding:
    """Shorthand used by the checks: ``finding(Code.QR_NOT_FOUND, "...", "default", region=[...])``."""
    return Finding(code, message, screen, details)


def verdict(findings: Iterable[Finding]) -> str:
    """``pass`` when no finding is an error, else ``fail``."""
    return "fail" if any(f.severity is Severity.ERROR for f in findings) else "pass"


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    """``{"error": n, "warning": n, "info": n}``."""
    out = {s.value: 0 for s in Severity}
    for item in findings:
        out[item.severity.value] += 1
    return out
