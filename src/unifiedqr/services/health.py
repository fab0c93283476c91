"""Health records (vaccinations, tests, recoveries) and the colour a person gets from them (spec §3).

Records come from a health official (``POST /people/{qid}/health-records``) or an import file
(``unifiedqr health import``); both are checked by :mod:`unifiedqr.services.health_records` and
stored encrypted like declarations (``health_records.body``). The colour is
:func:`unifiedqr.services.health_status.evaluate` under the rule file the settings name
(``UNIFIEDQR_HEALTH_RULES``), always at ``ctx.now()``.

Which colour a door shows (:func:`door_colour`): the person's health colour only for a code whose
signature is ``valid``; ``red`` for a signature that was refused (forged, revoked, unknown or
expired key); ``neutral`` for everything that carries no signature (an unsigned code from another
platform, a chip ID card, a typed phone), since a colour read off an untrusted code would be the
colour of whatever QID a stranger typed into it.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from unifiedqr.errors import InvalidInput, NotFound
from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.health_records import (
    CsvRecord,
    RowErrors,
    RowProblem,
    record_from_json,
    record_to_json,
)
from unifiedqr.services.health_status import HealthStatus, Record, evaluate
from unifiedqr.store.access_models import HealthRecordRow
from unifiedqr.store.crypto import Vault
from unifiedqr.store.models import Person

COLUMN = "health_records.body"
NOT_VERIFIED = "code_not_verified"
UNSIGNED = frozenset({"unsigned", "none"})
_IMPORT_CHUNK = 1000


@dataclass(frozen=True)
class HealthRecordView:
    record_id: str
    qid: str
    kind: str
    created_at: dt.datetime
    record: Mapping[str, Any]


@dataclass(frozen=True)
class ImportResult:
    imported: int
    people: int


def neutral(reason: str = NOT_VERIFIED) -> HealthStatus:
    return HealthStatus("neutral", reason, None)


def status(ctx: Services, records: Sequence[Record]) -> HealthStatus:
    """The colour of a person with ``records`` now, under the configured rule file."""
    return evaluate(records, ctx.settings.health_rules, ctx.now())


def decrypt_records(vault: Vault, blobs: Sequence[bytes]) -> list[Record]:
    """Stored record bodies back as records (they were checked when stored)."""
    return [record_from_json(json.loads(vault.decrypt(COLUMN, blob)), None) for blob in blobs]


def records_of(session: Session, vault: Vault, person_id: int) -> list[Record]:
    """The stored records of one person (decrypted)."""
    blobs = session.scalars(select(HealthRecordRow.body_enc).where(HealthRecordRow.person_id == person_id))
    return decrypt_records(vault, list(blobs))


def own_status(ctx: Services, principal: Principal) -> HealthStatus:
    """The caller's own colour (a citizen's card), from their own records under the rule file."""
    principal.require(Permission.SELF_PEOPLE_READ)
    if principal.person_id is None:
        return neutral("no_person")
    with ctx.db.read() as session:
        return status(ctx, records_of(session, ctx.vault, principal.person_id))


def door_colour(ctx: Services, verification: str, person_id: int | None) -> HealthStatus:
    """What a door shows for a scan (see the module docstring): only a valid signature earns a colour."""
    if verification != "valid":
        return neutral() if verification in UNSIGNED else HealthStatus("red", "signature_refused", None)
    if person_id is None:
        return status(ctx, [])
    with ctx.db.read() as session:
        return status(ctx, records_of(session, ctx.vault, person_id))


def _row(
    ctx: Services, principal: Principal, person_id: int, item: Record, now: dt.datetime
) -> dict[str, Any]:
    body = record_to_json(item)
    return {
        "public_id": f"hr_{secrets.token_urlsafe(12)}",
        "person_id": person_id,
        "kind": body["kind"],
        "body_enc": ctx.vault.encrypt(COLUMN, json.dumps(body, separators=(",", ":"))),
        "recorded_by_account_id": principal.account_id,
        "created_at": now,
    }


def add(ctx: Services, principal: Principal, qid: str, body: Mapping[str, Any]) -> HealthRecordView:
    """Record one vaccination, test or recovery of ``qid`` (health officials); 201 with the record."""
    principal.require(Permission.HEALTH_RECORDS_WRITE)
    now = ctx.now()
    item = record_from_json(body, now)
    with ctx.db.write() as session:
        person_id = (
            session.scalar(select(Person.id).where(Person.qid == qid)) if isinstance(qid, str) else None
        )
        if person_id is None:
            raise NotFound("qid", "no such person")
        values = _row(ctx, principal, person_id, item, now)
        session.execute(insert(HealthRecordRow), [values])
        record(session, principal, AuditAction.HEALTH_RECORD_ADDED, person_id, values["kind"])
    return HealthRecordView(values["public_id"], qid, values["kind"], now, record_to_json(item))


def import_records(
    ctx: Services,
    principal: Principal,
    records: Sequence[CsvRecord],
    progress: Callable[[int], None] = lambda _n: None,
) -> ImportResult:
    """Import checked rows all or nothing: every QID must name a person, then one transaction.

    ``progress(n)`` is called as rows are written (for a progress bar); an unknown QID is a
    :class:`RowErrors` naming each of its rows, and then nothing was written.
    """
    principal.require(Permission.HEALTH_RECORDS_WRITE)
    now = ctx.now()
    qids = sorted({r.qid for r in records})
    with ctx.db.write() as session:
        people: dict[str, int] = {}
        for start in range(0, len(qids), _IMPORT_CHUNK):
            some = qids[start : start + _IMPORT_CHUNK]
            found = session.execute(select(Person.qid, Person.id).where(Person.qid.in_(some)))
            people.update({qid: person_id for qid, person_id in found})
        unknown = [
            RowProblem(r.row, f"rows[{r.row}].qid", "no such person") for r in records if r.qid not in people
        ]
        if unknown:
            raise RowErrors(unknown)
        for start in range(0, len(records), _IMPORT_CHUNK):
            part = records[start : start + _IMPORT_CHUNK]
            session.execute(
                insert(HealthRecordRow), [_row(ctx, principal, people[r.qid], r.record, now) for r in part]
            )
            progress(len(part))
        detail = f"{len(records)} records of {len(people)} people"
        record(session, principal, AuditAction.HEALTH_RECORDS_IMPORTED, detail=detail)
    return ImportResult(len(records), len(people))


def check_body(body: object) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise InvalidInput("body", "must be a JSON object")
    return body
