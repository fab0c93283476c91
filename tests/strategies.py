"""Hypothesis strategies for codes (shared by the property tests and the fuzz target)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from unifiedqr.codes.build import build
from unifiedqr.codes.payload import ExtForm, Gender, PersonalCode

digits = st.text("0123456789", min_size=1, max_size=1)
qids = st.text("0123456789", min_size=18, max_size=18)
documents = st.one_of(
    st.text("0123456789", min_size=12, max_size=12),
    st.text("0123456789", min_size=9, max_size=9),
    st.tuples(st.sampled_from("ABCNP"), st.text("0123456789ABC", min_size=5, max_size=8)).map("".join),
)
vietnamese_words = st.sampled_from(
    [
        "Nguyễn",
        "Lê",
        "Kha",
        "Hân",
        "Đặng",
        "Thị",
        "Ánh",
        "Trần",
        "Phạm",
        "Hoàng",
        "Huỳnh",
        "Võ",
        "Đỗ",
        "Bùi",
        "Ngô",
        "Dương",
        "Lý",
        "Minh",
        "Khôi",
        "Thuỷ",
        "Tuấn",
        "Ngọc",
        "Ưng",
        "Ơn",
        "ĐẠT",
    ]
)
names = st.lists(vietnamese_words, min_size=1, max_size=5).map(" ".join)
birth_dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31))
phones = st.text("0123456789", min_size=9, max_size=9).map(lambda s: "0" + s)
insurance = st.tuples(
    st.sampled_from(["HS", "DN", "GD", "TE", "CH"]), st.text("0123456789", min_size=13, max_size=13)
).map("".join)
extras = st.lists(st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ:=", min_size=1, max_size=6), max_size=3)


@st.composite
def personal_codes(draw: st.DrawFn) -> PersonalCode:
    qid = draw(qids)
    proxy = draw(st.one_of(st.none(), qids.filter(lambda q: q != qid)))
    return build(
        document_number=draw(documents),
        full_name=draw(names),
        birth_date=draw(birth_dates),
        qid=qid,
        gender=draw(st.one_of(st.none(), st.sampled_from(list(Gender)))),
        phone=draw(st.one_of(st.none(), phones)),
        insurance_number=draw(st.one_of(st.none(), insurance)),
        proxy_qid=proxy,
        extra=draw(extras),
        form=draw(st.sampled_from(list(ExtForm))),
    )
