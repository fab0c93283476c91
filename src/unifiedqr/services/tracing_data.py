"""From a stored case to its ranked candidates: the queries, the pure rules, and the labels people see.

:func:`trace_case` is the hot path every tracing read shares (the candidate list, the CSV export,
the pictures, decisions, notifications, rings). It runs the shapes the pure rules ask for
(:mod:`unifiedqr.store.tracing_rows`): the case's own scans by their keys, the contacts' scans by
one index range per case scan, and (overlap rule only) the contacts' check-ins elsewhere; then
:func:`~unifiedqr.services.tracing_rules.trace` ranks them. Candidates are never stored: a late
offline upload, a purge or a corrected rule shows at the next read.

Who a candidate is: the 16-byte ``person_key`` the scans carry. A registered person's scans carry
their person row too (``qid`` in the answer); a visitor known only by a phone or an ID card has
none and is named by a ``visitor_id`` (``v_`` + the key in base64url: opaque, stable, meaningless
without the at-rest key). A candidate is *unverified* when no matching scan names a registered
person through a trusted path (the public check-in page, ``source = web``, never does).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unifiedqr.errors import NotFound
from unifiedqr.services.audit import AuditAction, record_reads
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.tracing_config import rule_from_config
from unifiedqr.services.tracing_rules import (
    Candidate,
    CaseScan,
    ContactScan,
    TracingRule,
    VenueFacts,
    Window,
    contact_ranges,
    trace,
)
from unifiedqr.store.models import Person, PersonDocument
from unifiedqr.store.tracing_models import TracingCase
from unifiedqr.store.tracing_rows import ContactRow, TracingRows, VenueFactsRow

PURPOSE = "tracing"
VISITOR_PREFIX = "v_"
KEY_BYTES = 16


def visitor_id(key: bytes) -> str:
    return VISITOR_PREFIX + base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii")


def key_of_visitor_id(text: str) -> bytes | None:
    if not isinstance(text, str) or not text.startswith(VISITOR_PREFIX) or len(text) != 24:
        return None
    try:
        key = base64.urlsafe_b64decode(text[2:] + "==")
    except (binascii.Error, ValueError):
        return None
    return key if len(key) == KEY_BYTES and visitor_id(key) == text else None


def person_key_of(ctx: Services, label: str) -> bytes:
    """The key the scans carry for ``qid:<QID>``, ``doc:<card number>`` or ``phone:<phone>`` (as
    :func:`unifiedqr.services.visitors.resolve` writes it)."""
    return ctx.vault.lookup_hash("visitor", label)[:KEY_BYTES]


def keys_of_person(ctx: Services, session: Session, person: Person) -> list[bytes]:
    """Every key the person's scans may carry: their QID's, their phone's, their ID cards'.

    A scan resolved to the person carries the QID's key; a phone or card scan that did not resolve
    (the phone shared by two people, typed on the public page) carries the phone's or card's.
    """
    labels = ["qid:" + person.qid]
    phone = ctx.vault.decrypt_optional("people.phone", person.phone_enc)
    if phone:
        labels.append("phone:" + phone)
    for blob in session.scalars(select(PersonDocument.doc_enc).where(PersonDocument.person_id == person.id)):
        key = ctx.vault.decrypt("person_documents.doc", blob)
        if key.startswith("id:"):
            labels.append("doc:" + key[3:])
    return [person_key_of(ctx, label) for label in labels]


@dataclass(frozen=True)
class CaseRecord:
    """A stored case as the services use it (the rule rebuilt from its snapshot)."""

    id: int
    public_id: str
    person_id: int | None
    qid: str | None
    keys: tuple[bytes, ...]
    rule: TracingRule
    window: Window
    onset: dt.datetime | None
    isolation: dt.datetime | None
    status: str
    opened_at: dt.datetime
    opened_by: str
    closed_at: dt.datetime | None


def split_keys(blob: bytes) -> tuple[bytes, ...]:
    return tuple(blob[i : i + KEY_BYTES] for i in range(0, len(blob), KEY_BYTES))


def load_case(ctx: Services, session: Session, case_id: str) -> tuple[TracingCase, CaseRecord]:
    """The case row with this public id and its record; NotFound otherwise."""
    row = (
        session.scalars(select(TracingCase).where(TracingCase.public_id == case_id)).first()
        if isinstance(case_id, str) and len(case_id) <= 40
        else None
    )
    if row is None:
        raise NotFound("case_id", "no such case")
    qid = (
        session.scalars(select(Person.qid).where(Person.id == row.person_id)).first()
        if row.person_id
        else None
    )
    return row, record_of(ctx, row, qid)


def read_case(ctx: Services, rows: TracingRows, case_id: str) -> CaseRecord:
    """The case with this public id, read in one statement (the hot path); NotFound otherwise."""
    found = rows.case(case_id) if isinstance(case_id, str) and len(case_id) <= 40 else None
    if found is None:
        raise NotFound("case_id", "no such case")
    return _record(ctx, *found)


def record_of(ctx: Services, row: TracingCase, qid: str | None) -> CaseRecord:
    return _record(
        ctx,
        row.id,
        row.public_id,
        row.person_id,
        row.case_keys,
        row.rule_config,
        row.window_start,
        row.window_end,
        row.onset,
        row.isolation,
        row.status,
        row.created_at,
        row.opened_by,
        row.closed_at,
        qid,
    )


def _record(ctx: Services, *columns: Any) -> CaseRecord:
    """A case from its columns in ``TracingRows.case``'s order (the ORM row gives the same ones)."""
    row_id, public_id, person_id, keys, config, start, end, *rest, qid = columns  # rest: onset..closed_at
    rule = rule_from_config(config, ctx.settings.visit_rules)
    return CaseRecord(row_id, public_id, person_id, qid, split_keys(keys), rule, Window(start, end), *rest)


