"""Scan events on the raw-SQL layer: the statements of single scans and batch uploads, and their keys.

``store.sql`` says why these are raw SQL. Look-ups by many keys bind one array on PostgreSQL and
chunks on SQLite (``Raw.rows_in``). The storage scheme (issue 11; docs/privacy.md and
docs/decisions.md have the measurements):

- **idempotency keys** live in ``scan_keys``, unique by ``(venue, scope, key)``; an insert claims
  the keys of its rows first (``ON CONFLICT DO NOTHING``; on PostgreSQL ``RETURNING`` names the
  claimed ones, so concurrent retries are settled by the unique index) and then writes only the
  events whose key it claimed. Events therefore need no unique index, and a retried upload lands
  once whatever day its corrected time falls on;
- on **PostgreSQL**, ``scan_events`` is range-partitioned by the UTC day of ``occurred_at``
  (:mod:`unifiedqr.store.scan_partitions` creates, lists and drops the days). Large inserts are one
  ``COPY``, which routes rows to their days; a day without its partition (a first scan after
  midnight that maintenance has not prepared) is created on the way, then the insert is retried.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.errors import ConfigError
from unifiedqr.store import scan_hours, scan_partitions
from unifiedqr.store.access_models import ScanKey
from unifiedqr.store.sql import Raw, Statement, columns_of, decode_time, insert
from unifiedqr.store.venue_models import ScanEvent

EVENTS = ScanEvent.__table__
KEYS = ScanKey.__table__
COLUMNS = columns_of(EVENTS)
KEY_COLUMNS = columns_of(KEYS, exclude=())
TIMES = ("device_at", "occurred_at", "received_at")
_VALUES = operator.itemgetter(*COLUMNS)
_COPY_FROM = 50  # rows; below this a plain multi-row insert is cheaper than COPY's round trips
_COLS = ", ".join(COLUMNS)
_INSERT = insert(EVENTS, COLUMNS)
_INSERT_KEY = insert(KEYS, KEY_COLUMNS, " ON CONFLICT DO NOTHING")
_CLAIM_KEYS = Statement(
    "INSERT INTO scan_keys (venue_id, key_scope, idempotency_key, occurred_at, direction)"
    " SELECT * FROM unnest(:venue_ids::integer[], :scopes::text[], :keys::text[],"
    " :times::timestamptz[], :directions::text[])"
    " ON CONFLICT DO NOTHING RETURNING key_scope, idempotency_key"
)
_KEY_TIME = Statement(
    "SELECT occurred_at FROM scan_keys"
    " WHERE venue_id = :venue_id AND key_scope = :scope AND idempotency_key = :key"
)
#: The visitor's last counted scan at a venue up to a time (the toggle's whole look-back: the visit
#: rules need nothing older). ``direction <> 'duplicate'`` is the partial index's own condition, so
#: both planners use ix_scan_events_counted and never walk a flood of duplicates (issue 10 #6).
_LAST_COUNTED = (
    "SELECT occurred_at, direction FROM scan_events WHERE venue_id = :venue_id AND person_key = :key"
    " AND direction <> 'duplicate' AND occurred_at >= :start AND occurred_at <= :at AND source {web} 'web'"
    " ORDER BY occurred_at DESC, id DESC LIMIT 1"
)
_LAST_COUNTED_WEB = Statement(_LAST_COUNTED.format(web="="))
_LAST_COUNTED_VERIFIED = Statement(_LAST_COUNTED.format(web="<>"))
_STORED_ONE = Statement(
    "SELECT entrance_id, direction, occurred_at, name_masked, phone_masked, code_kind, verification"
    " FROM scan_events WHERE venue_id = :venue_id AND occurred_at = :at"
    " AND idempotency_key = :key AND key_scope = :scope"
)


def key_scope(device_id: str | None, account_id: int | None) -> str:
    """Whose key space an idempotency key belongs to: the device, else the account (issue 10 item 7)."""
    return f"d:{device_id}" if device_id else f"a:{account_id or 0}"


@dataclass(frozen=True)
class StoredScan:
    """What the scanner is told again when a retried scan is found stored."""

    entrance_id: int | None
    direction: str
    occurred_at: dt.datetime
    name_masked: str
    phone_masked: str | None
    code_kind: str
    verification: str

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> StoredScan:
        """The answer's fields of a row about to be inserted."""
        return cls(
            row["entrance_id"],
            row["direction"],
            row["occurred_at"],
            row["name_masked"],
            row["phone_masked"],
            row["code_kind"],
            row["verification"],
        )


