"""The finding catalogue: docs/conformance.md, the code enum and the checker's source agree.

Like the SMART Health Cards validator's error codes, a code is a promise to other tools: every code
the checker can raise is documented with its meaning and its fix, and every documented code exists.
"""

from __future__ import annotations

import re
from pathlib import Path

import unifiedqr.conformance as conformance
from unifiedqr.conformance.findings import SEVERITY, Code

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "src" / "unifiedqr" / "conformance"
ROW = re.compile(r"^\| `([A-Z][A-Z0-9_]+)` \| (error|warning|info) \| (.+?) \| (.+?) \|$", re.M)


def _catalogue() -> dict[str, tuple[str, str, str]]:
    text = (ROOT / "docs" / "conformance.md").read_text(encoding="utf-8")
    return {m[1]: (m[2], m[3], m[4]) for m in ROW.finditer(text)}


def test_every_code_is_documented_with_its_severity_and_vice_versa() -> None:
    documented = _catalogue()
    assert set(documented) == {c.value for c in Code}
    for code in Code:
        assert documented[code.value][0] == SEVERITY[code].value, code
        assert documented[code.value][1].strip() and documented[code.value][2].strip(), code


def test_every_code_has_a_severity_and_its_value_is_its_name() -> None:
    assert set(SEVERITY) == set(Code)
    for code in Code:
        assert code.value == code.name


def test_every_code_is_raised_by_the_checker_and_no_other_is() -> None:
    used: set[str] = set()
    for path in PACKAGE.glob("*.py"):
        if path.name == "findings.py":
            continue
        used |= set(re.findall(r"\bCode\.([A-Z][A-Z0-9_]+)\b", path.read_text(encoding="utf-8")))
    assert used == {c.value for c in Code}


def test_the_facade_is_pinned() -> None:
    assert set(conformance.__all__) == {
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
    }
    for name in conformance.__all__:
        assert hasattr(conformance, name)
