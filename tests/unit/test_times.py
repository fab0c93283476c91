"""The one parser of instants and dates: RFC 3339, bounded, with per-caller bounds and strictness."""

from __future__ import annotations

import datetime as dt

import pytest

from unifiedqr.errors import InvalidInput, ScanRejected
from unifiedqr.services.times import parse_date, parse_instant


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-30T08:15:00+07:00", dt.datetime(2026, 11, 30, 1, 15, tzinfo=dt.UTC)),
        # the first release's leniencies, kept: a space, no offset (UTC), no seconds
        ("2026-11-30 08:15:00+07:00", dt.datetime(2026, 11, 30, 1, 15, tzinfo=dt.UTC)),
        ("2026-11-30T01:15:00", dt.datetime(2026, 11, 30, 1, 15, tzinfo=dt.UTC)),
        ("2026-11-30T08:15+07:00", dt.datetime(2026, 11, 30, 1, 15, tzinfo=dt.UTC)),
        ("2026-11-30t01:15:00z", dt.datetime(2026, 11, 30, 1, 15, tzinfo=dt.UTC)),
        ("2026-11-30T01:15:00.5Z", dt.datetime(2026, 11, 30, 1, 15, 0, 500000, tzinfo=dt.UTC)),
        ("2026-11-29T20:15:00-05:00", dt.datetime(2026, 11, 30, 1, 15, tzinfo=dt.UTC)),
    ],
)
def test_accepted_instants_come_back_in_utc(text: str, expected: dt.datetime) -> None:
    value = parse_instant(text, "at")
    assert value == expected and value.tzinfo is dt.UTC


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-11-30T08:15:00+0700", "RFC 3339"),
        ("2026-11-30T08:15:00.1234567Z", "microsecond"),
        ("2016-12-31T23:59:60Z", "leap"),
        ("2026-02-30T00:00:00Z", "not a real"),
        ("2026-11-30T00:00:00+24:00", "not a UTC offset"),
        ("0001-01-01T00:00:00+14:00", "between the years"),
        ("9999-12-31T23:59:59-23:59", "between the years"),
        ("２０２６-11-30T08:15:00Z", "RFC 3339"),
        ("x" * 41, "RFC 3339"),
        (1764490500, "RFC 3339"),
    ],
)
def test_refused_instants_are_malformed_and_named(text: object, reason: str) -> None:
    with pytest.raises(ScanRejected) as info:
        parse_instant(text, "at")
    assert info.value.field == "at" and info.value.code == "malformed"
    assert reason in info.value.reason


def test_caller_bounds_and_the_written_offset() -> None:
    earliest = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    latest = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)
    kept = parse_instant("2020-06-01T08:00:00+07:00", "t", earliest=earliest, latest=latest, keep_offset=True)
    assert kept.utcoffset() == dt.timedelta(hours=7)
    with pytest.raises(InvalidInput, match="before"):
        parse_instant("2019-12-31T23:59:59Z", "t", earliest=earliest)
    with pytest.raises(InvalidInput, match="future"):
        parse_instant("2021-01-01T00:00:00.000001Z", "t", latest=latest)
    assert parse_instant("2021-01-01T00:00:00Z", "t", latest=latest) == latest  # inclusive


def test_dates() -> None:
    assert parse_date("2026-11-30", "date") == dt.date(2026, 11, 30)
    for bad in ("2026-11-31", "2026-1-30", "0001-01-01", "20261130", None):
        with pytest.raises(InvalidInput):
            parse_date(bad, "date")
    with pytest.raises(InvalidInput, match="future"):
        parse_date("2026-12-01", "date", latest=dt.date(2026, 11, 30))


@pytest.mark.parametrize("text", ["2026-11-30T08:15:00", "2026-11-30T08:15+07:00"])
def test_strict_callers_refuse_the_leniencies(text: str) -> None:
    """Health records (a test's taken_at): a guessed zone would move a result across a day."""
    with pytest.raises(ScanRejected, match="offset"):
        parse_instant(text, "taken_at", strict=True)
