"""Reading the fields from OCR lines (no OCR engine needed): tolerance where OCR errs, none elsewhere."""

from __future__ import annotations

import pytest

from unifiedqr.codes.display import masked_variant
from unifiedqr.codes.payload import parse
from unifiedqr.conformance.display import read_display
from unifiedqr.conformance.display_rules import check_display
from unifiedqr.conformance.ocr import Line, Word, parse_tsv
from unifiedqr.conformance.reading import close, edit_distance, fold, letters_only, name_tolerance

CODE = parse("001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700")
CMND = parse("187654509|PHAM NGOC THACH|1975-12-24|0|519023847561029304|<0<<")


def line(text: str, top: int = 100, left: int = 40) -> Line:
    words = []
    x = left
    for part in text.split():
        width = 18 * len(part)
        words.append(Word(part, (x, top, x + width, top + 30), 90.0))
        x += width + 12
    return Line(tuple(words))


def screen(*texts: str) -> list[Line]:
    return [line(text, 100 + 60 * index) for index, text in enumerate(texts)]


def findings(lines: list[Line], full: bool = False, code=CODE) -> set[str]:  # type: ignore[no-untyped-def]
    reading = read_display(lines, code)
    return {f.code.value for f in check_display("full" if full else "default", full, reading, code)}


def test_folding_and_tolerances() -> None:
    assert fold("Nguyễn Lê Kha Hân") == "NGUYEN LE KHA HAN"
    assert letters_only("Đặng Thị Ánh:") == "DANG THI ANH"
    assert name_tolerance(len("NGUYEN LE KHA HAN")) == 2 and name_tolerance(5) == 1
    assert edit_distance("KHA", "KHAN") == 1
    assert close("0012000153579", "001200013579")  # one digit inserted by the OCR
    assert not close("001200013579", "001200024680")
    assert not close("50", "59") and close("509", "509")


@pytest.mark.parametrize(
    "texts",
    [
        ("Nguyễn Lê Kha Hân", "Số CCCD: ******029317", "Ngày sinh: 1987-**-**"),
        ("NGUYỄN LÊ KHA HÂN", "CCCD/CMND", "***+#+**#029317", "Ngày sinh", "1987-**-*"),
        ("Họ tên: Nguyên Lê Kha Hẫn", "Số giấy tờ: x*t#£+t029317", "Ngày sinh: 1987-*+-++."),
        ("Nguyễn Lê", "Kha Hân", "CCCD ******O29317", "1987 - ** - **"),
    ],
)
def test_conforming_default_screens_read_despite_ocr_noise(texts: tuple[str, ...]) -> None:
    assert findings(screen(*texts)) == set()


def test_conforming_full_screens() -> None:
    assert (
        findings(screen("Nguyễn Lê Kha Hân", "Số CCCD: 001093029317", "Ngày sinh: 1987-01-18"), True) == set()
    )
    assert findings(screen("Nguyễn Lê Kha Hân", "Số CCCD: 001 093 029 317", "1987-01-18"), True) == set()
    assert findings(screen("Nguyễn Lê Kha Hân", "001093029317", "18/01/1987"), True) == {
        "DISPLAY_BIRTH_DATE_FORMAT"
    }


def test_a_safe_code_is_compared_on_what_it_shows() -> None:
    safe = masked_variant(CODE)
    assert findings(screen("Nguyễn Lê Kha Hân", "******029317", "1987-**-**"), code=safe) == set()
    assert findings(screen("Nguyễn Lê Kha Hân", "001093029317", "1987-01-18"), True, code=safe) == set()
    # the full mode may also show what the safe code holds: it matches the code
    assert findings(screen("Nguyễn Lê Kha Hân", "******029317", "1987-**-**"), True, code=safe) == set()
    assert findings(screen("Nguyễn Lê Kha Hân", "001093111111", "1987-01-18"), True, code=safe) == {
        "DISPLAY_DOCUMENT_MISMATCH"
    }


def test_leaks_in_the_default_mode() -> None:
    assert findings(screen("Nguyễn Lê Kha Hân", "CCCD: 001093029317", "1987-01-18")) == {
        "DISPLAY_DOCUMENT_NOT_MASKED",
        "DISPLAY_BIRTH_DATE_NOT_MASKED",
    }
    assert findings(screen("Nguyễn Lê Kha Hân", "CCCD: ****93029317", "1987-**-**")) == {
        "DISPLAY_DOCUMENT_NOT_MASKED"
    }


