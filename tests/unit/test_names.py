from __future__ import annotations

import unicodedata

import pytest

from unifiedqr.codes.build import build, parse_human_date
from unifiedqr.codes.names import fold_name
from unifiedqr.errors import NameFormatError, PayloadError


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("Nguyễn Lê Kha Hân", "NGUYEN LE KHA HAN"),
        ("Đặng Thị Ánh", "DANG THI ANH"),
        ("  đỗ   thị\u00a0thuỷ\t", "DO THI THUY"),
        ("HUỲNH ƯNG ƠN", "HUYNH UNG ON"),
        ("O'Brien-Smith", "O BRIEN SMITH"),
    ],
)
def test_fold(typed: str, folded: str) -> None:
    assert fold_name(typed) == folded
    assert fold_name(unicodedata.normalize("NFD", typed)) == folded


@pytest.mark.parametrize("bad", ["", "   ", "Nguyễn 3", "李小龍", "A" * 101])
def test_fold_rejects(bad: str) -> None:
    with pytest.raises(NameFormatError) as info:
        fold_name(bad)
    assert info.value.field == "HoTen"


@pytest.mark.parametrize(
    ("typed", "iso"), [("18/01/1987", "1987-01-18"), ("1/2/2000", "2000-02-01"), ("1987-01-18", "1987-01-18")]
)
def test_human_dates(typed: str, iso: str) -> None:
    assert parse_human_date(typed).isoformat() == iso


@pytest.mark.parametrize("bad", ["30/02/1987", "1987/01/18", "yesterday", "18/01/1850"])
def test_human_dates_rejected(bad: str) -> None:
    with pytest.raises(PayloadError) as info:
        parse_human_date(bad)
    assert info.value.field == "NgaySinh"


def test_build_from_human_input() -> None:
    code = build(
        document_number="001 093 029 317",
        full_name="Nguyễn Lê Kha Hân",
        birth_date="18/01/1987",
        qid="162979388586171100",
        gender="male",
        phone="+84 944 713 700",
        insurance_number="hs4010120878821",
    )
    assert (
        code.to_text()
        == "001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700"
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"phone": "12345"}, "phone"),
        ({"insurance_number": "HS12"}, "insurance_number"),
        ({"proxy_qid": "162979388586171100"}, "proxy_qid"),
        ({"document_number": "******029317"}, "SoGiayTo"),
        ({"gender": "other"}, "gender"),
    ],
)
def test_build_errors_name_the_field(kwargs: dict[str, str], field: str) -> None:
    base = {
        "document_number": "001093029317",
        "full_name": "A B",
        "birth_date": "1987-01-18",
        "qid": "162979388586171100",
    }
    with pytest.raises(PayloadError) as info:
        build(**{**base, **kwargs})  # type: ignore[arg-type]
    assert info.value.field == field
