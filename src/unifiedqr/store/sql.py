"""The raw-SQL layer: hand-written statements on a session's own DBAPI connection, one way.

Why raw SQL at all (measured, docs/decisions.md): SQLAlchemy's statement machinery (coercion, cache
keys, result wrapping) cost ~0.25 ms per statement and ~20 µs per inserted row here, more than a
P-256 signature (0.06 ms); the few statements on the hot paths (register, fetch a code, record a
scan, ingest a batch) therefore run on the DBAPI connection of the caller's session, inside its
transaction, so every guarantee (``BEGIN IMMEDIATE`` on SQLite, unique constraints, commit before
2xx) is unchanged. Everything else uses the ORM.

The one way:

- **placeholders**: statements are written once with named ``:name`` parameters; :class:`Statement`
  renders them for the driver at import time (``%(name)s`` for psycopg);
- **errors**: a constraint violation from either driver surfaces as SQLAlchemy's
  ``IntegrityError``, as it would through the ORM, so callers handle one exception;
- **times**: :func:`encode_time` / :func:`decode_time` are the only conversion between aware UTC
  datetimes and what each database stores (the ORM's ``UTCDateTime`` agrees: naive UTC text with
  microseconds on SQLite, ``timestamptz`` on PostgreSQL);
- **columns**: lists come from the SQLAlchemy tables (:func:`columns_of`), so a model change
  cannot silently desynchronise a hand-written insert.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import FromClause
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

#: Most values bound in one ``IN (...)`` on SQLite (its limit is 32766; chunks keep statements small).
IN_CHUNK = 900
_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_][A-Za-z0-9_]*)")
_SESSION_KEY = "unifiedqr.raw"


def _integrity_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.IntegrityError]
    try:
        import psycopg

        errors.append(psycopg.IntegrityError)
    except ImportError:  # psycopg is a dependency, but SQLite alone must still work without it
        pass
    return tuple(errors)


_INTEGRITY = _integrity_errors()
#: The drivers' constraint-violation exceptions (for the store's own bulk paths to re-raise as one).
INTEGRITY_ERRORS = _INTEGRITY


def columns_of(table: FromClause, *, exclude: Iterable[str] = ("id",)) -> tuple[str, ...]:
    """The table's column names in model order, without ``exclude`` (the generated key)."""
    skip = set(exclude)
    return tuple(column.name for column in table.columns if column.name not in skip)


class Statement:
    """One statement written with ``:name`` parameters, rendered once for each driver."""

    __slots__ = ("postgresql", "sqlite")

    def __init__(self, text: str) -> None:
        self.sqlite = text
        self.postgresql = _NAMED.sub(r"%(\1)s", text)


def insert(table: FromClause, columns: Sequence[str], suffix: str = "") -> Statement:
    """``INSERT INTO table (columns) VALUES (:column, ...) suffix`` (constant names only)."""
    names = ", ".join(columns)
    marks = ", ".join(f":{c}" for c in columns)
    name = getattr(table, "name", None)
    assert isinstance(name, str), "a table"
    return Statement(f"INSERT INTO {name} ({names}) VALUES ({marks}){suffix}")  # noqa: S608


def encode_time(value: dt.datetime, sqlite: bool) -> Any:
    """An aware datetime as the database stores it (SQLite: naive UTC text, as SQLAlchemy writes)."""
    if sqlite:
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def decode_time(value: Any) -> dt.datetime:
    """What a raw query returned for a ``UTCDateTime`` column, as an aware UTC datetime."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    assert isinstance(value, dt.datetime)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class Raw:
    """The DBAPI connection of one session (one transaction), with the layer's conventions.

    Create with :meth:`of`; it is cached on the session, since fetching the connection costs 50 µs.
    """

    def __init__(self, session: Session) -> None:
        connection = session.connection()
        self.sqlite = connection.dialect.name == "sqlite"
        self.dbapi: Any = connection.connection.driver_connection

    @classmethod
    def of(cls, session: Session) -> Raw:
        raw: Raw | None = session.info.get(_SESSION_KEY)
        if raw is None:
            raw = session.info[_SESSION_KEY] = cls(session)
        return raw

    def text(self, statement: Statement) -> str:
        return statement.sqlite if self.sqlite else statement.postgresql

    def time(self, value: dt.datetime) -> Any:
        return encode_time(value, self.sqlite)

    def date(self, value: dt.date) -> Any:
        return value.isoformat() if self.sqlite else value

    def execute(self, statement: Statement, params: Mapping[str, Any]) -> Any:
        """Run one statement; returns the cursor (closed by the caller's next use or garbage)."""
        cursor = self.dbapi.cursor()
        try:
            cursor.execute(self.text(statement), params)
        except _INTEGRITY as exc:
            cursor.close()
            raise IntegrityError(self.text(statement), dict(params), exc) from exc
        return cursor

    def executemany(self, statement: Statement, rows: Sequence[Mapping[str, Any]]) -> int:
        cursor = self.dbapi.cursor()
        try:
            cursor.executemany(self.text(statement), rows)
            return int(cursor.rowcount)
        except _INTEGRITY as exc:
            raise IntegrityError(self.text(statement), None, exc) from exc
        finally:
            cursor.close()

    def rows(self, statement: Statement, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        cursor = self.execute(statement, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def rows_in(
        self, template: str, params: Mapping[str, Any], values: Sequence[Any]
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of ``template`` for all ``values``, where ``{in}`` stands for ``<column> IN (...)``.

        PostgreSQL binds one array (``= ANY(:values)``); SQLite binds chunks of ``IN_CHUNK``.
        """
        if not values:
            return
        if not self.sqlite:
            yield from self.rows(_in_statement(template, 0), {**params, "values": list(values)})
            return
        for start in range(0, len(values), IN_CHUNK):
            part = values[start : start + IN_CHUNK]
            bound = {**params, **{f"v{i}": value for i, value in enumerate(part)}}
            yield from self.rows(_in_statement(template, len(part)), bound)


@functools.lru_cache(maxsize=512)
def _in_statement(template: str, count: int) -> Statement:
    """``template`` with ``{in}`` as ``= ANY(:values)`` (count 0) or ``IN (:v0, ..., :v<count-1>)``."""
    clause = "= ANY(:values)" if count == 0 else "IN (" + ", ".join(f":v{i}" for i in range(count)) + ")"
    return Statement(template.format(**{"in": clause}))
