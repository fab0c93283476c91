"""Conformance assessment of third-party apps against the spec, and the signed public list (issue 14).

An assessor points :func:`check_folder` (or ``unifiedqr conformance check``) at an app version's
evidence folder and gets an :class:`Assessment`: findings with stable codes (catalogued in
``docs/conformance.md``), what was read and measured on each screen, and the live calls. Reports
(JSON, HTML, PDF) come from :func:`write_reports`; approved apps go on a :class:`PublicList`, signed
with :func:`sign_list` and verified offline with :func:`verify_list`. ``tests/conformance`` pins
this facade; the modules behind it are private.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from unifiedqr import __version__
from unifiedqr.codes.trust import TrustList
from unifiedqr.conformance.assess import assess
from unifiedqr.conformance.assessment import Assessment, FieldResult, LiveCall, ScreenReport, TextRegion
from unifiedqr.conformance.evidence import Account, AppInfo, Evidence, load_evidence, load_trust
from unifiedqr.conformance.findings import SEVERITY, Code, Finding, Severity, finding
from unifiedqr.conformance.live import run_live
from unifiedqr.conformance.ocr import OcrEngine, OcrUnavailable, Tesseract, unavailable_reason
from unifiedqr.conformance.public_list import (
    ListedApp,
    ListVerification,
    PublicList,
    build_list,
    canonical_json,
    sign_list,
    verify_list,
)
from unifiedqr.conformance.reports import write_reports

__all__ = [
    "SEVERITY",
    "Account",
    "AppInfo",
    "Assessment",
    "Code",
    "Evidence",
    "FieldResult",
    "Finding",
    "ListVerification",
    "ListedApp",
    "LiveCall",
    "OcrEngine",
    "PublicList",
    "ScreenReport",
    "Severity",
    "Tesseract",
    "TextRegion",
    "build_list",
    "canonical_json",
    "check_folder",
    "load_evidence",
    "load_trust",
    "sign_list",
    "verify_list",
    "write_reports",
]


def check_folder(
    folder: str | Path,
    trust: TrustList | None,
    at: dt.datetime,
    *,
    ocr: OcrEngine | Literal["auto"] | None = "auto",
    live: bool = True,
    extra_findings: Sequence[Finding] = (),
) -> tuple[Assessment, Evidence]:
    """Load and assess one evidence folder. ``ocr="auto"`` uses Tesseract when it is installed (its
    absence is an ``OCR_UNAVAILABLE`` error finding); ``live=False`` skips the live checks.

    Never raises for anything in the evidence: a failure of the checker itself becomes a
    ``CHECKER_INTERNAL_ERROR`` finding, so the contract's document is always produced."""
    try:
        return _check_folder(folder, trust, at, ocr=ocr, live=live, extra_findings=extra_findings)
    except Exception as exc:
        failed = finding(
            Code.CHECKER_INTERNAL_ERROR,
            f"the checker failed ({type(exc).__name__}: {exc}); please report it with the evidence",
        )
        empty = Evidence(str(folder), None, {}, None, ())
        record = Assessment(
            None,
            str(folder),
            at.replace(microsecond=0),
            __version__,
            (),
            "",
            (),
            (),
            (*extra_findings, failed),
        )
        return record, empty


def _check_folder(
    folder: str | Path,
    trust: TrustList | None,
    at: dt.datetime,
    *,
    ocr: OcrEngine | Literal["auto"] | None,
    live: bool,
    extra_findings: Sequence[Finding],
) -> tuple[Assessment, Evidence]:
    evidence = load_evidence(folder)
    problem = None
    engine: OcrEngine | None
    if ocr == "auto":
        try:
            engine = Tesseract()
        except OcrUnavailable as exc:
            engine, problem = None, str(exc)
    else:
        engine = ocr
        if engine is None:
            problem = unavailable_reason() or "OCR disabled"
    assessment = assess(
        evidence,
        trust,
        at,
        ocr=engine,
        ocr_problem=problem,
        live=run_live if live else None,
        live_skipped=None if live else "skipped by the assessor (--no-live)",
        extra_findings=extra_findings,
    )
    return assessment, evidence
