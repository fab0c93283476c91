"""Reports: the record round-trips, the page escapes evidence text, the PDF opens, images are annotated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PIL import Image

from unifiedqr.conformance.assessment import Assessment, FieldResult, ScreenReport, TextRegion
from unifiedqr.conformance.evidence import AppInfo, Evidence
from unifiedqr.conformance.findings import Code, finding
from unifiedqr.conformance.reports import annotated_screens, report_html, report_pdf

AT = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def hostile() -> tuple[Assessment, dict[str, Image.Image]]:
    screen = ScreenReport(
        "default",
        "default.png",
        "0" * 64,
        400,
        800,
        kind="personal",
        qid="1" * 18,
        safe_code=False,
        ec_level="M",
        version=5,
        corners=((100.0, 100.0), (300.0, 100.0), (300.0, 300.0), (100.0, 300.0)),
        quality={
            "module_px": 5.4,
            "quiet_zone_modules": {"top": 1.0, "right": 4.2, "bottom": 4.2, "left": 4.2},
        },
        ocr_variants=("plain",),
        text=(TextRegion("<img src=x onerror=alert(1)>", (20, 400, 380, 430), "plain"),),
        fields=(FieldResult("name", "other", "name", "<b>TRAN</b>", (20, 400, 380, 430)),),
    )
    findings = (
        finding(Code.DISPLAY_NAME_MISMATCH, "shown <b>TRAN</b>", "default", region=[20, 400, 380, 430]),
        finding(Code.QUALITY_QUIET_ZONE, "short", "default", region=[100, 100, 300, 300]),
    )
    record = Assessment(
        AppInfo("<script>alert(1)</script>", "V & V", "1"),
        "/e",
        AT,
        "0.1.0",
        ("kid",),
        "tesseract",
        (screen,),
        (),
        findings,
    )
    return record, {"default": Image.new("RGB", (400, 800), (240, 240, 240))}


def test_the_page_escapes_everything_from_the_evidence() -> None:
    record, images = hostile()
    page = report_html(record, images)
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "<b>TRAN</b>" not in page
    assert "V &amp; V" in page and "FAIL" in page


def test_annotations_are_drawn_where_the_reading_was() -> None:
    record, images = hostile()
    drawn = annotated_screens(record, images)["default"]
    before = images["default"]
    assert drawn.size == before.size and drawn is not before
    assert drawn.getpixel((100, 100)) != before.getpixel((100, 100))  # the code's outline
    assert drawn.getpixel((20, 415)) != before.getpixel((20, 415))  # the field's box
    assert before.getpixel((100, 100)) == (240, 240, 240)  # the evidence itself is untouched


def test_pdf_has_a_summary_and_a_page_per_screen() -> None:
    import pypdfium2 as pdfium

    record, images = hostile()
    document = pdfium.PdfDocument(report_pdf(record, images))
    assert len(document) == 2
    width, height = document[0].get_size()
    assert round(width) == 595 and round(height) == 842  # A4 in points


def test_a_corpus_record_round_trips(assessed: Callable[[str], tuple[Assessment, Evidence]]) -> None:
    record, _ = assessed("someone-elses-code")
    again = Assessment.from_json(record.to_json())
    assert again == record
    assert again.summary()["verdict"] == "fail" and "DISPLAY_NAME_MISMATCH" in again.summary()["codes"]
