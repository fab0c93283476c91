"""``unifiedqr conformance``: the fixed contract of ``check``, the reports, and the public list commands."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image

from unifiedqr.cli import main
from unifiedqr.conformance.assessment import Assessment

from .conftest import needs_ocr
from .corpus import Built

ROOT = Path(__file__).resolve().parents[2]
AT = "2026-03-01T09:00:00Z"


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@needs_ocr
def test_check_passes_a_conforming_app_and_writes_the_reports(
    built_case: Callable[[str], Built], trust_file: Path, tmp_path: Path
) -> None:
    folder = built_case("ok-dark-large-safe-code").folder
    code, out, _err = run(
        "conformance",
        "check",
        str(folder),
        "--trust",
        str(trust_file),
        "--json",
        "--at",
        AT,
        "--report",
        str(tmp_path / "out"),
    )
    assert code == 0, out
    document = json.loads(out)
    assert set(document) == {"verdict", "findings"} and document["verdict"] == "pass"
    assert all({"code", "severity", "message"} <= set(f) for f in document["findings"])
    assert {f["severity"] for f in document["findings"]} == {"info"}
    # the reports: the full record, a self-contained page with the annotated images, a PDF
    record = json.loads((tmp_path / "out" / "report.json").read_text(encoding="utf-8"))
    assessment = Assessment.from_json(record)
    assert Assessment.from_json(assessment.to_json()) == assessment
    assert assessment.findings_document() == document
    page = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2
    assert "Sổ sức khoẻ" in page and "PASS" in page and "http://" not in page and "https://" not in page
    assert "ĐẶNG THỊ ÁNH" not in page or "DANG THI ANH" in page
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument((tmp_path / "out" / "report.pdf").read_bytes())
    assert len(pdf) == 3  # the summary, then one page per screen


@needs_ocr
def test_check_fails_a_violating_app_with_one_line_per_finding(
    built_case: Callable[[str], Built], trust_file: Path
) -> None:
    folder = built_case("unsigned-code").folder
    code, out, _ = run("conformance", "check", str(folder), "--trust", str(trust_file), "--at", AT)
    assert code == 1
    lines = out.strip().splitlines()
    assert lines[-1].startswith("verdict: fail")
    assert sum(line.startswith("error   SIGNATURE_UNSIGNED [") for line in lines) == 2


def test_bad_evidence_is_a_document_never_a_traceback(tmp_path: Path, trust_file: Path) -> None:
    (tmp_path / "junk").mkdir()
    buffer = io.BytesIO()
    Image.effect_noise((600, 1200), 60).save(buffer, "PNG")
    (tmp_path / "junk" / "default.png").write_bytes(buffer.getvalue()[:3000])  # cut short
    (tmp_path / "junk" / "full.png").write_text("text", encoding="utf-8")
    (tmp_path / "junk" / "app.json").write_text("{", encoding="utf-8")
    for folder in (tmp_path / "junk", tmp_path / "absent"):
        code, out, err = run("conformance", "check", str(folder), "--trust", str(trust_file), "--json")
        assert code == 1 and "Traceback" not in out + err
        document = json.loads(out)
        assert document["verdict"] == "fail"
        assert all(f["severity"] in ("error", "warning", "info") for f in document["findings"])
    codes = {
        f["code"]
        for f in json.loads(
            run("conformance", "check", str(tmp_path / "junk"), "--trust", str(trust_file), "--json")[1]
        )["findings"]
    }
    assert {"EVIDENCE_IMAGE_DAMAGED", "EVIDENCE_NOT_AN_IMAGE", "EVIDENCE_APP_INVALID"} <= codes


def test_a_bad_trust_list_is_a_finding(tmp_path: Path) -> None:
    bad = tmp_path / "trust.json"
    bad.write_text("[]", encoding="utf-8")
    code, out, _ = run("conformance", "check", str(tmp_path / "absent"), "--trust", str(bad), "--json")
    assert code == 1
    errors = {f["code"] for f in json.loads(out)["findings"] if f["severity"] == "error"}
    assert errors == {"TRUST_LIST_INVALID", "EVIDENCE_FOLDER_MISSING"}


def test_without_ocr_the_app_cannot_pass(
    built_case: Callable[[str], Built], trust_file: Path, tmp_path: Path
) -> None:
    folder = built_case("ok-light-small-full-code").folder
    env = {"UNIFIEDQR_TESSERACT": str(tmp_path / "no-tesseract")}
    code, out, _ = run(
        "conformance", "check", str(folder), "--trust", str(trust_file), "--json", "--at", AT, env=env
    )
    assert code == 1
    found = json.loads(out)["findings"]
    unavailable = [f for f in found if f["code"] == "OCR_UNAVAILABLE"]
    assert len(unavailable) == 1 and unavailable[0]["severity"] == "error"
    assert {f["code"] for f in found if f["severity"] == "error"} == {"OCR_UNAVAILABLE"}


def test_the_installed_command_runs_as_a_process(tmp_path: Path, trust_file: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "unifiedqr",
            "conformance",
            "check",
            str(tmp_path / "none"),
            "--trust",
            str(trust_file),
            "--json",
            "--no-live",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert json.loads(done.stdout)["findings"][0]["code"] == "EVIDENCE_FOLDER_MISSING"


@pytest.mark.parametrize("args", [["conformance", "check"], ["conformance", "check", "x"]])
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert run(*args)[0] == 2


def test_a_checker_bug_is_a_finding_not_a_traceback(
    built_case: Callable[[str], Built], trust_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    import unifiedqr.conformance as facade

    assess_module = importlib.import_module("unifiedqr.conformance.assess")

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(assess_module, "analyse_screen", broken)
    folder = built_case("ok-light-small-full-code").folder
    code, out, _ = run("conformance", "check", str(folder), "--trust", str(trust_file), "--json", "--no-live")
    errors = [f for f in json.loads(out)["findings"] if f["severity"] == "error"]
    assert code == 1 and {(f["code"], f.get("screen")) for f in errors} == {
        ("CHECKER_INTERNAL_ERROR", "default"),
        ("CHECKER_INTERNAL_ERROR", "full"),
    }
    monkeypatch.setattr(facade, "load_evidence", broken)
    code, out, _ = run("conformance", "check", str(folder), "--trust", str(trust_file), "--json")
    assert code == 1 and json.loads(out)["findings"][0]["code"] == "CHECKER_INTERNAL_ERROR"
