"""Helpers shared by the venue tests (a plain module: conftest modules are not for importing)."""

from __future__ import annotations

import datetime as dt

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
