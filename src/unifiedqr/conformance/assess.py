"""One assessment from loaded evidence: each screen read, measured and checked, then the live checks.

The time, the trust list, the OCR engine and the live runner are parameters, so the same evidence
judged with the same inputs gives the same findings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

import numpy as np
from PIL import Image

from unifiedqr import __version__
from unifiedqr.codes.payload import PersonalCode
from unifiedqr.codes.trust import TrustList
from unifiedqr.conformance import checks
from unifiedqr.conformance.assessment import Assessment, FieldResult, LiveCall, ScreenReport, TextRegion
from unifiedqr.conformance.display import DisplayReading, read_display
from unifiedqr.conformance.display_rules import check_display
from unifiedqr.conformance.evidence import Evidence, Screen
from unifiedqr.conformance.findings import Code, Finding, finding
from unifiedqr.conformance.glyphs import masked_numbers
from unifiedqr.conformance.ocr import (
    Box,
    Line,
    OcrEngine,
    OcrFailed,
    Word,
    blanked,
    read_crop,
    read_variant,
    variants_for,
)
from unifiedqr.conformance.quality import check_quality
from unifiedqr.conformance.reading import labelled
from unifiedqr.conformance.symbol import Gray, SymbolReading, find_symbols, gray_of, measure

#: ``live(account, trust, at, qids) -> (calls, findings)``; see :mod:`unifiedqr.conformance.live`.
LiveRunner = Callable[..., tuple[list[LiveCall], list[Finding]]]


@dataclass(frozen=True)
class ScreenOutcome:
    report: ScreenReport
    findings: list[Finding]
    code: PersonalCode | None


def blank_boxes(symbols: Sequence[SymbolReading], image: Image.Image) -> list[Box]:
    """Each code and half a module around it. Not its whole quiet zone: an app may put the name right
    where the 4 modules end (the project's own card does), and text inside it is a quiet-zone finding."""
    boxes = []
    for symbol in symbols:
        left, top, right, bottom = symbol.box
        module = (right - left) / (symbol.modules or 25)
        pad = max(2, round(0.5 * module))
        boxes.append(
            (
                max(left - pad, 0),
                max(top - pad, 0),
                min(right + pad, image.width - 1),
                min(bottom + pad, image.height - 1),
            )
        )
    return boxes


def _masked_number_lines(
    engine: OcrEngine, image: Image.Image, blank: Sequence[Box], lines: Sequence[Line]
) -> list[Line]:
    """Masked numbers found by glyph shape (:mod:`glyphs`) in the rows of the text read so far and
    below document labels (a stacked layout's value); only their visible part goes to the OCR."""
    bands = []
    for line in lines:
        top, bottom = line.box[1], line.box[3]
        height = max(bottom - top, 1)
        bands.append((top - height // 3, bottom + height // 3))
        if labelled(line, lines, "document"):
            bands.append((bottom, bottom + round(height * 2.5)))
    gray_image = blanked(image, blank)
    gray = np.asarray(gray_image)
    out = []
    for number in masked_numbers(gray, sorted(set(bands))):
        visible = "".join(ch for ch in read_crop(engine, gray_image, number.visible) if ch.isalnum())
        if visible:
            word = Word("*" * number.mask + visible, number.word, 0.0)
            out.append(Line((word,), "glyphs"))
    return out


#: Enlarging helps Tesseract with type under about 20 px (its LSTM was trained on ~30 px lines).
ENLARGE_BELOW_TEXT_PX: Final = 20


def _text_height(lines: Sequence[Line]) -> float:
    """The median height of the lines read so far (0 when none)."""
    heights = sorted(line.box[3] - line.box[1] for line in lines if len(line.text) >= 3)
    return float(heights[len(heights) // 2]) if heights else 0.0


def read_text(
    engine: OcrEngine, image: Image.Image, code: PersonalCode, blank: Sequence[Box], gray: Gray
) -> tuple[DisplayReading, list[Line], list[str]]:
    """OCR in the variants of :func:`variants_for` until every field matches; readings merged. When
    the document number is still not found after a variant, masked numbers are looked for by shape."""
    reading: DisplayReading | None = None
    lines: list[Line] = []
    used: list[str] = []
    glyphs_done = False
    for variant in variants_for(image):
        if variant.enlarge and _text_height(lines) >= ENLARGE_BELOW_TEXT_PX:
            continue  # the type is large enough already: enlarging finds nothing new, at 4x the cost
        found = read_variant(engine, image, variant, blank)
        current = read_display(found, code, gray)
        reading = current if reading is None else reading.merged(current)
        lines += found
        used.append(variant.name)
        if not reading.document_conclusive and not glyphs_done:
            glyphs_done = True
            extra = _masked_number_lines(engine, image, blank, lines)
            if extra:
                reading = reading.merged(read_display(extra, code, gray))
                lines += extra
                used.append("glyphs")
        if reading.complete:
            break
    assert reading is not None
    return reading, lines, used


def _field_results(reading: DisplayReading) -> tuple[FieldResult, ...]:
    out = []
    for field_reading in reading.fields():
        best = field_reading.best
        out.append(
            FieldResult(
                field_reading.field,
                field_reading.status,
                best.form if best else "",
                best.seen if best else "",
                best.box if best else None,
            )
        )
    return tuple(out)


def analyse_screen(
    screen: Screen, trust: TrustList | None, at: dt.datetime, ocr: OcrEngine | None
) -> ScreenOutcome:
    name = screen.name
    width, height = screen.size
    gray = gray_of(screen.image)
    symbols = find_symbols(gray)
    chosen, findings = checks.choose_symbol(name, symbols)
    base = ScreenReport(name, screen.file, screen.sha256, width, height)
    if chosen is None:
        return ScreenOutcome(base, findings, None)
    quality = measure(gray, chosen)
    version = chosen.version or ((quality.modules - 17) // 4 if quality else 0)
    report = replace(
        base,
        kind=chosen.kind,
        ec_level=chosen.ec_level or None,
        version=version or None,
        corners=chosen.corners,
        quality=quality.to_json() if quality else None,
    )
    findings += check_quality(name, chosen, quality, (width, height))
    if chosen.kind != "personal":
        return ScreenOutcome(report, findings, None)
    code, payload_findings = checks.check_payload(name, chosen.text)
    findings += payload_findings
    if trust is not None:
        findings += checks.check_signature(name, chosen.text, trust, at)
    if code is None:
        return ScreenOutcome(report, findings, None)
    report = replace(report, qid=code.qid, safe_code=code.masked)
    if ocr is not None:
        try:
            reading, lines, used = read_text(
                ocr, screen.image, code, blank_boxes(symbols, screen.image), gray
            )
        except OcrFailed as exc:
            findings.append(finding(Code.OCR_FAILED, f"the display could not be read: {exc}", name))
        else:
            findings += check_display(name, name == "full", reading, code)
            report = replace(
                report,
                ocr_variants=tuple(used),
                text=tuple(TextRegion(line.text, line.box, line.variant) for line in lines),
                fields=_field_results(reading),
            )
    return ScreenOutcome(report, findings, code)


def assess(
    evidence: Evidence,
    trust: TrustList | None,
    at: dt.datetime,
    *,
    ocr: OcrEngine | None,
    ocr_problem: str | None = None,
    live: LiveRunner | None = None,
    live_skipped: str | None = None,
    extra_findings: Sequence[Finding] = (),
) -> Assessment:
    """Judge ``evidence``. ``trust`` None: the trust list could not be read (the caller says why in
    ``extra_findings``). ``ocr`` None: display checks not run (``ocr_problem`` says why)."""
    at = at.astimezone(dt.UTC).replace(microsecond=0)
    findings: list[Finding] = [*extra_findings, *evidence.findings]
    if ocr is None and evidence.screens:
        findings.append(
            finding(
                Code.OCR_UNAVAILABLE,
                f"the display checks could not run: {ocr_problem or 'no OCR engine'}",
            )
        )
    reports: list[ScreenReport] = []
    codes: dict[str, PersonalCode] = {}
    for name in ("default", "full"):
        screen = evidence.screens.get(name)
        if screen is None:
            continue
        outcome = _analyse_or_report(name, screen, trust, at, ocr)
        reports.append(outcome.report)
        findings += outcome.findings
        if outcome.code is not None:
            codes[name] = outcome.code
    findings += checks.check_same_person(codes)
    calls, live_findings = _live_checks(evidence, trust, at, codes, live, live_skipped)
    findings += live_findings
    return Assessment(
        app=evidence.app,
        folder=evidence.folder,
        assessed_at=at,
        tool_version=__version__,
        trust_key_ids=tuple(sorted(trust.keys)) if trust is not None else (),
        ocr_engine=getattr(ocr, "name", "") if ocr is not None else "",
        screens=tuple(reports),
        live=tuple(calls),
        findings=tuple(findings),
    )


def _analyse_or_report(
    name: str, screen: Screen, trust: TrustList | None, at: dt.datetime, ocr: OcrEngine | None
) -> ScreenOutcome:
    """:func:`analyse_screen`, but a bug in the checker becomes a finding on this screen, not a crash,
    so the other screen and the live checks are still judged."""
    try:
        return analyse_screen(screen, trust, at, ocr)
    except Exception as exc:
        return ScreenOutcome(
            ScreenReport(name, screen.file, screen.sha256, *screen.size),
            [
                finding(
                    Code.CHECKER_INTERNAL_ERROR,
                    f"the checker failed on this screen ({type(exc).__name__}: {exc}); please report it",
                    name,
                )
            ],
            None,
        )


def _live_checks(
    evidence: Evidence,
    trust: TrustList | None,
    at: dt.datetime,
    codes: Mapping[str, PersonalCode],
    live: LiveRunner | None,
    live_skipped: str | None,
) -> tuple[list[LiveCall], list[Finding]]:
    """The live calls and their findings, or one finding saying why they were not run; a bug in the
    runner is reported as a finding, as for a screen."""
    if evidence.account is None:
        return [], [
            finding(Code.LIVE_NOT_RUN, "live integration checks not run: the evidence holds no account.json")
        ]
    if live_skipped or live is None or trust is None:
        reason = live_skipped or ("the trust list could not be read" if trust is None else "no live runner")
        return [], [finding(Code.LIVE_NOT_RUN, f"live integration checks not run: {reason}")]
    try:
        calls, live_findings = live(evidence.account, trust, at, sorted({c.qid for c in codes.values()}))
    except Exception as exc:
        return [], [
            finding(Code.CHECKER_INTERNAL_ERROR, f"the live checks failed ({type(exc).__name__}: {exc})")
        ]
    return calls, live_findings