@dataclass(frozen=True)
class Who:
    """How a candidate is shown: QID if registered, the visitor id always, masked name and phone."""

    person_id: int | None
    qid: str | None
    visitor_id: str
    name_masked: str
    phone_masked: str | None


@dataclass(frozen=True)
class Traced:
    """One trace of a case: its scans, the ranked candidates and what is needed to show them."""

    case: CaseRecord
    case_scans: tuple[CaseScan, ...]
    candidates: tuple[Candidate, ...]
    people: dict[bytes, Who]
    venues: dict[int, VenueFactsRow]
    reviews: dict[bytes, tuple[str, str]]

    def who(self, key: object) -> Who:
        assert isinstance(key, bytes)
        return self.people[key]

    def venue(self, venue_id: object) -> VenueFactsRow:
        assert isinstance(venue_id, int)
        return self.venues[venue_id]


def case_scans_of(rows: TracingRows, case: CaseRecord) -> tuple[list[CaseScan], dict[int, VenueFactsRow]]:
    """The case's scans the rule can use (the window; for visits its whole local days), and their venues."""
    window, vr = case.window, case.rule.visit_rules
    start, end = window.start, window.end
    if case.rule.method == "visits":
        start = vr.day_bounds(vr.local_day(window.start))[0]
        end = vr.day_bounds(vr.local_day(window.end))[1]
    scans, venues = rows.case_scans(case.keys, start, end)
    return [CaseScan(venue, at, explicit) for venue, at, explicit in scans], venues


def _facts(venues: dict[int, VenueFactsRow]) -> dict[Hashable, VenueFacts]:
    return {i: VenueFacts(v.kind, v.default_stay_minutes) for i, v in venues.items()}


def as_int(value: Hashable) -> int:
    """A venue reference the store handed out (an integer row id), typed as such."""
    assert isinstance(value, int)
    return value


def _elsewhere(
    rows: TracingRows, contacts: Sequence[ContactRow], span: tuple[dt.datetime, dt.datetime]
) -> dict[Hashable, list[tuple[Hashable, dt.datetime]]]:
    found: dict[Hashable, list[tuple[Hashable, dt.datetime]]] = defaultdict(list)
    keys = sorted({c.person_key for c in contacts})
    for key, venue, at in rows.checkins_of(keys, *span):
        found[key].append((venue, at))
    return found


def trace_case(
    ctx: Services, session: Session, case: CaseRecord, reviews: dict[bytes, tuple[str, str]] | None = None
) -> Traced:
    """Run the case's trace: the queries of docs/tracing.md's table, then the pure rules.

    ``reviews``: the tracers' decisions when read elsewhere (the primary, when ``session`` is on the
    replica: a decision just made must show on the next read, whatever the replica's lag).
    """
    rows = TracingRows(session)
    now = ctx.now()
    own, venues = case_scans_of(rows, case)
    facts = _facts(venues)
    ranges = contact_ranges(own, case.window, case.rule, facts, now)
    found = rows.contacts([(as_int(r.venue_id), r.start, r.end) for r in ranges])
    exclude: set[object] = set(case.keys)
    exclude.update(
        c.person_key for c in found if case.person_id is not None and c.person_id == case.person_id
    )
    elsewhere = None
    if case.rule.method == "visits" and ranges:
        span = (min(r.start for r in ranges), max(r.end for r in ranges))
        elsewhere = _elsewhere(rows, [c for c in found if c.person_key not in exclude], span)
    contacts = [
        ContactScan(
            c.person_key, c.venue_id, c.occurred_at, c.person_id is not None and c.source != "web", c.explicit
        )
        for c in found
    ]
    candidates = trace(
        own, contacts, case.window, case.rule, case=exclude, venues=facts, elsewhere=elsewhere, now=now
    )
    listed = {c.person for c in candidates}
    people = labels(rows, [c for c in found if c.person_key in listed])
    decided = rows.reviews(case.id) if reviews is None else reviews
    return Traced(case, tuple(own), tuple(candidates), people, venues, decided)


