"""The public list of approved apps, as published: signed with the platform's issuing key, sequenced.

The list (format: :mod:`unifiedqr.conformance.public_list`) is published, not computed per request:
every decision that changes it (an approval, a withdrawal) signs the next list in the decision's
own transaction and stores it in the one row of ``conformance_list``; ``GET /conformance/apps`` and
``unifiedqr conformance list`` hand out those stored bytes, so every process and every mirror sees the
same document for a sequence. The row is locked first by every publication (``FOR UPDATE``; SQLite
has one writer anyway), so ``sequence`` grows strictly, even across processes.

The list is signed again (next sequence, same apps) when it is read and the key that signed it is no
longer the current issuing key (rotated, revoked or expired), so the served copy always verifies
against the published trust list. The very first read publishes the empty list (sequence 1).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.codes.trust import SigningKey
from unifiedqr.conformance.assessment import Assessment
from unifiedqr.conformance.public_list import build_list, sign_list
from unifiedqr.services.context import Services
from unifiedqr.store.conformance_models import ConformanceAssessment, ConformanceList

STATE_ID = 1


@dataclass(frozen=True)
class PublishedList:
    """The signed list document as served (UTF-8 JSON text), with what a cache needs to know."""

    sequence: int
    key_id: str
    issued_at: dt.datetime
    apps: int
    document: str

    @property
    def etag(self) -> str:
        return f'"{self.sequence}.{self.key_id}"'


def signing_key(ctx: Services) -> tuple[SigningKey, dt.datetime]:
    """The issuing key to sign with now (re-read from the key files first, outside any write)."""
    ctx.keys.refresh()
    now = ctx.now()
    return ctx.keys.current(now), now


def lock(session: Session, now: dt.datetime) -> ConformanceList:
    """The list's row, locked for this transaction (made, as sequence 0, on the first publication)."""
    query = select(ConformanceList).where(ConformanceList.id == STATE_ID).with_for_update()
    state = session.scalars(query).first()
    if state is not None:
        return state
    try:
        with session.begin_nested():
            session.add(ConformanceList(id=STATE_ID, sequence=0, key_id="", issued_at=now, document=""))
    except IntegrityError:  # another process made it first (PostgreSQL): wait for its lock
        pass
    return session.scalars(query.execution_options(populate_existing=True)).one()


def publish(session: Session, state: ConformanceList, key: SigningKey, now: dt.datetime) -> int:
    """Sign the list of the approved apps as they are in ``session``; store it; its sequence."""
    rows = session.scalars(
        select(ConformanceAssessment).where(ConformanceAssessment.decision == "approved")
    ).all()
    approved = [Assessment.from_json(json.loads(row.record)) for row in rows]
    dates = [(row.decided_at or now).date() for row in rows]
    listed = build_list(key.issuer, approved, now, state.sequence + 1, dates=dates)
    document = sign_list(listed, key, now)
    state.sequence = listed.sequence
    state.key_id = key.key_id
    state.issued_at = now
    state.document = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    return state.sequence


def _published(state: ConformanceList) -> PublishedList:
    apps = len(json.loads(state.document)["apps"])
    return PublishedList(state.sequence, state.key_id, state.issued_at, apps, state.document)


def current(ctx: Services) -> PublishedList:
    """The list as published (public: no credentials), signed again first if its key is not current."""
    key, now = signing_key(ctx)
    with ctx.db.read() as session:
        state = session.get(ConformanceList, STATE_ID)
    if state is not None and state.document and state.key_id == key.key_id:
        return _published(state)
    with ctx.db.write() as session:
        state = lock(session, now)
        if not (state.document and state.key_id == key.key_id):  # nobody re-signed it meanwhile
            publish(session, state, key, now)
    return _published(state)
