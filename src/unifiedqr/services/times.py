"""Time values from clients: one parser for instants, one for dates, one bounded range.

Every instant a client sends (a scan's ``at``, a batch's ``sent_at``, a test's ``taken_at``, a
tracing window, ``purge --now``) goes through :func:`parse_instant`, once; every calendar date
through :func:`parse_date`. Callers with a narrower domain (health records: not before 2019-12-01,
not after now) pass their own bounds, so there is one grammar and one set of messages.

The grammar is RFC 3339's ``date-time``: ``T`` (``t``, or a space as RFC 3339 allows) between
date and time, a fraction of at most six digits (a finer one is refused, never truncated), an
offset ``Z``, ``z`` or ``±hh:mm`` with hours up to 23, no leap second, ASCII digits only. Two
leniencies are kept from the platform's first release, where scanners relied on them: a time
without an offset is UTC, and the seconds may be left out (``08:15`` is ``08:15:00``).

Why bounded: Python's datetime covers years 1-9999, and arithmetic near either end overflows
(``0001-01-01T00:00:00+14:00`` is before year 1 in UTC; a day bound of ``9999-12-31`` is past the
end), which surfaced as 500s. Nothing this system records lies outside ``EARLIEST``..``LATEST``
(1970 to 9000), so a value outside is refused as malformed, by name, before any arithmetic.
"""

from __future__ import annotations

import datetime as dt
import re

from unifiedqr.errors import Code, InvalidInput, ScanRejected

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
MAX_TEXT = 40
_INSTANT = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?"
    r"(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))?"
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
EXAMPLE = "2026-11-30T08:15:00+07:00"


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 50 else text[:47] + "..."


def _malformed(field: str, reason: str) -> ScanRejected:
    return ScanRejected(field, Code.MALFORMED, reason)


def parse_instant(
    value: object,
    field: str,
    *,
    earliest: dt.datetime | None = None,
    latest: dt.datetime | None = None,
    keep_offset: bool = False,
    strict: bool = False,
) -> dt.datetime:
    """An RFC 3339 instant as an aware datetime (UTC unless ``keep_offset``), within the bounds.

    Raises :class:`ScanRejected` with code ``malformed`` (an ``InvalidInput``) naming ``field``;
    ``earliest``/``latest`` (inclusive) narrow the range for one caller; ``strict`` refuses the
    leniencies (a space, a missing offset, missing seconds), for data where a guessed zone is wrong.
    """
    match = _INSTANT.fullmatch(value) if isinstance(value, str) and len(value) <= MAX_TEXT else None
    if match is None:
        shown = _show(value)
        raise _malformed(field, f"must be an RFC 3339 time with an offset (e.g. {EXAMPLE}), got {shown}")
    if (
        match is not None
        and strict
        and (match[6] is None or match[8] is match[9] is None or " " in str(value))
    ):
        match = None
    if match is None:
        shown = _show(value)
        raise _malformed(field, f"must be an RFC 3339 time with an offset (e.g. {EXAMPLE}), got {shown}")
    year, month, day, hour, minute = (int(match[i]) for i in range(1, 6))
    second = int(match[6] or 0)
    fraction, sign, offset_hours, offset_minutes = match[7], match[9], match[10], match[11]
    if fraction is not None and len(fraction) > 6:
        raise _malformed(field, "more precise than a microsecond")
    if second == 60:
        raise _malformed(field, "leap seconds are not supported")
    if not EARLIEST.year < year < LATEST.year:
        # Checked on the wall-clock fields first: converting year 1 or 9999 with an offset overflows.
        raise _malformed(field, f"must lie between the years {EARLIEST.year} and {LATEST.year}")
    offset = dt.timedelta(0)
    if sign is not None:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            raise _malformed(field, f"{offset_hours}:{offset_minutes} is not a UTC offset")
        offset = dt.timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        offset = -offset if sign == "-" else offset
    micro = int((fraction or "0").ljust(6, "0"))
    try:
        instant = dt.datetime(year, month, day, hour, minute, second, micro, tzinfo=dt.timezone(offset))
    except ValueError:
        raise _malformed(field, f"{value} is not a real date and time") from None
    if earliest is not None and instant < earliest:
        raise InvalidInput(field, f"must not be before {earliest.isoformat()}")
    if latest is not None and instant > latest:
        raise InvalidInput(field, f"must not be in the future (now is {latest.isoformat()})")
    return instant if keep_offset else instant.astimezone(dt.UTC)


def parse_date(
    value: object, field: str, *, earliest: dt.date | None = None, latest: dt.date | None = None
) -> dt.date:
    """A calendar date ``YYYY-MM-DD`` within the bounded range (and ``earliest``..``latest``)."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InvalidInput(field, f"must be a date written YYYY-MM-DD, got {_show(value)}")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value} is not a calendar date") from None
    if not EARLIEST.year < day.year < LATEST.year:
        raise InvalidInput(field, f"must lie between the years {EARLIEST.year} and {LATEST.year}")
    if earliest is not None and day < earliest:
        raise InvalidInput(field, f"must not be before {earliest.isoformat()}")
    if latest is not None and day > latest:
        raise InvalidInput(field, f"must not be in the future (today is {latest.isoformat()})")
    return day
