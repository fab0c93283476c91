"""Helpers shared by the venue tests (a plain module: conftest modules are not for importing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

LOCAL = dt.timezone(dt.timedelta(hours=7))  # the default visit day is Vietnam's


def local_time(days_ago: int, hour: int, minute: int = 0, second: int = 0) -> str:
    """An RFC 3339 time on a past local day (visit rules then never depend on the clock)."""
    day = dt.datetime.now(LOCAL).date() - dt.timedelta(days=days_ago)
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=LOCAL).isoformat()


def local_day(days_ago: int) -> str:
    return (dt.datetime.now(LOCAL).date() - dt.timedelta(days=days_ago)).isoformat()


def cccd_text(document: str, name: str = "Nguyễn Lê Kha Hân", birth: str = "18011987") -> str:
    """A chip ID card QR (spec §5): ID|old ID|name|ddmmyyyy|gender|address|issue date."""
    return f"{document}|123456789|{name}|{birth}|Nam|1 Hàng Bạc, Hoàn Kiếm, Hà Nội|01012021"


@contextmanager
def scan_rows_with_plans(session: Any) -> Iterator[tuple[Any, list[str]]]:
    """``ScanRows`` over ``session`` that records SQLite's ``EXPLAIN QUERY PLAN`` of every query it
    reads rows with (one line per query, in order), for the index tests."""
    from unifiedqr.store.scan_rows import ScanRows
    from unifiedqr.store.sql import Statement

    rows = ScanRows(session)
    captured: list[str] = []
    original = rows.raw.rows

    def explain(statement: Any, params: Any) -> Any:
        plan = original(Statement("EXPLAIN QUERY PLAN " + statement.sqlite), params)
        captured.append(" ".join(str(r[-1]) for r in plan))
        return original(statement, params)

    rows.raw.rows = explain
    try:
        yield rows, captured
    finally:
        rows.raw.rows = original
