"""The checks: readings of one screen (symbol, payload, signature, quality, display) turned into findings.

Each function takes what was read or measured and returns findings; none reads a file or the clock.
The thresholds are constants here, each with its reason, and catalogued in ``docs/conformance.md``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Final

from unifiedqr.codes.payload import PersonalCode, mask_birth_date, mask_document, parse
from unifiedqr.codes.signing import Status, verify_payload
from unifiedqr.codes.trust import TrustList
from unifiedqr.conformance.display import DisplayReading
from unifiedqr.conformance.findings import Code, Finding, finding
from unifiedqr.conformance.reading import Candidate, FieldReading
from unifiedqr.conformance.symbol import Quality, SymbolReading
from unifiedqr.errors import InvalidInput

#: The spec's decision (§3): a quiet zone of at least 4 modules.
QUIET_ZONE_MODULES: Final = 4.0
#: The decoder's corners are whole pixels; a quarter module absorbs that rounding.
QUIET_ZONE_TOLERANCE: Final = 0.25
#: Under 2 px a module cannot be drawn with one clean edge; scanners reading the screen then guess.
MODULE_PX_ERROR: Final = 2.0
#: Under 4 px, or an estimated 0.3 mm on the phone's glass, reads slowly from arm's length.
MODULE_PX_WARNING: Final = 4.0
MODULE_MM_WARNING: Final = 0.3
#: A portrait phone screen is about 68 mm wide (6.1-6.7 inch phones: 64-71 mm).
PHONE_SCREEN_MM: Final = 68.0
#: ISO/IEC 15415 symbol contrast grades: C (40 %) is the usual floor for a pass, B (55 %) is good.
CONTRAST_ERROR: Final = 0.40
CONTRAST_WARNING: Final = 0.55

_SIGNATURE_CODES: Final = {
    Status.UNSIGNED: Code.SIGNATURE_UNSIGNED,
    Status.BAD_SIGNATURE: Code.SIGNATURE_INVALID,
    Status.UNKNOWN_KEY: Code.SIGNATURE_UNKNOWN_KEY,
    Status.CODE_REVOKED: Code.SIGNATURE_CODE_REVOKED,
    Status.KEY_REVOKED: Code.SIGNATURE_KEY_REVOKED,
    Status.KEY_EXPIRED: Code.SIGNATURE_KEY_EXPIRED,
    Status.KEY_NOT_YET_VALID: Code.SIGNATURE_KEY_NOT_YET_VALID,
}
_SIGNATURE_TEXT: Final = {
    Status.UNSIGNED: "the code carries no signature: it is not the nationally issued code",
    Status.BAD_SIGNATURE: "the signature does not match the code: the code was altered or forged",
    Status.UNKNOWN_KEY: "the code is signed with a key not on the trust list (self-signed or foreign)",
    Status.CODE_REVOKED: "this code was withdrawn (its signature is on the trust list's revoked codes)",
    Status.KEY_REVOKED: "the issuing key was revoked",
    Status.KEY_EXPIRED: "the issuing key had expired at the time of the assessment",
    Status.KEY_NOT_YET_VALID: "the issuing key was not yet valid at the time of the assessment",
}


def _region(box: Sequence[float]) -> list[int]:
    return [round(v) for v in box]


# -- the code -----------------------------------------------------------------------------------------
def choose_symbol(
    screen: str, symbols: Sequence[SymbolReading]
) -> tuple[SymbolReading | None, list[Finding]]:
    """The personal code on the screen (the largest one if there are several)."""
    if not symbols:
        return None, [
            finding(
                Code.QR_NOT_FOUND,
                "no QR code could be read on the screen (the project's decoder, with its cascade)",
                screen,
            )
        ]
    personal = [s for s in symbols if s.kind == "personal"]
    chosen = personal[0] if personal else symbols[0]
    out: list[Finding] = []
    if len(symbols) > 1:
        out.append(
            finding(
                Code.QR_MULTIPLE,
                f"{len(symbols)} codes on the screen; a scanner may read the wrong one "
                "(the largest personal code was assessed)",
                screen,
                regions=[_region(s.box) for s in symbols],
            )
        )
    if chosen.kind != "personal":
        out.append(
            finding(
                Code.PAYLOAD_NOT_PERSONAL,
                f"the code on the screen is not a personal QR code v1.1 (it reads as '{chosen.kind}')",
                screen,
                kind=chosen.kind,
                region=_region(chosen.box),
            )
        )
    return chosen, out


def check_payload(screen: str, text: str) -> tuple[PersonalCode | None, list[Finding]]:
    """Strict v1.1; a code that parses only leniently is still compared with the display."""
    try:
        code = parse(text)
    except InvalidInput as strict:
        try:
            lenient = parse(text, lenient=True)
        except InvalidInput:
            lenient = None
        return lenient, [
            finding(
                Code.PAYLOAD_INVALID,
                f"the code is not a valid v1.1 payload: {strict}",
                screen,
                field=strict.field,
                reason=strict.reason,
            )
        ]
    out: list[Finding] = []
    if code.masked:
        missing = []
        if not code.document_masked:
            missing.append("the document number is not masked")
        if not code.birth_date_masked:
            missing.append("the birth date is not masked")
        if code.phone or code.insurance_number:
            missing.append("it still carries the phone or the health-insurance number")
        if missing:
            out.append(
                finding(
                    Code.PAYLOAD_SAFE_CODE_INCOMPLETE,
                    "a safe (masked) code must mask both the document number and the birth date and "
                    f"leave out the phone and BHYT numbers: {'; '.join(missing)}",
                    screen,
                )
            )
    return code, out


def check_signature(screen: str, text: str, trust: TrustList, at: dt.datetime) -> list[Finding]:
    result = verify_payload(text, trust, at)
    if result.status is Status.VALID:
        return [
            finding(
                Code.SIGNATURE_VALID,
                f"signature valid: key {result.key_id} of {result.issuer}",
                screen,
                key_id=result.key_id,
                issuer=result.issuer,
            )
        ]
    if result.status is Status.MALFORMED:
        return []  # reported as PAYLOAD_INVALID
    return [
        finding(
            _SIGNATURE_CODES[result.status],
            _SIGNATURE_TEXT[result.status],
            screen,
            outcome=result.status.value,
            key_id=result.key_id,
        )
    ]


def check_same_person(codes: dict[str, PersonalCode]) -> list[Finding]:
    if len(codes) < 2:
        return []
    qids = {screen: code.qid for screen, code in codes.items()}
    if len(set(qids.values())) > 1:
        return [
            finding(
                Code.SCREENS_DIFFERENT_PERSON,
                "the two screenshots show codes of different people (QIDs differ): the evidence must "
                "show one person's screen in both modes",
                seen=qids,
            )
        ]
    return []


# -- quality ------------------------------------------------------------------------------------------
def check_quality(
    screen: str, reading: SymbolReading, quality: Quality | None, image_size: tuple[int, int]
) -> list[Finding]:
    region = _region(reading.box)
    if quality is None:
        return [
            finding(
                Code.QUALITY_NOT_MEASURED,
                "the symbol's geometry could not be sampled (version unknown or the code leaves the screen)",
                screen,
                region=region,
            )
        ]
    width, height = image_size
    module_mm = None
    if height >= 1.6 * width:  # a portrait phone screen: its width is known closely enough
        module_mm = round(quality.module_px * PHONE_SCREEN_MM / width, 3)
    measured = {**quality.to_json(), "ec_level": reading.ec_level or None, "version": reading.version or None}
    out = [
        finding(
            Code.QUALITY_MEASURED,
            f"version {reading.version or '?'}, EC {reading.ec_level or '?'}, "
            f"{quality.module_px:.1f} px a module"
            + (f" (≈ {module_mm:.2f} mm on a phone)" if module_mm else "")
            + f", quiet zone ≥ {quality.quiet_zone_min:.1f} modules, contrast {quality.contrast:.0%}",
            screen,
            region=region,
            measured=measured,
            module_mm=module_mm,
        )
    ]
    short = {
        side: round(v, 2)
        for side, v in quality.quiet_zone.items()
        if v < QUIET_ZONE_MODULES - QUIET_ZONE_TOLERANCE
    }
    if short:
        sides = ", ".join(f"{side} {value:.1f}" for side, value in short.items())
        out.append(
            finding(
                Code.QUALITY_QUIET_ZONE,
                f"the quiet zone is narrower than {QUIET_ZONE_MODULES:.0f} modules ({sides} modules): "
                "what the app draws around the code touches it",
                screen,
                region=region,
                expected=QUIET_ZONE_MODULES,
                seen=short,
            )
        )
    if quality.module_px < MODULE_PX_ERROR:
        out.append(
            finding(
                Code.QUALITY_MODULE_TOO_SMALL,
                f"{quality.module_px:.1f} px a module at the screenshot's resolution (at least "
                f"{MODULE_PX_ERROR:.0f} required)",
                screen,
                region=region,
                seen=round(quality.module_px, 2),
            )
        )
    elif quality.module_px < MODULE_PX_WARNING or (module_mm is not None and module_mm < MODULE_MM_WARNING):
        out.append(
            finding(
                Code.QUALITY_MODULE_SMALL,
                f"small modules: {quality.module_px:.1f} px"
                + (f", ≈ {module_mm:.2f} mm on a phone" if module_mm else "")
                + f" (recommended ≥ {MODULE_PX_WARNING:.0f} px and ≥ {MODULE_MM_WARNING} mm)",
                screen,
                region=region,
                seen=round(quality.module_px, 2),
            )
        )
    if quality.contrast < CONTRAST_ERROR:
        out.append(
            finding(
                Code.QUALITY_LOW_CONTRAST,
                f"symbol contrast {quality.contrast:.0%} (at least {CONTRAST_ERROR:.0%} required)",
                screen,
                region=region,
                seen=round(quality.contrast, 3),
            )
        )
    elif quality.contrast < CONTRAST_WARNING:
        out.append(
            finding(
                Code.QUALITY_CONTRAST_MARGINAL,
                f"symbol contrast {quality.contrast:.0%} (recommended ≥ {CONTRAST_WARNING:.0%})",
                screen,
                region=region,
                seen=round(quality.contrast, 3),
            )
        )
    if reading.ec_level == "L":
        out.append(
            finding(
                Code.QUALITY_EC_LOW,
                "error correction L: the spec requires M or higher",
                screen,
                region=region,
                seen="L",
                expected="M",
            )
        )
    elif not reading.ec_level:
        out.append(
            finding(
                Code.QUALITY_NOT_MEASURED, "the decoder did not report the error-correction level", screen
            )
        )
    if quality.inverted:
        out.append(
            finding(
                Code.QUALITY_INVERTED,
                "the code is shown inverted (light modules on a dark ground): some scanners cannot read it",
                screen,
                region=region,
            )
        )
    return out


# -- display ------------------------------------------------------------------------------------------
def _seen(candidate: Candidate | None) -> dict[str, object]:
    if candidate is None:
        return {}
    return {"seen": candidate.seen, "region": _region(candidate.box), "line": candidate.line}


def _pick(reading: FieldReading, forms: Sequence[str]) -> Candidate | None:
    return next((c for c in reading.matches if c.form in forms), None)


def check_display(screen: str, full_mode: bool, reading: DisplayReading, code: PersonalCode) -> list[Finding]:
    """Name, document number and birth date beside the code, in the mode's form, matching the code."""
    out: list[Finding] = []
    mode = "full" if full_mode else "default"
    # name
    name = reading.name
    if name.status == "other":
        out.append(
            finding(
                Code.DISPLAY_NAME_MISMATCH,
                f"the name shown ({name.best.seen if name.best else '?'}) is not the code's "
                f"({code.full_name}): "
                "the screen shows someone else's code or data",
                screen,
                expected=code.full_name,
                **_seen(name.best),  # type: ignore[arg-type]
            )
        )
    elif name.status == "missing":
        out.append(
            finding(
                Code.DISPLAY_NAME_MISSING,
                f"the holder's name ({code.full_name}) is not shown beside the code",
                screen,
                expected=code.full_name,
            )
        )
    out += _document_findings(screen, full_mode, reading.document, code)
    out += _birth_findings(screen, full_mode, reading.birth_date, code)
    return [Finding(f.code, f.message, f.screen, {**f.details, "mode": mode}) for f in out]


