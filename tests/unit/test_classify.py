from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unifiedqr.codes.build import build
from unifiedqr.codes.cccd import parse_cccd
from unifiedqr.codes.classify import classify
from unifiedqr.errors import CCCDError

SAMPLE = "001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700"
CCCD = "001093029317|123456789|Nguyễn Lê Kha Hân|18011987|Nữ|Số 1 Hàng Bạc, Hoàn Kiếm, Hà Nội|01052021"
CCCD_NO_OLD = "079201001234||Trần Văn Bình|06052001|Nam|12 Lê Lợi, Quận 1, TP Hồ Chí Minh|15082021"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (SAMPLE, "personal"),
        (SAMPLE + "\n", "personal"),
        ("******029317|NGUYEN LE KHA HAN|1987-**-**|0|162979388586171100|<1<<", "personal"),
        (CCCD, "cccd"),
        (CCCD_NO_OLD, "cccd"),
        (
            "HC1:6BFOXN%TS3DH0YOJ58S S-W5HDC *M0II5XHC9B5G2+$N IOP-IA%NFQGRJPC%OQHIZC4.OI1RM8ZA.A5:S9MKN4NN3F85QNCY0O%0VZ001HOC9JU0D0HT0HB2PL/IB*09B9LW4T*8+DCMH0LDK2%K:XFE70*LP$V25$0Q:J:4MO1P0%0L0HD+9E/HY+4J6TH48S%4K.GJ2PT3QY:GQ3TE2I+-CPHN6D7LLK*Y0ZQJ4HBSGRKZ8UY8JKKR8K97HJ4:0+QT9QSL4ODG0:7SO50",
            "eu_dcc",
        ),
        ("https://example.com/page", "unknown"),
        (
            "https://qr.gov.example/v/AbCdEfGhIjK/AbCdEfGhIjK.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "venue",
        ),
        ("hello", "unknown"),
        ("", "unknown"),
        ("1|2|3|4|5|6", "unknown"),
    ],
)
def test_kinds(text: str, kind: str) -> None:
    assert classify(text).kind == kind


def test_classify_reports_masked_and_invalid() -> None:
    assert (
        classify("******029317|NGUYEN LE KHA HAN|1987-**-**|0|162979388586171100|<1<<").details["masked"]
        is True
    )
    broken = classify("001093029317|NGUYEN LE KHA HAN|1987-02-30|0|162979388586171100|<1<<")
    assert (
        broken.kind == "personal"
        and broken.details["valid"] is False
        and "NgaySinh" in broken.details["error"]
    )


@settings(max_examples=500)
@given(st.one_of(st.text(max_size=400), st.binary(max_size=400)))
def test_classify_never_raises(data: str | bytes) -> None:
    assert classify(data).kind in {"personal", "cccd", "venue", "eu_dcc", "unknown"}


def test_cccd_parse_and_draft() -> None:
    record = parse_cccd(CCCD)
    assert record.id_number == "001093029317" and record.old_id_number == "123456789"
    assert record.full_name == "Nguyễn Lê Kha Hân" and record.birth_date == dt.date(1987, 1, 18)
    assert record.gender.label == "female" and record.issue_date == dt.date(2021, 5, 1)
    assert record.address.startswith("Số 1")
    draft = record.to_draft()
    assert draft == {
        "document_number": "001093029317",
        "full_name": "NGUYEN LE KHA HAN",
        "birth_date": "1987-01-18",
        "gender": "female",
    }
    code = build(**draft, qid="162979388586171100")
    assert code.to_text().startswith("001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<2<")
    assert parse_cccd(CCCD_NO_OLD).old_id_number is None


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("001093029317|123456789|Nguyễn|18011987|Nữ|addr", "cccd"),
        ("00109302931|123456789|Nguyễn|18011987|Nữ|addr|01052021", "id_number"),
        ("001093029317|12345|Nguyễn|18011987|Nữ|addr|01052021", "old_id_number"),
        ("001093029317|123456789|Nguyễn|31021987|Nữ|addr|01052021", "birth_date"),
        ("001093029317|123456789|Nguyễn|18011987|X|addr|01052021", "gender"),
        ("001093029317|123456789||18011987|Nam|addr|01052021", "full_name"),
    ],
)
def test_cccd_errors(text: str, field: str) -> None:
    with pytest.raises(CCCDError) as info:
        parse_cccd(text)
    assert info.value.field == field
