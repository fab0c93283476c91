"""People rows on the raw-SQL layer: registering a person and fetching a platform's code.

These two are the platform's per-request hot paths (``store.sql`` says why they are raw SQL). On
PostgreSQL a registration is one statement (data-modifying CTEs: one round trip instead of three);
a duplicate document fails it with IntegrityError exactly as the three inserts would.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from unifiedqr.store.models import Person, PersonDocument, PersonPlatform
from unifiedqr.store.sql import Raw, Statement, columns_of, insert

PEOPLE = Person.__table__
DOCUMENTS = PersonDocument.__table__
LINKS = PersonPlatform.__table__
PERSON_COLUMNS = columns_of(PEOPLE)
DOCUMENT_COLUMNS = columns_of(DOCUMENTS)
LINK_COLUMNS = columns_of(LINKS, exclude=())


@dataclass(frozen=True)
class NewPerson:
    """One ``people`` row as the registry builds it (ciphertexts and hashes already made)."""

    qid: str
    full_name: str
    birth_date: dt.date
    gender: str
    phone_hash: bytes | None
    phone_enc: bytes | None
    insurance_enc: bytes | None
    proxy_person_id: int | None
    household_id: int | None
    code_enc: bytes
    code_key_id: str
    code_revocation_id: str
    created_at: dt.datetime


@dataclass(frozen=True)
class NewDocument:
    kind: str
    doc_hash: bytes
    doc_enc: bytes


def _find(count: int) -> Statement:
    marks = ", ".join(f":h{i}" for i in range(count))
    return Statement(f"SELECT doc_hash, person_id FROM person_documents WHERE doc_hash IN ({marks})")  # noqa: S608


def _registration_cte(documents: int) -> Statement:
    """PostgreSQL: the person, ``documents`` documents and the platform link in one statement."""
    cols = ", ".join(PERSON_COLUMNS)
    values = ", ".join(f":{c}" for c in PERSON_COLUMNS)
    docs = " UNION ALL ".join(
        f"SELECT id, :kind{i}, :doc_hash{i}, :doc_enc{i}, :created_at FROM p"  # noqa: S608
        for i in range(documents)
    )
    return Statement(
        f"WITH p AS (INSERT INTO people ({cols}) VALUES ({values}) RETURNING id),"  # noqa: S608
        f" d AS (INSERT INTO person_documents (person_id, kind, doc_hash, doc_enc, created_at) {docs}),"
        " l AS (INSERT INTO person_platforms (person_id, account_id, created_at)"
        " SELECT id, :account_id, :created_at FROM p)"
        " SELECT id FROM p"
    )


_FIND = {n: _find(n) for n in (1, 2)}
_REGISTRATION = {n: _registration_cte(n) for n in (1, 2)}
_INSERT_PERSON = insert(PEOPLE, PERSON_COLUMNS)
_INSERT_DOCUMENT = insert(DOCUMENTS, DOCUMENT_COLUMNS)
_INSERT_LINK = insert(LINKS, LINK_COLUMNS)
_PLATFORM_CODE = Statement(
    "SELECT people.id, people.code_enc, safe_codes.code_enc FROM people JOIN person_platforms"
    " ON person_platforms.person_id = people.id"
    " LEFT JOIN safe_codes ON safe_codes.person_id = people.id"
    " AND safe_codes.source_revocation_id = people.code_revocation_id"
    " WHERE people.qid = :qid AND person_platforms.account_id = :account_id"
)


def find_documents(session: Session, hashes: list[bytes]) -> list[tuple[bytes, int]]:
    """``(document hash, person id)`` of the documents already registered among ``hashes``."""
    rows = Raw.of(session).rows(_FIND[len(hashes)], {f"h{i}": h for i, h in enumerate(hashes)})
    return [(bytes(h), int(p)) for h, p in rows]


def insert_registration(
    session: Session, person: NewPerson, documents: list[NewDocument], account_id: int
) -> int:
    """Insert a person, their documents and the platform link; returns the person's row id."""
    raw = Raw.of(session)
    created = raw.time(person.created_at)
    params = {c: getattr(person, c, None) for c in PERSON_COLUMNS}
    params.update(
        birth_date=raw.date(person.birth_date),
        created_at=created,
        updated_at=created,
        account_id=account_id,
    )
    if not raw.sqlite:
        for index, doc in enumerate(documents):
            params.update(
                {f"kind{index}": doc.kind, f"doc_hash{index}": doc.doc_hash, f"doc_enc{index}": doc.doc_enc}
            )
        cursor = raw.execute(_REGISTRATION[len(documents)], params)
        person_id = int(cursor.fetchone()[0])
        cursor.close()
        return person_id
    cursor = raw.execute(_INSERT_PERSON, params)
    person_id = int(cursor.lastrowid)
    cursor.close()
    for doc in documents:
        raw.execute(
            _INSERT_DOCUMENT,
            {
                "person_id": person_id,
                "kind": doc.kind,
                "doc_hash": doc.doc_hash,
                "doc_enc": doc.doc_enc,
                "created_at": created,
            },
        ).close()
    raw.execute(
        _INSERT_LINK, {"person_id": person_id, "account_id": account_id, "created_at": created}
    ).close()
    return person_id


def platform_code(session: Session, qid: str, account_id: int) -> tuple[int, bytes, bytes | None] | None:
    """``(person id, encrypted code, encrypted fresh safe code or None)`` of ``qid`` if that platform
    obtained the person, else None (a safe code is fresh when derived from the current code)."""
    found = Raw.of(session).rows(_PLATFORM_CODE, {"qid": qid, "account_id": account_id})
    if not found:
        return None
    person_id, code, safe = found[0]
    return int(person_id), bytes(code), None if safe is None else bytes(safe)