def _document_findings(
    screen: str, full_mode: bool, reading: FieldReading, code: PersonalCode
) -> list[Finding]:
    masked_form = mask_document(code.document_number)
    expected = code.document_number if full_mode and not code.document_masked else masked_form
    if reading.status == "missing":
        return [
            finding(
                Code.DISPLAY_DOCUMENT_MISSING,
                f"the document number ({expected}) is not shown",
                screen,
                expected=expected,
            )
        ]
    if reading.status == "other":
        best = reading.best
        return [
            finding(
                Code.DISPLAY_DOCUMENT_MISMATCH,
                f"the document number shown ({best.seen if best else '?'}) is not the code's ({expected})",
                screen,
                expected=expected,
                **_seen(best),  # type: ignore[arg-type]
            )
        ]
    if not full_mode:
        leak = _pick(reading, ("full", "partly-masked"))
        if leak is not None:
            return [
                finding(
                    Code.DISPLAY_DOCUMENT_NOT_MASKED,
                    f"the default mode shows more of the document number than {masked_form} ({leak.seen})",
                    screen,
                    expected=masked_form,
                    **_seen(leak),  # type: ignore[arg-type]
                )
            ]
        masked = _pick(reading, ("masked",))
        if masked is None:
            more = _pick(reading, ("masked-more",))
            return [
                finding(
                    Code.DISPLAY_DOCUMENT_MASK_FORM,
                    f"the document number is masked, but not as the spec writes it ({masked_form})",
                    screen,
                    expected=masked_form,
                    **_seen(more),  # type: ignore[arg-type]
                )
            ]
        hidden = min(6, len(code.document_number))
        if masked.mask_glyphs is not None and masked.mask_glyphs != hidden:
            return [
                finding(
                    Code.DISPLAY_DOCUMENT_MASK_FORM,
                    f"{masked.mask_glyphs} mask characters counted before the visible digits; the spec "
                    f"writes {hidden} ({masked_form})",
                    screen,
                    expected=masked_form,
                    mask_glyphs=masked.mask_glyphs,
                    **_seen(masked),  # type: ignore[arg-type]
                )
            ]
        return []
    if _pick(reading, ("full",)) is None:
        if code.document_masked and _pick(reading, ("masked",)) is not None:
            return []  # the safe code holds only the masked number: showing what it holds matches it
        shown = reading.matches[0]
        return [
            finding(
                Code.DISPLAY_DOCUMENT_MASKED_IN_FULL,
                f"the full mode still masks the document number ({shown.seen}); it must show {expected}",
                screen,
                expected=expected,
                **_seen(shown),  # type: ignore[arg-type]
            )
        ]
    return []


