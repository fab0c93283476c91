"""Scan events on the raw-SQL layer: the statements of single scans and batch uploads.

``store.sql`` says why these are raw SQL. Look-ups by many keys bind one array on PostgreSQL and
chunks on SQLite (``Raw.rows_in``). Large inserts on PostgreSQL are one ``COPY`` straight into
scan_events; only when a concurrent retry got there first (unique violation) do they go through a
temporary table and ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from unifiedqr.store.sql import Raw, Statement, columns_of, decode_time, insert
from unifiedqr.store.venue_models import ScanEvent

EVENTS = ScanEvent.__table__
COLUMNS = columns_of(EVENTS)
TIMES = ("device_at", "occurred_at", "received_at")
_VALUES = operator.itemgetter(*COLUMNS)
_COPY_FROM = 50  # rows; below this a plain multi-row insert is cheaper than COPY's round trips
_COLS = ", ".join(COLUMNS)
_INSERT = insert(EVENTS, COLUMNS, " ON CONFLICT (venue_id, idempotency_key) DO NOTHING")
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
    " FROM scan_events WHERE venue_id = :venue_id AND idempotency_key = :key"
)


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
        self.raw = Raw.of(session)

    # -- look-ups ---------------------------------------------------------------------------------
    def stored(self, venue_id: int, keys: Sequence[str]) -> dict[str, str]:
        """Directions already stored under these idempotency keys at this venue."""
        sql = (
            "SELECT idempotency_key, direction FROM scan_events"
            " WHERE venue_id = :venue_id AND idempotency_key {in}"
        )
        return {k: d for k, d in self.raw.rows_in(sql, {"venue_id": venue_id}, keys)}

    def stored_one(self, venue_id: int, key: str) -> StoredScan | None:
        found = self.raw.rows(_STORED_ONE, {"venue_id": venue_id, "key": key})
        if not found:
            return None
        entrance_id, direction, at, name, phone, kind, verification = found[0]
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
    def insert(self, rows: Sequence[Mapping[str, Any]]) -> int:
        """Insert scan rows (``COLUMNS`` keys); a row whose ``(venue_id, idempotency_key)`` exists is skipped.

        Returns how many rows were inserted (exact for one row; for many, as the driver counts).
        """
        if not rows:
            return 0
        raw = self.raw
        if raw.sqlite:
            texts: dict[dt.datetime, str] = {}

            def text(value: dt.datetime) -> str:
                found = texts.get(value)
                if found is None:
                    found = texts[value] = raw.time(value)
                return found

            return raw.executemany(_INSERT, [{**row, **{c: text(row[c]) for c in TIMES}} for row in rows])
        if len(rows) == 1:  # exact count: 0 tells a single scan's retry that it was stored before
            cursor = raw.execute(_INSERT, rows[0])
            inserted = int(cursor.rowcount)
            cursor.close()
            return inserted
        if len(rows) < _COPY_FROM:
            return raw.executemany(_INSERT, rows)
        if self._copy_direct(rows):
            return len(rows)
        return self._copy_merge(rows)

    def _copy_direct(self, rows: Sequence[Mapping[str, Any]]) -> bool:
        """COPY straight into scan_events (the caller checked the keys); False if a key now exists.

        A concurrent retry of the same batch may have committed some keys since the caller's check:
        then the COPY fails on the unique index, is rolled back to the savepoint, and the caller
        takes the ``ON CONFLICT DO NOTHING`` path. The common case costs one COPY.
        """
        import psycopg

        cursor = self.raw.dbapi.cursor()
        try:
            cursor.execute("SAVEPOINT scan_copy")
            try:
                with cursor.copy(f"COPY scan_events ({_COLS}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(_VALUES(row))
            except psycopg.errors.UniqueViolation:
                cursor.execute("ROLLBACK TO SAVEPOINT scan_copy")
                return False
            cursor.execute("RELEASE SAVEPOINT scan_copy")
            return True
        finally:
            cursor.close()

    def _copy_merge(self, rows: Sequence[Mapping[str, Any]]) -> int:
        cursor = self.raw.dbapi.cursor()
        try:
            cursor.execute(
                "CREATE TEMPORARY TABLE IF NOT EXISTS scan_events_in"
                " (LIKE scan_events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
            )
            with cursor.copy(f"COPY scan_events_in ({_COLS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(_VALUES(row))
            cursor.execute(
                f"INSERT INTO scan_events ({_COLS}) SELECT {_COLS} FROM scan_events_in"  # noqa: S608
                " ON CONFLICT (venue_id, idempotency_key) DO NOTHING"
            )
            return int(cursor.rowcount)
        finally:
            cursor.close()
