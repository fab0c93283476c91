"""Health records from API bodies and the import CSV: every rejection names its field."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unifiedqr.errors import InvalidInput
from unifiedqr.services.health_records import (
    CSV_COLUMNS,
    CsvRecord,
    RowErrors,
    RowProblem,
    read_csv,
    record_from_json,
    record_to_json,
)
from unifiedqr.services.health_status import Record, Recovery, Test, Vaccination

VIETNAM = dt.timezone(dt.timedelta(hours=7))
# 00:30 on 2021-10-20 in Vietnam, still 2021-10-19 in UTC: "today" is the Vietnamese date.
NOW = dt.datetime(2021, 10, 19, 17, 30, tzinfo=dt.UTC)
QID = "162979388586171100"
HEADER = ",".join(CSV_COLUMNS)

VACCINATION = {
    "kind": "vaccination",
    "date": "2021-09-01",
    "dose": 2,
    "doses_in_series": 2,
    "product": "Vero Cell",
}
TEST = {"kind": "test", "taken_at": "2021-10-19T08:00:00+07:00", "method": "pcr", "result": "negative"}
RECOVERY = {"kind": "recovery", "date": "2021-08-15"}


def body(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    result = {**base, **changes}
    return {k: v for k, v in result.items() if v is not ...}


# ---------------------------------------------------------------------------------------------------
# API bodies
# ---------------------------------------------------------------------------------------------------
def test_each_kind_parses_to_its_record() -> None:
    assert record_from_json(VACCINATION, NOW) == Vaccination(dt.date(2021, 9, 1), 2, 2, "Vero Cell")
    assert record_from_json(TEST, NOW) == Test(dt.datetime(2021, 10, 19, 1, tzinfo=dt.UTC), "pcr", "negative")
    assert record_from_json(RECOVERY, NOW) == Recovery(dt.date(2021, 8, 15))


ACCEPTED = [
    ("dose_1", body(VACCINATION, dose=1)),
    ("dose_10", body(VACCINATION, dose=10, doses_in_series=10)),
    ("booster_3_of_2", body(VACCINATION, dose=3)),
    ("product_100_chars", body(VACCINATION, product="x" * 100)),
    ("product_with_diacritics", body(VACCINATION, product="Nanocovax (Việt Nam), lô 2")),
    ("date_first_allowed", body(RECOVERY, date="2019-12-01")),
    ("date_today_in_vietnam", body(RECOVERY, date="2021-10-20")),
    ("taken_exactly_now", body(TEST, taken_at="2021-10-19T17:30:00Z")),
    ("taken_lower_case_t_z", body(TEST, taken_at="2021-10-19t17:00:00z")),
    ("taken_with_microseconds", body(TEST, taken_at="2021-10-19T17:29:59.999999Z")),
    ("taken_with_negative_offset", body(TEST, taken_at="2021-10-19T12:00:00-05:00")),
    ("taken_first_allowed", body(TEST, taken_at="2019-11-30T17:00:00Z")),
    ("rapid_positive", body(TEST, method="rapid_antigen", result="positive")),
]


@pytest.mark.parametrize("given_body", [a[1] for a in ACCEPTED], ids=[a[0] for a in ACCEPTED])
def test_accepted(given_body: dict[str, Any]) -> None:
    record = record_from_json(given_body, NOW)
    assert record_from_json(record_to_json(record), NOW) == record


REFUSED: list[tuple[str, object, str, str]] = [
    ("not_an_object", ["vaccination"], "body", "JSON object"),
    ("no_kind", body(RECOVERY, kind=...), "kind", "required"),
    ("unknown_kind", body(RECOVERY, kind="vaccine"), "kind", "one of"),
    ("kind_not_text", body(RECOVERY, kind=1), "kind", "one of"),
    ("unknown_key", body(VACCINATION, lot="A1"), "lot", "unknown field for kind vaccination"),
    ("key_of_another_kind", body(TEST, dose=1), "dose", "unknown field for kind test"),
    ("date_on_a_test", body(TEST, date="2021-10-19"), "date", "unknown field"),
    ("missing_date", body(VACCINATION, date=...), "date", "required"),
    ("missing_product", body(VACCINATION, product=...), "product", "required"),
    ("missing_result", body(TEST, result=...), "result", "required"),
    ("dose_0", body(VACCINATION, dose=0), "dose", "from 1 to 10"),
    ("dose_11", body(VACCINATION, dose=11), "dose", "from 1 to 10"),
    ("dose_as_text", body(VACCINATION, dose="2"), "dose", "whole number"),
    ("dose_as_float", body(VACCINATION, dose=2.0), "dose", "whole number"),
    ("dose_as_bool", body(VACCINATION, dose=True), "dose", "whole number"),
    ("dose_null", body(VACCINATION, dose=None), "dose", "whole number"),
    ("series_0", body(VACCINATION, doses_in_series=0), "doses_in_series", "from 1 to 10"),
    ("series_11", body(VACCINATION, doses_in_series=11), "doses_in_series", "from 1 to 10"),
    ("product_empty", body(VACCINATION, product=""), "product", "1 to 100"),
    ("product_101_chars", body(VACCINATION, product="x" * 101), "product", "1 to 100"),
    ("product_not_text", body(VACCINATION, product=5), "product", "1 to 100"),
    ("product_padded", body(VACCINATION, product=" Vero Cell"), "product", "white space"),
    ("product_newline", body(VACCINATION, product="Vero\nCell"), "product", "control"),
    ("product_zero_width", body(VACCINATION, product="Vero\u200bCell"), "product", "control"),
    ("date_one_digit_month", body(RECOVERY, date="2021-9-01"), "date", "YYYY-MM-DD"),
    ("date_compact", body(RECOVERY, date="20210901"), "date", "YYYY-MM-DD"),
    ("date_with_time", body(RECOVERY, date="2021-09-01T00:00:00Z"), "date", "YYYY-MM-DD"),
    ("date_not_text", body(RECOVERY, date=20210901), "date", "YYYY-MM-DD"),
    ("date_full_width_digits", body(RECOVERY, date="２０２１-09-01"), "date", "YYYY-MM-DD"),
    ("date_30_february", body(RECOVERY, date="2021-02-30"), "date", "not a calendar date"),
    ("date_before_2019_12_01", body(RECOVERY, date="2019-11-30"), "date", "before 2019-12-01"),
    ("date_tomorrow_in_vietnam", body(VACCINATION, date="2021-10-21"), "date", "future"),
    ("taken_without_offset", body(TEST, taken_at="2021-10-19T08:00:00"), "taken_at", "RFC 3339"),
    ("taken_with_space", body(TEST, taken_at="2021-10-19 08:00:00Z"), "taken_at", "RFC 3339"),
    ("taken_date_only", body(TEST, taken_at="2021-10-19"), "taken_at", "RFC 3339"),
    ("taken_without_seconds", body(TEST, taken_at="2021-10-19T08:00Z"), "taken_at", "RFC 3339"),
    ("taken_compact_offset", body(TEST, taken_at="2021-10-19T08:00:00+0700"), "taken_at", "RFC 3339"),
    ("taken_not_text", body(TEST, taken_at=1634605200), "taken_at", "RFC 3339"),
    ("taken_nanoseconds", body(TEST, taken_at="2021-10-19T08:00:00.123456789Z"), "taken_at", "microsecond"),
    ("taken_leap_second", body(TEST, taken_at="2016-12-31T23:59:60Z"), "taken_at", "leap"),
    ("taken_hour_25", body(TEST, taken_at="2021-10-19T25:00:00Z"), "taken_at", "not a real"),
    ("taken_offset_24h", body(TEST, taken_at="2021-10-19T08:00:00+24:00"), "taken_at", "not a UTC offset"),
    ("taken_before_2019_12_01", body(TEST, taken_at="2019-11-30T16:59:59Z"), "taken_at", "before 2019-12-01"),
    ("taken_one_microsecond_ahead", body(TEST, taken_at="2021-10-19T17:30:00.000001Z"), "taken_at", "future"),
    ("method_upper_case", body(TEST, method="PCR"), "method", "one of"),
    ("method_unknown", body(TEST, method="lamp"), "method", "one of"),
    ("result_unknown", body(TEST, result="inconclusive"), "result", "one of"),
]


@pytest.mark.parametrize(
    ("given_body", "field", "reason"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_refused(given_body: Any, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        record_from_json(given_body, NOW)
    assert info.value.field == field
    assert reason in info.value.reason, info.value.reason


def test_a_long_unknown_key_is_shortened_in_the_field() -> None:
    with pytest.raises(InvalidInput) as info:
        record_from_json(body(RECOVERY, **{"k" * 500: 1}), NOW)
    assert len(info.value.field) == 40


def test_now_must_be_aware() -> None:
    with pytest.raises(InvalidInput) as info:
        record_from_json(RECOVERY, dt.datetime(2021, 10, 20))
    assert info.value.field == "now"


def test_without_now_only_the_clock_check_is_skipped() -> None:
    assert record_from_json(body(RECOVERY, date="2031-01-01"), None) == Recovery(dt.date(2031, 1, 1))
    with pytest.raises(InvalidInput):
        record_from_json(body(RECOVERY, date="2019-11-30"), None)


def test_records_refuse_values_no_parser_would_produce() -> None:
    with pytest.raises(InvalidInput, match="taken_at"):
        Test(dt.datetime(2021, 10, 19, 8), "pcr", "negative")
    with pytest.raises(InvalidInput, match="date"):
        Recovery(dt.datetime(2021, 10, 19, tzinfo=dt.UTC))  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="dose"):
        Vaccination(dt.date(2021, 10, 19), True, 2, "x")
    with pytest.raises(InvalidInput, match="method"):
        Test(NOW, "lamp", "negative")  # type: ignore[arg-type]


valid_records = st.one_of(
    st.builds(
        Vaccination,
        st.dates(dt.date(2019, 12, 1), dt.date(2021, 10, 20)),
        st.integers(1, 10),
        st.integers(1, 10),
        st.text(min_size=1, max_size=100).filter(lambda t: record_is_fine(t)),
    ),
    st.builds(
        Test,
        st.datetimes(dt.datetime(2019, 12, 1), dt.datetime(2021, 10, 19, 10), timezones=st.just(VIETNAM)).map(
            lambda t: t.astimezone(dt.UTC)
        ),
        st.sampled_from(["pcr", "rapid_antigen"]),
        st.sampled_from(["negative", "positive"]),
    ),
    st.builds(Recovery, st.dates(dt.date(2019, 12, 1), dt.date(2021, 10, 20))),
)


def record_is_fine(product: str) -> bool:
    try:
        record_from_json(body(VACCINATION, product=product), NOW)
    except InvalidInput:
        return False
    return True


@given(valid_records)
def test_round_trip(record: Record) -> None:
    assert record_from_json(record_to_json(record), NOW) == record


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)


@given(
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["vaccination", "test", "recovery", "x"])},
        optional={
            k: json_values
            for k in ("date", "dose", "doses_in_series", "product", "taken_at", "method", "result")
        },
    )
)
def test_arbitrary_bodies_raise_only_invalid_input(given_body: dict[str, Any]) -> None:
    with contextlib.suppress(InvalidInput):
        assert isinstance(record_from_json(given_body, NOW), Vaccination | Test | Recovery)


# ---------------------------------------------------------------------------------------------------
# CSV import
# ---------------------------------------------------------------------------------------------------
def csv_bytes(*rows: str, bom: bool = False, newline: str = "\n") -> io.BytesIO:
    text = newline.join((HEADER, *rows)) + newline
    return io.BytesIO((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))


GOOD_ROWS = (
    f'{QID},vaccination,2021-09-01,2,2,"Vero Cell, Sinopharm",,,',
    f"{QID},test,,,,,2021-10-19T08:00:00+07:00,pcr,negative",
    f"{QID[:-1]}1,recovery,2021-08-15,,,,,,",
)
GOOD_RECORDS = [
    CsvRecord(2, QID, Vaccination(dt.date(2021, 9, 1), 2, 2, "Vero Cell, Sinopharm")),
    CsvRecord(3, QID, Test(dt.datetime(2021, 10, 19, 1, tzinfo=dt.UTC), "pcr", "negative")),
    CsvRecord(4, QID[:-1] + "1", Recovery(dt.date(2021, 8, 15))),
]


@pytest.mark.parametrize(("bom", "newline"), [(False, "\n"), (True, "\r\n"), (True, "\n")])
def test_a_good_file(bom: bool, newline: str) -> None:
    assert read_csv(csv_bytes(*GOOD_ROWS, bom=bom, newline=newline), NOW) == GOOD_RECORDS


def test_a_text_stream_works_too() -> None:
    text = "\ufeff" + "\n".join((HEADER, *GOOD_ROWS)) + "\n"
    assert read_csv(io.StringIO(text), NOW) == GOOD_RECORDS


def test_rows_are_numbered_as_a_spreadsheet_shows_them_and_empty_rows_are_skipped() -> None:
    found = read_csv(csv_bytes("", GOOD_ROWS[0], ",,,,,,,,", GOOD_ROWS[1]), NOW)
    assert [r.row for r in found] == [3, 5]
    # A quoted cell over two lines is one row (and refused: no field may hold a line break).
    stream = csv_bytes(
        GOOD_ROWS[0], f'{QID},vaccination,2021-09-01,1,2,"two\nlines",,,', "", f"{QID},x,,,,,,,"
    )
    with pytest.raises(RowErrors) as info:
        read_csv(stream, NOW)
    assert [(p.row, p.field) for p in info.value.problems] == [(3, "rows[3].product"), (5, "rows[5].kind")]


def test_only_a_header_is_an_empty_import() -> None:
    assert read_csv(io.BytesIO(HEADER.encode()), NOW) == []


def test_every_bad_row_is_reported_and_nothing_is_returned() -> None:
    rows = (
        GOOD_ROWS[0],
        f"{QID},vaccination,2021-09-01,two,2,Vero Cell,,,",  # row 3
        f"{QID},test,2021-10-19,,,,2021-10-19T08:00:00+07:00,pcr,negative",  # row 4: date on a test
        f"{QID[:17]},recovery,2021-08-15,,,,,,",  # row 5: 17 digits
        GOOD_ROWS[1],
        f"{QID},recovery,2021-10-21,,,,,,",  # row 7: tomorrow in Vietnam
        f"{QID},vaccination,2021-09-01,2,2,,,,",  # row 8: no product
        f"{QID},vaccine,2021-09-01,2,2,x,,,",  # row 9
        f"{QID},recovery,2021-08-15,,,,,",  # row 10: 8 columns
        f"{'١' * 18},test,,,,,2021-10-19T08:00:00+07:00,rapid,negative",  # row 11: Arabic-Indic digits, bad method
        f"{QID},vaccination,2021-09-01,0,2,Vero Cell,2021-10-19T08:00:00Z,,",  # row 12: dose 0 and a test cell
    )
    with pytest.raises(RowErrors) as info:
        read_csv(csv_bytes(*rows), NOW)
    assert list(info.value.problems) == [
        RowProblem(3, "rows[3].dose", "must be a whole number from 1 to 10"),
        RowProblem(4, "rows[4].date", "must be empty for kind test"),
        RowProblem(5, "rows[5].qid", "must be 18 ASCII digits"),
        RowProblem(7, "rows[7].date", "must not be in the future (today is 2021-10-20)"),
        RowProblem(8, "rows[8].product", "required"),
        RowProblem(9, "rows[9].kind", "must be one of vaccination, test, recovery"),
        RowProblem(10, "rows[10]", "has 8 columns, the header has 9"),
        RowProblem(11, "rows[11].qid", "must be 18 ASCII digits"),
        RowProblem(11, "rows[11].method", "must be one of pcr, rapid_antigen"),
        RowProblem(12, "rows[12].taken_at", "must be empty for kind vaccination"),
    ]
    error = info.value
    assert isinstance(error, InvalidInput) and error.field == "rows"
    assert error.reason.startswith("9 bad rows, nothing imported: rows[3].dose: must be a whole number")


def test_a_dose_out_of_range_in_a_row() -> None:
    with pytest.raises(RowErrors) as info:
        read_csv(csv_bytes(f"{QID},vaccination,2021-09-01,11,2,x,,,"), NOW)
    assert info.value.problems == (RowProblem(2, "rows[2].dose", "must be a whole number from 1 to 10"),)


def test_the_message_lists_ten_problems_and_counts_the_rest() -> None:
    rows = [f"{QID},recovery,2019-01-01,,,,,,"] * 25
    with pytest.raises(RowErrors) as info:
        read_csv(csv_bytes(*rows), NOW)
    assert len(info.value.problems) == 25
    assert info.value.reason.count("before 2019-12-01") == 10
    assert info.value.reason.endswith("; and 15 more")


@pytest.mark.parametrize(
    ("data", "field", "reason"),
    [
        (b"", "header", "required"),
        (b"\xef\xbb\xbf", "header", "required"),
        (b"qid,kind,date\n", "header", "must be exactly"),
        (HEADER.upper().encode() + b"\n", "header", "must be exactly"),
        (
            HEADER.replace("dose,doses_in_series", "doses_in_series,dose").encode(),
            "header",
            "must be exactly",
        ),
        ((HEADER + ",note").encode(), "header", "must be exactly"),
        ((" " + HEADER).encode(), "header", "must be exactly"),
        (
            HEADER.encode() + b"\n" + QID.encode() + b',recovery,"2021-08-15"x,,,,,,\n',
            "rows[2]",
            "not valid CSV",
        ),
        (HEADER.encode() + b"\n\xff\n", "file", f"not UTF-8 (at byte offset {len(HEADER) + 1})"),
        (
            b"\xef\xbb\xbf" + HEADER.encode() + b"\n\xff\n",
            "file",
            f"not UTF-8 (at byte offset {len(HEADER) + 4})",
        ),
    ],
    ids=[
        "empty",
        "only_a_bom",
        "short_header",
        "upper_case_header",
        "reordered_header",
        "extra_column",
        "padded_header",
        "bad_quoting",
        "not_utf8",
        "not_utf8_after_bom",
    ],
)
def test_unreadable_files(data: bytes, field: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as info:
        read_csv(io.BytesIO(data), NOW)
    assert not isinstance(info.value, RowErrors)
    assert info.value.field == field
    assert info.value.reason.startswith(reason), info.value.reason


def test_size_limits_are_explicit() -> None:
    data = csv_bytes(*GOOD_ROWS).getvalue()
    assert read_csv(io.BytesIO(data), NOW, max_bytes=len(data)) == GOOD_RECORDS
    with pytest.raises(InvalidInput) as info:
        read_csv(io.BytesIO(data), NOW, max_bytes=len(data) - 1)
    assert (info.value.field, info.value.reason) == ("file", f"larger than {len(data) - 1} bytes")
    assert read_csv(io.BytesIO(data), NOW, max_rows=3) == GOOD_RECORDS
    with pytest.raises(InvalidInput) as info:
        read_csv(io.BytesIO(data), NOW, max_rows=2)
    assert (info.value.field, info.value.reason) == ("rows", "more than 2 rows in one file")


def test_a_huge_cell_is_refused_not_read() -> None:
    data = (
        HEADER.encode() + b"\n" + QID.encode() + b",vaccination,2021-09-01,1,2," + b"x" * 200_000 + b",,,\n"
    )
    with pytest.raises(InvalidInput) as info:
        read_csv(io.BytesIO(data), NOW)
    assert info.value.field == "rows[2]"


def test_csv_now_must_be_aware() -> None:
    with pytest.raises(InvalidInput) as info:
        read_csv(csv_bytes(*GOOD_ROWS), dt.datetime(2021, 10, 20))
    assert info.value.field == "now"


@given(st.text(max_size=300))
def test_arbitrary_files_raise_only_invalid_input(text: str) -> None:
    with contextlib.suppress(InvalidInput):
        assert all(isinstance(found, CsvRecord) for found in read_csv(io.StringIO(HEADER + "\n" + text), NOW))
