"""The display rules of spec §3 applied to what was read: the name, the document number and the birth
date beside the code, masked in the default mode, whole in the full mode, and this person's.
"""

from __future__ import annotations

from collections.abc import Sequence

from unifiedqr.codes.display import mask_birth_date, mask_document
from unifiedqr.codes.payload import PersonalCode
from unifiedqr.conformance.checks import region_of
from unifiedqr.conformance.display import DisplayReading
from unifiedqr.conformance.findings import Code, Finding, finding
from unifiedqr.conformance.reading import Candidate, FieldReading


def _seen(candidate: Candidate | None) -> dict[str, object]:
    if candidate is None:
        return {}
    return {"seen": candidate.seen, "region": region_of(candidate.box), "line": candidate.line}


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