def _birth_findings(screen: str, full_mode: bool, reading: FieldReading, code: PersonalCode) -> list[Finding]:
    masked_form = mask_birth_date(code.birth_date)
    expected = code.birth_date if full_mode and not code.birth_date_masked else masked_form
    if reading.status == "missing":
        return [
            finding(
                Code.DISPLAY_BIRTH_DATE_MISSING,
                f"the birth date ({expected}) is not shown",
                screen,
                expected=expected,
            )
        ]
    if reading.status == "other":
        best = reading.best
        return [
            finding(
                Code.DISPLAY_BIRTH_DATE_MISMATCH,
                f"the birth date shown ({best.seen if best else '?'}) is not the code's ({expected})",
                screen,
                expected=expected,
                **_seen(best),  # type: ignore[arg-type]
            )
        ]
    if not full_mode:
        leak = _pick(reading, ("full-iso", "full-dmy"))
        if leak is not None:
            return [
                finding(
                    Code.DISPLAY_BIRTH_DATE_NOT_MASKED,
                    f"the default mode shows the whole birth date ({leak.seen}); "
                    f"the spec masks it as {masked_form}",
                    screen,
                    expected=masked_form,
                    **_seen(leak),  # type: ignore[arg-type]
                )
            ]
        if _pick(reading, ("masked-iso",)) is None:
            other = reading.matches[0]
            return [
                finding(
                    Code.DISPLAY_BIRTH_DATE_MASK_FORM,
                    f"the birth date is masked, but not as the spec writes it ({masked_form}): {other.seen}",
                    screen,
                    expected=masked_form,
                    **_seen(other),  # type: ignore[arg-type]
                )
            ]
        return []
    if _pick(reading, ("full-iso",)) is not None:
        return []
    dmy = _pick(reading, ("full-dmy",))
    if dmy is not None:
        return [
            finding(
                Code.DISPLAY_BIRTH_DATE_FORMAT,
                f"the full mode writes the birth date as {dmy.seen}; "
                f"the spec shows it as in the code ({expected})",
                screen,
                expected=expected,
                **_seen(dmy),  # type: ignore[arg-type]
            )
        ]
    if code.birth_date_masked and _pick(reading, ("masked-iso",)) is not None:
        return []  # the safe code holds only the year: showing what it holds matches it
    shown = reading.matches[0]
    return [
        finding(
            Code.DISPLAY_BIRTH_DATE_MASKED_IN_FULL,
            f"the full mode still masks the birth date ({shown.seen}); it must show {expected}",
            screen,
            expected=expected,
            **_seen(shown),  # type: ignore[arg-type]
        )
    ]