def labels(rows: TracingRows, found: Sequence[ContactRow]) -> dict[bytes, Who]:
    """Per candidate key: the person row (from any scan naming one) and the masked name and phone."""
    best: dict[bytes, ContactRow] = {}
    for c in found:
        known = best.get(c.person_key)
        if (
            known is None
            or (known.person_id is None and c.person_id is not None)
            or (not known.name_masked and c.name_masked)
        ):
            best[c.person_key] = c
    qids = rows.qids(c.person_id for c in best.values() if c.person_id is not None)
    return {
        key: Who(
            c.person_id,
            qids.get(c.person_id) if c.person_id is not None else None,
            visitor_id(key),
            c.name_masked,
            c.phone_masked,
        )
        for key, c in best.items()
    }


def audit_rows(
    session: Session,
    principal: Principal,
    action: AuditAction,
    case: CaseRecord,
    people: Iterable[Who],
    include_case: bool = True,
) -> None:
    """One audit row per person shown (purpose ``tracing``), and one for the case, in ``session``."""
    reads: list[tuple[int | None, str]] = []
    if include_case:
        reads.append((case.person_id, f"case {case.public_id} (the case)"))
    reads += [(w.person_id, f"case {case.public_id} {w.qid or w.visitor_id}") for w in people]
    record_reads(session, principal, action, reads, purpose=PURPOSE)


def audit_reads(
    ctx: Services,
    principal: Principal,
    action: AuditAction,
    case: CaseRecord,
    people: Iterable[Who],
    *,
    include_case: bool = True,
) -> None:
    """:func:`audit_rows` in a short write transaction of its own, committed before the answer leaves."""
    with ctx.db.write() as session:
        audit_rows(session, principal, action, case, people, include_case)


Shown = Callable[[Traced], Iterable[Who]]


def nobody(_found: Traced) -> list[Who]:
    return []


def traced_and_audited(
    ctx: Services, principal: Principal, case_id: str, action: AuditAction | None, shown: Shown = nobody
) -> Traced:
    """The case's current trace, audited with ``action`` for the case and everyone ``shown`` picks.

    PostgreSQL: the reads and the audit rows are one transaction (the audit commits with the read).
    SQLite: the reads in a read transaction, the rows right after in a short write transaction
    (holding the one writer lock for the trace would stall every door's scans); either way the
    caller answers only after the rows are committed.

    With a read replica (``UNIFIEDQR_REPLICA_URL``, issue 15) the heavy part (the case's scans and
    everyone met) is read there, within its freshness bound; the case itself, the decisions and the
    audit row for the case are read and committed on the primary first, and the rows for the people
    shown are committed on the primary before the answer leaves.
    """
    if ctx.db.replica is not None:
        return _traced_on_replica(ctx, principal, case_id, action, shown)
    if action is None or ctx.db.is_sqlite:
        with ctx.db.read() as session:
            rows = TracingRows(session)
            found = trace_case(ctx, session, read_case(ctx, rows, case_id))
        if action is not None:
            audit_reads(ctx, principal, action, found.case, shown(found))
        return found
    with ctx.db.write() as session:
        rows = TracingRows(session)
        found = trace_case(ctx, session, read_case(ctx, rows, case_id))
        audit_rows(session, principal, action, found.case, shown(found))
    return found


def _traced_on_replica(
    ctx: Services, principal: Principal, case_id: str, action: AuditAction | None, shown: Shown
) -> Traced:
    with ctx.db.write() as session:
        rows = TracingRows(session)
        case = read_case(ctx, rows, case_id)
        reviews = rows.reviews(case.id)
        if action is not None:
            audit_rows(session, principal, action, case, [], include_case=True)
    with ctx.db.replica_read() as session:
        found = trace_case(ctx, session, case, reviews)
    if action is not None:
        audit_reads(ctx, principal, action, case, shown(found), include_case=False)
    return found
