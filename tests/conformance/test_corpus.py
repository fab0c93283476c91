"""Every case of the corpus gives exactly its findings (errors and warnings, with the screen they are on)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from unifiedqr.conformance.assessment import Assessment
from unifiedqr.conformance.evidence import Evidence
from unifiedqr.conformance.findings import Severity

from .corpus import CASES, Case


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case_gives_exactly_its_findings(
    case: Case, assessed: Callable[[str], tuple[Assessment, Evidence]]
) -> None:
    assessment, _ = assessed(case.name)
    raised = {(f.code.value, f.screen) for f in assessment.findings if f.severity is not Severity.INFO}
    details = "\n".join(f.line() for f in assessment.findings)
    assert raised == set(case.expected), details
    assert assessment.verdict == ("pass" if case.conforming else "fail")


def test_conforming_screens_read_every_field(assessed: Callable[[str], tuple[Assessment, Evidence]]) -> None:
    for case in CASES:
        if not case.name.startswith("ok-"):
            continue
        assessment, _ = assessed(case.name)
        for screen in assessment.screens:
            statuses = {f.field: f.status for f in screen.fields}
            assert statuses == {"name": "match", "document": "match", "birth_date": "match"}, (
                case.name,
                screen,
            )
            assert screen.quality is not None and screen.quality["quiet_zone_modules"]["top"] >= 4


def test_findings_point_at_the_screen_region(assessed: Callable[[str], tuple[Assessment, Evidence]]) -> None:
    assessment, evidence = assessed("someone-elses-code")
    mismatch = next(f for f in assessment.findings if f.code.value == "DISPLAY_NAME_MISMATCH")
    left, top, right, bottom = mismatch.details["region"]  # type: ignore[misc]
    width, height = evidence.screens["default"].size
    assert 0 <= left < right <= width and 0 <= top < bottom <= height
    assert mismatch.details["expected"] == "DANG THI ANH"  # the code's holder
    assert mismatch.details["seen"] == "NGUYEN LE KHA HAN"  # the screen's


def test_safe_code_is_recognised_as_such(assessed: Callable[[str], tuple[Assessment, Evidence]]) -> None:
    assessment, _ = assessed("ok-dark-large-safe-code")
    assert {s.safe_code for s in assessment.screens} == {True}
    assessment, _ = assessed("ok-light-small-full-code")
    assert {s.safe_code for s in assessment.screens} == {False}