class ScanRows:
    """The scan statements on one session's connection (create per transaction; cheap)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.raw = Raw.of(session)

    # -- look-ups ---------------------------------------------------------------------------------
    def stored(self, venue_id: int, scope: str, keys: Sequence[str]) -> dict[str, str]:
        """Directions already stored under these idempotency keys of ``scope`` at this venue."""
        sql = (
            "SELECT idempotency_key, direction FROM scan_keys"
            " WHERE venue_id = :venue_id AND key_scope = :scope AND idempotency_key {in}"
        )
        return {k: d for k, d in self.raw.rows_in(sql, {"venue_id": venue_id, "scope": scope}, keys)}

    def stored_one(self, venue_id: int, scope: str, key: str) -> StoredScan | None:
        params: dict[str, Any] = {"venue_id": venue_id, "scope": scope, "key": key}
        found = self.raw.rows(_KEY_TIME, params)
        if not found:
            return None
        params["at"] = found[0][0]  # as the database returned it: the event's day, exactly
        rows = self.raw.rows(_STORED_ONE, params)
        if not rows:
            return None
        entrance_id, direction, at, name, phone, kind, verification = rows[0]
        return StoredScan(entrance_id, direction, decode_time(at), name, phone, kind, verification)

    def people_by_qid(self, qids: Sequence[str]) -> dict[str, int]:
        return {q: i for q, i in self.raw.rows_in("SELECT qid, id FROM people WHERE qid {in}", {}, qids)}

    def people_by_document(self, hashes: Sequence[bytes]) -> dict[bytes, tuple[int, str]]:
        sql = (
            "SELECT d.doc_hash, p.id, p.qid FROM person_documents d JOIN people p ON p.id = d.person_id"
            " WHERE d.doc_hash {in}"
        )
        return {bytes(h): (i, q) for h, i, q in self.raw.rows_in(sql, {}, hashes)}

    def people_by_phone(self, hashes: Sequence[bytes]) -> dict[bytes, list[tuple[int, str]]]:
        found: dict[bytes, list[tuple[int, str]]] = defaultdict(list)
        for h, i, q in self.raw.rows_in(
            "SELECT phone_hash, id, qid FROM people WHERE phone_hash {in}", {}, hashes
        ):
            found[bytes(h)].append((i, q))
        return found

    def earlier(
        self, venue_id: int, keys: Sequence[bytes], start: dt.datetime, end: dt.datetime
    ) -> dict[bytes, list[tuple[dt.datetime, str | None]]]:
        """The visitors' verified scans at this venue in ``[start, end)``, in time order (batch toggles).

        Scans from the anonymous check-in page (``source = 'web'``) are claims, not sightings: they
        never turn a verified check-in into a check-out.
        """
        # ``+venue_id``: keeps the planner on (person_key, occurred_at); on (venue_id, occurred_at)
        # SQLite would scan the venue's whole day for each visitor (measured: 20k rows per scan).
        sql = (
            "SELECT person_key, occurred_at, explicit FROM scan_events WHERE +venue_id = :venue_id"
            " AND occurred_at >= :start AND occurred_at < :end AND source <> 'web' AND person_key {in}"
            " ORDER BY occurred_at, id"
        )
        params = {"venue_id": venue_id, "start": self.raw.time(start), "end": self.raw.time(end)}
        found: dict[bytes, list[tuple[dt.datetime, str | None]]] = defaultdict(list)
        for key, at, explicit in self.raw.rows_in(sql, params, keys):
            found[bytes(key)].append((decode_time(at), explicit))
        return found

    def last_counted(
        self, venue_id: int, key: bytes, start: dt.datetime, at: dt.datetime, *, web: bool
    ) -> tuple[dt.datetime, str] | None:
        """``(time, direction)`` of the visitor's last non-duplicate scan here in ``[start, at]``.

        ``web``: among the check-in page's unverified scans; else among the verified ones.
        """
        params = {"venue_id": venue_id, "key": key, "start": self.raw.time(start), "at": self.raw.time(at)}
        found = self.raw.rows(_LAST_COUNTED_WEB if web else _LAST_COUNTED_VERIFIED, params)
        return (decode_time(found[0][0]), str(found[0][1])) if found else None

    # -- writing ----------------------------------------------------------------------------------
    def insert(self, rows: Sequence[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
        """Insert scan rows (``COLUMNS`` keys) whose ``(key_scope, idempotency_key)`` is new here.

        Returns the ``(scope, key)`` pairs that were stored before (their rows are skipped); rows
        without an idempotency key are always inserted.
        """
        if not rows:
            return frozenset()
        taken = self._claim_keys(rows)
        fresh = [r for r in rows if _pair(r) not in taken]
        if fresh:
            self._insert_events(fresh)
        return taken

    def _claim_keys(self, rows: Sequence[Mapping[str, Any]]) -> frozenset[tuple[str, str]]:
        """Insert the key rows; the ``(scope, key)`` pairs that already existed (the rest are ours now)."""
        keyed = [r for r in rows if r["idempotency_key"] is not None]
        if not keyed:
            return frozenset()
        raw = self.raw
        if raw.sqlite:  # one writer at a time (BEGIN IMMEDIATE): look, then insert, without a race
            wanted: dict[tuple[int, str], list[str]] = defaultdict(list)
            for r in keyed:
                wanted[(r["venue_id"], r["key_scope"])].append(r["idempotency_key"])
            taken = {
                (scope, key)
                for (venue, scope), keys in wanted.items()
                for key in self.stored(venue, scope, keys)
            }
            new = [r for r in keyed if (r["key_scope"], r["idempotency_key"]) not in taken]
            key_rows = [{**_key_row(r), "occurred_at": raw.time(r["occurred_at"])} for r in new]
            raw.executemany(_INSERT_KEY, key_rows)
            return frozenset(taken)
        params = {
            "venue_ids": [r["venue_id"] for r in keyed],
            "scopes": [r["key_scope"] for r in keyed],
            "keys": [r["idempotency_key"] for r in keyed],
            "times": [r["occurred_at"] for r in keyed],
            "directions": [r["direction"] for r in keyed],
        }
        claimed = {(scope, key) for scope, key in raw.rows(_CLAIM_KEYS, params)}
        return frozenset((r["key_scope"], r["idempotency_key"]) for r in keyed) - claimed

    def _insert_events(self, rows: Sequence[Mapping[str, Any]]) -> None:
        raw = self.raw
        if raw.sqlite:
            texts: dict[dt.datetime, str] = {}

            def text(value: dt.datetime) -> str:
                found = texts.get(value)
                if found is None:
                    found = texts[value] = raw.time(value)
                return found

            raw.executemany(_INSERT, [{**row, **{c: text(row[c]) for c in TIMES}} for row in rows])
            scan_hours.add(raw, scan_hours.tally(rows))
            return
        scan_partitions.ensure_days(self.session, [r["occurred_at"] for r in rows])
        try:
            self._write_pg(rows)
        except IntegrityError as exc:
            if "no partition" not in str(exc.orig):
                raise
            # A day dropped since this process last looked (a purge run with a future --now):
            # the transaction is lost; the client retries with its idempotency key.
            scan_partitions.forget()
            raise ConfigError("occurred_at", "no partition for this day yet; retry") from None
        scan_hours.add(raw, scan_hours.tally(rows))

    def _write_pg(self, rows: Sequence[Mapping[str, Any]]) -> None:
        raw = self.raw
        if len(rows) == 1:
            raw.execute(_INSERT, rows[0]).close()
        elif len(rows) < _COPY_FROM:
            raw.executemany(_INSERT, rows)
        else:
            cursor = raw.dbapi.cursor()
            try:
                with cursor.copy(f"COPY scan_events ({_COLS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(_VALUES(row))
            finally:
                cursor.close()


def _pair(row: Mapping[str, Any]) -> tuple[str, str] | None:
    key = row["idempotency_key"]
    return None if key is None else (row["key_scope"], key)


def _key_row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {c: row[c] for c in KEY_COLUMNS}


# ---------------------------------------------------------------------------------------------------
# Retention: row deletes in small batches (SQLite, and PostgreSQL's edge day and keys)
# ---------------------------------------------------------------------------------------------------
_PURGE = {
    ("scan_events", True): Statement(
        "DELETE FROM scan_events WHERE id IN"
        " (SELECT id FROM scan_events WHERE occurred_at < :cutoff LIMIT :limit)"
    ),
    ("scan_events", False): Statement(
        "DELETE FROM scan_events WHERE occurred_at < :cutoff AND (id, occurred_at) IN"
        " (SELECT id, occurred_at FROM scan_events WHERE occurred_at < :cutoff LIMIT :limit)"
    ),
    ("scan_keys", True): Statement(
        "DELETE FROM scan_keys WHERE rowid IN"
        " (SELECT rowid FROM scan_keys WHERE occurred_at < :cutoff LIMIT :limit)"
    ),
    ("scan_keys", False): Statement(
        "DELETE FROM scan_keys WHERE ctid = ANY(ARRAY("
        "SELECT ctid FROM scan_keys WHERE occurred_at < :cutoff LIMIT :limit))"
    ),
}


def delete_before(session: Session, table: str, cutoff: dt.datetime, limit: int) -> int:
    """Delete up to ``limit`` rows of ``scan_events`` or ``scan_keys`` older than ``cutoff``; how many.

    One small batch per call, so the caller commits (and SQLite's writer lock is released) between
    batches and scans keep flowing during a purge.
    """
    raw = Raw.of(session)
    cursor = raw.execute(_PURGE[(table, raw.sqlite)], {"cutoff": raw.time(cutoff), "limit": limit})
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()
