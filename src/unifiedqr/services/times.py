"""Time values from clients: one parser, one bounded range.

Every instant a client sends (a scan's ``at``, a batch's ``sent_at``, a tracing window) goes through
:func:`parse_instant`, once. Why bounded: Python's datetime covers years 1-9999, and arithmetic near
either end overflows (``0001-01-01T00:00:00+14:00`` is before year 1 in UTC; a day bound of
``9999-12-31`` is past the end), which surfaced as 500s. Nothing this system records lies outside
``EARLIEST``..``LATEST`` (1970 to 9000), so a value outside is refused as malformed, by name, before
any arithmetic; within it, the callers' own rules (in the future, older than retention) apply.
"""

from __future__ import annotations

import datetime as dt
import re

from unifiedqr.errors import Code, InvalidInput, ScanRejected

EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)
MAX_TEXT = 40
_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}"  # date and time (hours, minutes)
    r"(?::[0-9]{2}(?:\.[0-9]{1,9})?)?"  # seconds and a fraction, optional
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})?"  # the offset; none means UTC
)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_instant(value: object, field: str) -> dt.datetime:
    """An RFC 3339 instant (no offset means UTC) as an aware UTC datetime within the bounded range.

    Raises :class:`ScanRejected` with code ``malformed`` (an ``InvalidInput``) naming ``field``.
    """
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise ScanRejected(field, Code.MALFORMED, "must be an RFC 3339 time")
    text = value.strip()
    if not _INSTANT.fullmatch(text):
        raise ScanRejected(
            field, Code.MALFORMED, f"{text!r} is not an RFC 3339 time (e.g. 2026-11-30T08:15:00+07:00)"
        )
    try:
        parsed = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise ScanRejected(field, Code.MALFORMED, f"{text!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    if not EARLIEST.year < parsed.year < LATEST.year:
        # Checked on the wall-clock fields first: converting year 1 or 9999 with an offset overflows.
        raise ScanRejected(
            field, Code.MALFORMED, f"must lie between the years {EARLIEST.year} and {LATEST.year}"
        )
    return parsed.astimezone(dt.UTC)


def parse_date(value: object, field: str) -> dt.date:
    """A calendar date ``YYYY-MM-DD`` within the same bounded range."""
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise InvalidInput(field, "must be a date written YYYY-MM-DD")
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, f"{value!r} is not a date written YYYY-MM-DD") from None
    if not EARLIEST.year < day.year < LATEST.year:
        raise InvalidInput(field, f"must lie between the years {EARLIEST.year} and {LATEST.year}")
    return day
