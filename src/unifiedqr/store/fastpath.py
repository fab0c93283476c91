"""Hand-written SQL for the two per-request hot paths: registering a person and fetching a code.

Why: with SQLAlchemy's Core the statement machinery (coercion, cache keys, result wrapping) cost
about 0.25 ms per statement here, more than signing and committing together; these few statements
run on the DBAPI cursor of the session's own connection, inside the same transaction, so the
guarantees (BEGIN IMMEDIATE on SQLite, unique constraints on PostgreSQL, commit before 2xx) are
unchanged. Values are converted exactly as the models' column types store them (see
``store.models.UTCDateTime``); ``tests/platform`` read them back through the ORM on both databases.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

_PERSON_COLUMNS = (
    "qid",
    "full_name",
    "birth_date",
    "gender",
    "phone_hash",
    "phone_enc",
    "insurance_enc",
    "proxy_person_id",
    "household_id",
    "code_enc",
    "code_key_id",
    "code_revocation_id",
    "created_at",
    "updated_at",
)
_DOCUMENT_COLUMNS = ("person_id", "kind", "doc_hash", "doc_enc", "created_at")


def _integrity_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [sqlite3.IntegrityError]
    try:
        import psycopg

        errors.append(psycopg.IntegrityError)
    except ImportError:  # psycopg is a dependency, but SQLite alone must still work without it
        pass
    return tuple(errors)


_INTEGRITY = _integrity_errors()


class _Cursor:
    """A DBAPI cursor whose constraint violations surface as SQLAlchemy's IntegrityError.

    The services retry a registration on IntegrityError (the loser of a duplicate race); without
    this the raw driver's own exception class would escape that retry as a 500.
    """

    def __init__(self, cursor: Any) -> None:
        self.cursor = cursor

    def execute(self, sql: str, params: dict[str, Any]) -> None:
        try:
            self.cursor.execute(sql, params)
        except _INTEGRITY as exc:
            raise IntegrityError(sql, params, exc) from exc

    def fetchone(self) -> Any:
        return self.cursor.fetchone()

    def fetchall(self) -> Any:
        return self.cursor.fetchall()

    @property
    def lastrowid(self) -> Any:
        return self.cursor.lastrowid


class FastPath:
    """Dialect-specific SQL text, built once per process."""

    def __init__(self, dialect: str) -> None:
        self.sqlite = dialect == "sqlite"

        def ph(name: str) -> str:
            return f":{name}" if self.sqlite else f"%({name})s"

        def insert(table: str, columns: tuple[str, ...]) -> str:
            # Only module constants go into the text; every value is a bound parameter.
            cols, marks = ", ".join(columns), ", ".join(ph(c) for c in columns)
            return f"INSERT INTO {table} ({cols}) VALUES ({marks})"  # noqa: S608

        self._insert_person = insert("people", _PERSON_COLUMNS)
        self._insert_document = insert("person_documents", _DOCUMENT_COLUMNS)
        self._insert_link = insert("person_platforms", ("person_id", "account_id", "created_at"))
        self._find = {
            n: "SELECT doc_hash, person_id FROM person_documents WHERE doc_hash IN ("  # noqa: S608
            + ", ".join(ph(f"h{i}") for i in range(n))
            + ")"
            for n in (1, 2)
        }
        self._registration = {n: self._registration_sql(n) for n in (1, 2)}
        where = f"people.qid = {ph('qid')} AND person_platforms.account_id = {ph('account_id')}"
        self._platform_code = (
            "SELECT people.id, people.code_enc FROM people JOIN person_platforms"  # noqa: S608
            f" ON person_platforms.person_id = people.id WHERE {where}"
        )

    @staticmethod
    def _registration_sql(documents: int) -> str:
        """PostgreSQL: person, ``documents`` documents and the platform link in one statement."""
        cols = ", ".join(_PERSON_COLUMNS)
        values = ", ".join(f"%({c})s" for c in _PERSON_COLUMNS)
        docs = " UNION ALL ".join(
            f"SELECT id, %(kind{i})s, %(hash{i})s, %(doc{i})s, %(created_at)s FROM p"  # noqa: S608
            for i in range(documents)
        )
        return (
            f"WITH p AS (INSERT INTO people ({cols}) VALUES ({values}) RETURNING id),"  # noqa: S608
            f" d AS (INSERT INTO person_documents (person_id, kind, doc_hash, doc_enc, created_at) {docs}),"
            " l AS (INSERT INTO person_platforms (person_id, account_id, created_at)"
            " SELECT id, %(account_id)s, %(created_at)s FROM p)"
            " SELECT id FROM p"
        )

    def time(self, value: dt.datetime) -> Any:
        if self.sqlite:
            return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def date(self, value: dt.date) -> Any:
        return value.isoformat() if self.sqlite else value

    @staticmethod
    def _cursor(session: Session) -> _Cursor:
        """One cursor per session (a session is one transaction here): ``connection()`` costs 50 us."""
        cursor = session.info.get("fastpath.cursor")
        if cursor is None:
            dbapi = session.connection().connection.driver_connection
            cursor = session.info["fastpath.cursor"] = _Cursor(dbapi.cursor())  # type: ignore[union-attr]
        return cursor

    def find_documents(self, session: Session, hashes: list[bytes]) -> list[tuple[bytes, int]]:
        cursor = self._cursor(session)
        cursor.execute(self._find[len(hashes)], {f"h{i}": h for i, h in enumerate(hashes)})
        return [(bytes(h), int(p)) for h, p in cursor.fetchall()]

    def insert_registration(
        self,
        session: Session,
        person: dict[str, Any],
        documents: list[tuple[str, bytes, bytes]],
        account_id: int,
    ) -> int:
        """Insert a person, their documents ``(kind, hash, ciphertext)`` and the platform link.

        PostgreSQL: one statement (data-modifying CTEs), so one round trip instead of three; a
        duplicate document fails the whole statement with IntegrityError, as the three would.
        """
        params = dict(person)
        params["birth_date"] = self.date(person["birth_date"])
        at = person["created_at"]
        params["created_at"] = params["updated_at"] = self.time(at)
        params["account_id"] = account_id
        for index, (kind, digest, blob) in enumerate(documents):
            params.update({f"kind{index}": kind, f"hash{index}": digest, f"doc{index}": blob})
        cursor = self._cursor(session)
        if not self.sqlite:
            cursor.execute(self._registration[len(documents)], params)
            return int(cursor.fetchone()[0])
        cursor.execute(self._insert_person, params)
        person_id = int(cursor.lastrowid)
        for index in range(len(documents)):
            cursor.execute(
                self._insert_document,
                {
                    "person_id": person_id,
                    "kind": params[f"kind{index}"],
                    "doc_hash": params[f"hash{index}"],
                    "doc_enc": params[f"doc{index}"],
                    "created_at": params["created_at"],
                },
            )
        cursor.execute(
            self._insert_link,
            {"person_id": person_id, "account_id": account_id, "created_at": params["created_at"]},
        )
        return person_id

    def platform_code(self, session: Session, qid: str, account_id: int) -> bytes | None:
        cursor = self._cursor(session)
        cursor.execute(self._platform_code, {"qid": qid, "account_id": account_id})
        row = cursor.fetchone()
        return None if row is None else bytes(row[1])