def test_other_mask_forms_are_warnings() -> None:
    assert findings(screen("Nguyễn Lê Kha Hân", "******029317", "**/**/1987")) == {
        "DISPLAY_BIRTH_DATE_MASK_FORM"
    }
    assert findings(screen("Nguyễn Lê Kha Hân", "CCCD: ********9317", "1987-**-**")) == {
        "DISPLAY_DOCUMENT_MASK_FORM"
    }
    assert findings(screen("Nguyễn Lê Kha Hân", "******029317", "Năm sinh: 1987")) == {
        "DISPLAY_BIRTH_DATE_MASK_FORM"
    }


def test_full_mode_that_still_masks() -> None:
    assert findings(screen("Nguyễn Lê Kha Hân", "******029317", "1987-**-**"), True) == {
        "DISPLAY_DOCUMENT_MASKED_IN_FULL",
        "DISPLAY_BIRTH_DATE_MASKED_IN_FULL",
    }


def test_someone_elses_data_is_a_mismatch_not_a_near_match() -> None:
    found = findings(screen("Đặng Thị Ánh", "Số CCCD: ******004512", "Ngày sinh: 1994-**-**"))
    assert found == {"DISPLAY_NAME_MISMATCH", "DISPLAY_DOCUMENT_MISMATCH", "DISPLAY_BIRTH_DATE_MISMATCH"}
    # the name's tolerance is for OCR slips, not other people: one edit per 8 letters
    assert findings(screen("Nguyễn Lê Kha", "******029317", "1987-**-**")) == {"DISPLAY_NAME_MISMATCH"}


def test_missing_fields_and_what_is_not_a_document_number() -> None:
    lines = screen(
        "Mã QR cá nhân",
        "Điện thoại: 0944713700",
        "QID 162979388586171100",
        "Mã định danh: 1629 7938 8586 1711 00",
        "BHYT HS4010120878821",
        "Cập nhật 12:30 18/01/2022",
    )
    reading = read_display(lines, CODE)
    assert reading.name.status == "missing" and reading.document.status == "missing"
    assert findings(screen("Nguyễn Lê Kha Hân", "1987-**-**")) == {"DISPLAY_DOCUMENT_MISSING"}
    assert findings(screen("******029317", "1987-**-**")) == {"DISPLAY_NAME_MISSING"}


def test_nine_digit_id_card() -> None:
    assert findings(screen("Phạm Ngọc Thạch", "CMND: ******509", "1975-**-**"), code=CMND) == set()
    assert findings(screen("Phạm Ngọc Thạch", "187654509", "1975-12-24"), True, code=CMND) == set()
    assert findings(screen("Phạm Ngọc Thạch", "CMND: 187654509", "1975-**-**"), code=CMND) == {
        "DISPLAY_DOCUMENT_NOT_MASKED"
    }


def test_labels_on_the_line_above_or_to_the_left() -> None:
    lines = [
        line("Ngày sinh", 100, 40),
        line("1999", 100, 400),
        line("Nguyễn Lê Kha Hân", 200),
        line("******029317", 300),
    ]
    assert findings(lines) == {"DISPLAY_BIRTH_DATE_MISMATCH"}
    reading = read_display(lines, CODE)
    assert reading.birth_date.best is not None and reading.birth_date.best.labelled


def test_tesseract_tsv_is_grouped_into_lines() -> None:
    tsv = (
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
        "5\t1\t1\t1\t1\t1\t10\t20\t50\t30\t95.5\tSố\n"
        "5\t1\t1\t1\t1\t2\t70\t20\t90\t30\t91.0\tCCCD:\n"
        "5\t1\t2\t1\t1\t1\t10\t80\t120\t30\t88.0\tNguyễn\n"
        "5\t1\t2\t1\t1\t2\t140\t80\t60\t30\t-1\t \n"
        "4\t1\t2\t1\t1\t0\t10\t80\t200\t30\t-1\t\n"
    )
    lines = parse_tsv(tsv)
    assert [each.text for each in lines] == ["Số CCCD:", "Nguyễn"]
    assert lines[0].box == (10, 20, 160, 50)
