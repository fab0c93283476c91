"""Bulk writes on the raw-SQL layer: ``COPY`` on PostgreSQL, one ``executemany`` on SQLite.

For loading many rows at once (the population simulator; a later national import): the caller
hands over *columns* (a list of Python values per column name, or :class:`Epoch` seconds for a
time column), this module encodes them once per column for the driver and writes them in one
statement. Why columns: 10 M scan rows a run, and per-row Python objects (datetimes, tuples)
measured 16 µs a row to build against ~1 µs for a list per column; PostgreSQL's text ``COPY`` then
takes one buffer per chunk (measured 10.7 µs a row into a bare table, server included).

Rules kept from :mod:`unifiedqr.store.sql`: column names come from the SQLAlchemy tables (a column
the model lacks is refused; one the caller does not give is left to its default, so a column added
by a later migration does not break the loader); times are stored exactly as ``encode_time`` would
(naive UTC text with microseconds on SQLite, ``timestamptz`` on PostgreSQL); constraint violations
surface as SQLAlchemy's ``IntegrityError``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import FromClause
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.store.models import UTCDateTime
from unifiedqr.store.sql import INTEGRITY_ERRORS, Raw, Statement, decode_time, encode_time

#: PostgreSQL text COPY escapes (backslash first) for text values.
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


@dataclass(frozen=True)
class Epoch:
    """A time column as UTC epoch seconds (int64), converted to the database's form in one numpy call."""

    seconds: npt.NDArray[np.int64]


Column = Sequence[Any] | Epoch


def _epoch_text(seconds: npt.NDArray[np.int64], sqlite: bool) -> list[str]:
    if sqlite:  # exactly encode_time's text: "YYYY-MM-DD HH:MM:SS.ffffff"
        text = np.datetime_as_string(seconds.astype("datetime64[s]").astype("datetime64[us]"), unit="us")
        return [t.replace("T", " ") for t in text.tolist()]
    return [t + "+00" for t in np.datetime_as_string(seconds.astype("datetime64[s]")).tolist()]


def _copy_value(value: Any) -> str:
    if value is None:
        return _NULL
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\\\x" + bytes(value).hex()
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).translate(_COPY_ESCAPES)


def _sqlite_value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return encode_time(value, True)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _encode(column: Column, sqlite: bool) -> list[Any]:
    """One column in the driver's form. Values that repeat (names of kinds, masks, times of one
    chunk) are encoded once; blobs, nearly always distinct, are encoded as they come."""
    if isinstance(column, Epoch):
        return _epoch_text(column.seconds, sqlite)
    encode = _sqlite_value if sqlite else _copy_value
    if sqlite and all(v is None or isinstance(v, int | str | bytes) for v in column[:64]):
        return list(column)  # the driver's own types already (checked on a sample, then trusted)
    cache: dict[Any, Any] = {}
    out = []
    for value in column:
        if isinstance(value, bytes):
            out.append(encode(value))
            continue
        encoded = cache.get(value, cache)
        if encoded is cache:
            encoded = cache[value] = encode(value)
        out.append(encoded)
    return out


def _name(table: FromClause) -> str:
    name = getattr(table, "name", None)
    assert isinstance(name, str), "a table"
    return name


class BulkRows:
    """Bulk statements on one session's connection (one transaction; create per chunk)."""

    def __init__(self, session: Session) -> None:
        self.raw = Raw.of(session)

    def insert(self, table: FromClause, columns: Mapping[str, Column]) -> int:
        """Insert the rows given as columns (equal lengths); returns how many."""
        known = {c.name for c in table.columns}
        unknown = sorted(set(columns) - known)
        if unknown:
            raise ValueError(f"{_name(table)} has no column {unknown[0]}")
        names = [c.name for c in table.columns if c.name in columns]
        encoded = [_encode(columns[name], self.raw.sqlite) for name in names]
        count = len(encoded[0]) if encoded else 0
        if any(len(values) != count for values in encoded):
            raise ValueError("columns of different lengths")
        if count == 0:
            return 0
        if self.raw.sqlite:
            marks = ", ".join("?" for _ in names)
            sql = f"INSERT INTO {_name(table)} ({', '.join(names)}) VALUES ({marks})"  # noqa: S608
            cursor = self.raw.dbapi.cursor()
            try:
                cursor.executemany(sql, zip(*encoded, strict=True))
            except INTEGRITY_ERRORS as exc:
                raise IntegrityError(sql, None, exc) from exc
            finally:
                cursor.close()
            return count
        return self._copy(_name(table), names, encoded, count)

    def _copy(self, table: str, names: list[str], encoded: list[list[Any]], count: int) -> int:
        body = "\n".join(map("\t".join, zip(*encoded, strict=True))) + "\n"
        cursor = self.raw.dbapi.cursor()
        try:
            with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
                copy.write(body.encode("utf-8"))
        except INTEGRITY_ERRORS as exc:
            raise IntegrityError(f"COPY {table}", None, exc) from exc
        finally:
            cursor.close()
        return count

    def ids(self, table: FromClause, column: str, values: Sequence[Any]) -> dict[Any, int]:
        """``{value: id}`` for rows of ``table`` whose ``column`` (unique) is among ``values``."""
        if column not in table.columns:
            raise ValueError(f"{_name(table)} has no column {column}")
        sql = f"SELECT {column}, id FROM {_name(table)} WHERE {column} {{in}}"  # noqa: S608
        return {
            (bytes(k) if isinstance(k, memoryview) else k): int(i)
            for k, i in self.raw.rows_in(sql, {}, values)
        }

    def new_rows(self, table: FromClause, after_id: int, columns: Sequence[str]) -> list[tuple[Any, ...]]:
        """``(id, *columns)`` of the rows with an id above ``after_id`` (times decoded, aware UTC)."""
        for name in columns:
            if name not in table.columns:
                raise ValueError(f"{_name(table)} has no column {name}")
        decode = [isinstance(table.columns[name].type, UTCDateTime) for name in columns]
        sql = f"SELECT id, {', '.join(columns)} FROM {_name(table)} WHERE id > :after ORDER BY id"  # noqa: S608
        out = []
        for row in self.raw.rows(Statement(sql), {"after": after_id}):
            values = [
                decode_time(v) if d and v is not None else v for v, d in zip(row[1:], decode, strict=True)
            ]
            out.append((int(row[0]), *values))
        return out

    def max_id(self, table: FromClause) -> int:
        cursor = self.raw.dbapi.cursor()
        try:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {_name(table)}")  # noqa: S608
            return int(cursor.fetchone()[0])
        finally:
            cursor.close()

    def analyze(self, tables: Sequence[FromClause]) -> None:
        """Refresh the planner's statistics after a load (the plans of the hot queries depend on them)."""
        cursor = self.raw.dbapi.cursor()
        try:
            for table in tables:
                cursor.execute(f"ANALYZE {_name(table)}")
        finally:
            cursor.close()
