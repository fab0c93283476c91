"""The display rules of spec §3 applied to what was read: the name, the document number and the birth
date beside the code, masked in the default mode, whole in the full mode, and this person's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from unifiedqr.codes.display import mask_birth_date, mask_document
from unifiedqr.codes.payload import PersonalCode
from unifiedqr.conformance.checks import region_of
from unifiedqr.conformance.display import DisplayReading
from unifiedqr.conformance.findings import Code, Detail, Finding, finding
from unifiedqr.conformance.reading import Candidate, FieldReading


def _seen(candidate: Candidate | None) -> dict[str, Detail]:
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
                **_seen(name.best),
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


@dataclass(frozen=True)
class _Shown:
    """One date-or-number field as the rules see it: the screen, what was read, and the forms expected."""

    screen: str
    reading: FieldReading
    masked_form: str
    expected: str

    def found(self, candidate: Candidate | None, code: Code, message: str, **details: Detail) -> Finding:
        """A finding about ``candidate`` (its seen text, region and line added to the details)."""
        return finding(code, message, self.screen, **details, **_seen(candidate))


def _absent_or_other(shown: _Shown, label: str, missing: Code, mismatch: Code) -> list[Finding] | None:
    """Missing or someone else's value, judged alike for both fields; None when the code's value was read."""
    if shown.reading.status == "missing":
        return [
            finding(
                missing,
                f"the {label} ({shown.expected}) is not shown",
                shown.screen,
                expected=shown.expected,
            )
        ]
    if shown.reading.status == "other":
        best = shown.reading.best
        return [
            shown.found(
                best,
                mismatch,
                f"the {label} shown ({best.seen if best else '?'}) is not the code's ({shown.expected})",
                expected=shown.expected,
            )
        ]
    return None


def _document_findings(
    screen: str, full_mode: bool, reading: FieldReading, code: PersonalCode
) -> list[Finding]:
    masked_form = mask_document(code.document_number)
    expected = code.document_number if full_mode and not code.document_masked else masked_form
    shown = _Shown(screen, reading, masked_form, expected)
    absent_or_other = _absent_or_other(
        shown, "document number", Code.DISPLAY_DOCUMENT_MISSING, Code.DISPLAY_DOCUMENT_MISMATCH
    )
    if absent_or_other is not None:
        return absent_or_other
    if not full_mode:
        return _masked_document_findings(shown, code)
    if _pick(reading, ("full",)) is None:
        if code.document_masked and _pick(reading, ("masked",)) is not None:
            return []  # the safe code holds only the masked number: showing what it holds matches it
        first = reading.matches[0]
        return [
            shown.found(
                first,
                Code.DISPLAY_DOCUMENT_MASKED_IN_FULL,
                f"the full mode still masks the document number ({first.seen}); it must show {expected}",
                expected=expected,
            )
        ]
    return []


def _masked_document_findings(shown: _Shown, code: PersonalCode) -> list[Finding]:
    """The default mode: the number masked exactly as the spec writes it, no more and no less."""
    reading, masked_form = shown.reading, shown.masked_form
    leak = _pick(reading, ("full", "partly-masked"))
    if leak is not None:
        return [
            shown.found(
                leak,
                Code.DISPLAY_DOCUMENT_NOT_MASKED,
                f"the default mode shows more of the document number than {masked_form} ({leak.seen})",
                expected=masked_form,
            )
        ]
    masked = _pick(reading, ("masked",))
    if masked is None:
        return [
            shown.found(
                _pick(reading, ("masked-more",)),
                Code.DISPLAY_DOCUMENT_MASK_FORM,
                f"the document number is masked, but not as the spec writes it ({masked_form})",
                expected=masked_form,
            )
        ]
    hidden = min(6, len(code.document_number))
    if masked.mask_glyphs is not None and masked.mask_glyphs != hidden:
        return [
            shown.found(
                masked,
                Code.DISPLAY_DOCUMENT_MASK_FORM,
                f"{masked.mask_glyphs} mask characters counted before the visible digits; the spec "
                f"writes {hidden} ({masked_form})",
                expected=masked_form,
                mask_glyphs=masked.mask_glyphs,
            )
        ]
    return []


def _birth_findings(screen: str, full_mode: bool, reading: FieldReading, code: PersonalCode) -> list[Finding]:
    masked_form = mask_birth_date(code.birth_date)
    expected = code.birth_date if full_mode and not code.birth_date_masked else masked_form
    shown = _Shown(screen, reading, masked_form, expected)
    absent_or_other = _absent_or_other(
        shown, "birth date", Code.DISPLAY_BIRTH_DATE_MISSING, Code.DISPLAY_BIRTH_DATE_MISMATCH
    )
    if absent_or_other is not None:
        return absent_or_other
    if not full_mode:
        return _masked_birth_findings(shown)
    return _full_birth_findings(shown, code)


def _masked_birth_findings(shown: _Shown) -> list[Finding]:
    """The default mode: only the year, written as the spec writes it."""
    reading, masked_form = shown.reading, shown.masked_form
    leak = _pick(reading, ("full-iso", "full-dmy"))
    if leak is not None:
        return [
            shown.found(
                leak,
                Code.DISPLAY_BIRTH_DATE_NOT_MASKED,
                f"the default mode shows the whole birth date ({leak.seen}); "
                f"the spec masks it as {masked_form}",
                expected=masked_form,
            )
        ]
    if _pick(reading, ("masked-iso",)) is None:
        other = reading.matches[0]
        return [
            shown.found(
                other,
                Code.DISPLAY_BIRTH_DATE_MASK_FORM,
                f"the birth date is masked, but not as the spec writes it ({masked_form}): {other.seen}",
                expected=masked_form,
            )
        ]
    return []


def _full_birth_findings(shown: _Shown, code: PersonalCode) -> list[Finding]:
    """The full mode: the whole date as the code writes it, unless the code itself holds only the year."""
    reading, expected = shown.reading, shown.expected
    if _pick(reading, ("full-iso",)) is not None:
        return []
    dmy = _pick(reading, ("full-dmy",))
    if dmy is not None:
        return [
            shown.found(
                dmy,
                Code.DISPLAY_BIRTH_DATE_FORMAT,
                f"the full mode writes the birth date as {dmy.seen}; "
                f"the spec shows it as in the code ({expected})",
                expected=expected,
            )
        ]
    if code.birth_date_masked and _pick(reading, ("masked-iso",)) is not None:
        return []  # the safe code holds only the year: showing what it holds matches it
    first = reading.matches[0]
    return [
        shown.found(
            first,
            Code.DISPLAY_BIRTH_DATE_MASKED_IN_FULL,
            f"the full mode still masks the birth date ({first.seen}); it must show {expected}",
            expected=expected,
        )
    ]
