"""Tracing's reads on the raw-SQL layer: the case's own scans, the scans near them, and their labels.

Why raw SQL (``store.sql`` says why in general): a trace is a handful of index range reads whose
rows go straight into the pure rules (:mod:`unifiedqr.services.tracing_rules`); the ORM's row
objects would cost more than the reads. Every statement is one of the shapes the rules' docstrings
name, each served by an index of ``scan_events``:

- **the case's scans**: ``person_key = ANY(:keys) AND occurred_at BETWEEN`` the window's days
  (index ``person_key, occurred_at``);
- **the contacts**: per :class:`~unifiedqr.services.tracing_rules.VenueRange`,
  ``venue_id = :v AND occurred_at BETWEEN :start AND :end`` (index ``venue_id, occurred_at``),
  as one ``UNION ALL`` of such branches per statement. Each branch bounds ``occurred_at`` with its
  own constants, so on the day-partitioned table (issue 11) PostgreSQL prunes every branch to the
  one or two partitions its hour touches, and reads only those partitions' index ranges;
- **check-ins elsewhere** (the overlap rule closes visits without a check-out at the next one) and a
  ring's **sources' scans**: ``person_key = ANY(:keys) AND occurred_at BETWEEN``.

Times go through ``encode_time``/``decode_time``; on SQLite they are the text SQLAlchemy writes, so
the range comparisons are the index's own order.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from unifiedqr.store.sql import Raw, Statement, decode_time

#: Range branches per statement: SQLite allows 500 compound terms; 64 keeps statements short.
BRANCHES = 64


@dataclass(frozen=True)
class ContactRow:
    """One scan near a case scan: who (key, person row if registered), where, when, how it came."""

    person_key: bytes
    person_id: int | None
    venue_id: int
    occurred_at: dt.datetime
    source: str
    explicit: str | None
    name_masked: str
    phone_masked: str | None


@dataclass(frozen=True)
class VenueFactsRow:
    id: int
    public_id: str
    name: str
    kind: str
    default_stay_minutes: int | None
    province: str
    district: str
    commune: str
    street: str


#: A case as the read path needs it; ``qid`` last (the case's person, if the row still exists).
CASE_COLUMNS = (
    "id",
    "public_id",
    "person_id",
    "case_keys",
    "rule_config",
    "window_start",
    "window_end",
    "onset",
    "isolation",
    "status",
    "created_at",
    "opened_by",
    "closed_at",
)
_CASE_TIMES = tuple(
    i
    for i, c in enumerate(CASE_COLUMNS)
    if c in ("window_start", "window_end", "onset", "isolation", "created_at", "closed_at")
)
_CASE = Statement(
    "SELECT " + ", ".join(f"c.{c}" for c in CASE_COLUMNS) + ", p.qid FROM tracing_cases c"  # noqa: S608
    " LEFT JOIN people p ON p.id = c.person_id WHERE c.public_id = :public_id"
)
#: The case's scans with their venues' facts (``{in}``: the case's keys; see ``Raw.rows_in``).
CASE_SCANS_SQL = (
    "SELECT e.venue_id, e.occurred_at, e.explicit, v.public_id, v.name, v.kind,"
    " v.default_stay_minutes, v.province, v.district, v.commune, v.street"
    " FROM scan_events e JOIN venues v ON v.id = e.venue_id"
    " WHERE e.person_key {in} AND e.occurred_at >= :start AND e.occurred_at <= :end"
)
_REVIEWS = Statement("SELECT person_key, status, reason FROM tracing_reviews WHERE case_id = :case_id")
_CONTACT_COLUMNS = "person_key, person_id, venue_id, occurred_at, source, explicit, name_masked, phone_masked"


@functools.lru_cache(maxsize=256)
def contacts_statement(count: int) -> Statement:
    """``count`` range branches, ``UNION ALL``: parameters ``v<i>``, ``s<i>``, ``e<i>`` (ends inclusive)."""
    branch = (
        f"SELECT {_CONTACT_COLUMNS} FROM scan_events"  # noqa: S608 (constant names only)
        " WHERE venue_id = :v{i} AND occurred_at >= :s{i} AND occurred_at <= :e{i}"
    )
    return Statement(" UNION ALL ".join(branch.format(i=i) for i in range(count)))


def range_params(raw: Raw, ranges: Sequence[tuple[int, dt.datetime, dt.datetime]]) -> dict[str, Any]:
    """The parameters of :func:`contacts_statement` for ``ranges`` (venue id, start, end)."""
    params: dict[str, Any] = {}
    for i, (venue, start, end) in enumerate(ranges):
        params[f"v{i}"] = venue
        params[f"s{i}"] = raw.time(start)
        params[f"e{i}"] = raw.time(end)
    return params


class TracingRows:
    """Tracing's statements on one session's connection (create per transaction; cheap)."""

    def __init__(self, session: Session) -> None:
        self.raw = Raw.of(session)

    def scans_of(
        self, keys: Sequence[bytes], start: dt.datetime, end: dt.datetime
    ) -> list[tuple[bytes, int, dt.datetime, str | None]]:
        """``(person_key, venue_id, occurred_at, explicit)`` of these people in ``[start, end]``, by time."""
        sql = (
            "SELECT person_key, venue_id, occurred_at, explicit FROM scan_events"
            " WHERE person_key {in} AND occurred_at >= :start AND occurred_at <= :end"
        )
        params = {"start": self.raw.time(start), "end": self.raw.time(end)}
        rows = [
            (bytes(k), int(v), decode_time(at), explicit)
            for k, v, at, explicit in self.raw.rows_in(sql, params, list(keys))
        ]
        rows.sort(key=lambda r: (r[2], r[1]))
        return rows

    def case_scans(
        self, keys: Sequence[bytes], start: dt.datetime, end: dt.datetime
    ) -> tuple[list[tuple[int, dt.datetime, str | None]], dict[int, VenueFactsRow]]:
        """The case's scans in ``[start, end]`` by time, ``(venue_id, occurred_at, explicit)``, and the
        facts of their venues, in one statement (the venues joined: no second round trip)."""
        sql = CASE_SCANS_SQL
        params = {"start": self.raw.time(start), "end": self.raw.time(end)}
        scans, venues = [], {}
        for venue, at, explicit, *facts in self.raw.rows_in(sql, params, list(keys)):
            scans.append((int(venue), decode_time(at), explicit))
            if venue not in venues:
                venues[int(venue)] = VenueFactsRow(int(venue), *facts)
        scans.sort(key=lambda r: (r[1], r[0]))
        return scans, venues

    def contacts(self, ranges: Sequence[tuple[int, dt.datetime, dt.datetime]]) -> list[ContactRow]:
        """Every scan in the ranges (venue id, start, end), one ``UNION ALL`` per :data:`BRANCHES`."""
        out: list[ContactRow] = []
        for first in range(0, len(ranges), BRANCHES):
            part = ranges[first : first + BRANCHES]
            statement = contacts_statement(len(part))
            for key, person_id, venue, at, source, explicit, name, phone in self.raw.rows(
                statement, range_params(self.raw, part)
            ):
                out.append(
                    ContactRow(
                        bytes(key), person_id, int(venue), decode_time(at), source, explicit, name, phone
                    )
                )
        return out

    def checkins_of(
        self, keys: Sequence[bytes], start: dt.datetime, end: dt.datetime
    ) -> list[tuple[bytes, int, dt.datetime]]:
        """``(person_key, venue_id, occurred_at)`` of these people's check-ins in ``[start, end)``."""
        sql = (
            "SELECT person_key, venue_id, occurred_at FROM scan_events WHERE person_key {in}"
            " AND direction = 'in' AND occurred_at >= :start AND occurred_at < :end"
        )
        params = {"start": self.raw.time(start), "end": self.raw.time(end)}
        return [(bytes(k), int(v), decode_time(at)) for k, v, at in self.raw.rows_in(sql, params, list(keys))]

    def venues(self, ids: Iterable[int]) -> dict[int, VenueFactsRow]:
        sql = (
            "SELECT id, public_id, name, kind, default_stay_minutes, province, district, commune, street"
            " FROM venues WHERE id {in}"
        )
        return {row[0]: VenueFactsRow(*row) for row in self.raw.rows_in(sql, {}, sorted(set(ids)))}

    def venue_by_public_id(self, public_id: str) -> VenueFactsRow | None:
        sql = (
            "SELECT id, public_id, name, kind, default_stay_minutes, province, district, commune, street"
            " FROM venues WHERE public_id {in}"
        )
        found = list(self.raw.rows_in(sql, {}, [public_id]))
        return VenueFactsRow(*found[0]) if found else None

    def case(self, public_id: str) -> tuple[Any, ...] | None:
        """A case's columns (``CASE_COLUMNS``) and its person's QID, in one read; None if unknown."""
        found = self.raw.rows(_CASE, {"public_id": public_id})
        if not found:
            return None
        values = list(found[0])
        for index in _CASE_TIMES:
            if values[index] is not None:
                values[index] = decode_time(values[index])
        values[3] = bytes(values[3])
        return tuple(values)

    def reviews(self, case_row_id: int) -> dict[bytes, tuple[str, str]]:
        """The tracers' current decisions on a case's candidates: ``{person_key: (status, reason)}``."""
        rows = self.raw.rows(_REVIEWS, {"case_id": case_row_id})
        return {bytes(key): (status, reason) for key, status, reason in rows}

    def qids(self, person_ids: Iterable[int]) -> dict[int, str]:
        return dict(self.raw.rows_in("SELECT id, qid FROM people WHERE id {in}", {}, sorted(set(person_ids))))

    def registering_platforms(self, person_ids: Iterable[int]) -> dict[int, int]:
        """Each person's registering platform: the account of their earliest ``person_platforms`` link."""
        sql = "SELECT person_id, account_id, created_at FROM person_platforms WHERE person_id {in}"
        first: dict[int, tuple[Any, int]] = {}
        for person_id, account_id, created in self.raw.rows_in(sql, {}, sorted(set(person_ids))):
            key = (decode_time(created), account_id)
            if person_id not in first or key < first[person_id]:
                first[person_id] = key
        return {person_id: account for person_id, (_, account) in first.items()}
