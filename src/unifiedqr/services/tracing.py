"""Contact tracing (spec §8, issue 12): cases, ranked candidates, and the tracer's decisions.

An official (or a tracer) opens a case for a confirmed person with an infectious window and a rule;
the candidates are everyone whose scans the rule matches with the case's scans, derived on every read
(:mod:`unifiedqr.services.tracing_data`), ranked, never labelled: a tracer confirms or dismisses each
with a reason, and every decision goes into the case's log. Every read that shows people is audited
with purpose ``tracing``, one row per person, before the answer leaves. Outputs beyond JSON (CSV,
pictures, venue-hours, rings) are in :mod:`unifiedqr.services.tracing_outputs`; the notification
outbox in :mod:`unifiedqr.services.tracing_notices`.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from unifiedqr.errors import Conflict, InvalidInput, NotFound
from unifiedqr.services.audit import AuditAction, record, record_reads
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.scope import QID
from unifiedqr.services.times import parse_date, parse_instant
from unifiedqr.services.tracing_config import available_rules, rule_config, rule_from_config
from unifiedqr.services.tracing_data import (
    PURPOSE,
    CaseRecord,
    Shown,
    Traced,
    Who,
    audit_reads,
    case_scans_of,
    key_of_visitor_id,
    keys_of_person,
    load_case,
    nobody,
    person_key_of,
    record_of,
    traced_and_audited,
)
from unifiedqr.services.tracing_rules import Candidate, Window, default_window, make_window, rule_named
from unifiedqr.services.tracing_views import (
    CandidateList,
    CaseDetail,
    CaseView,
    DecisionView,
    LogEntry,
    WindowView,
    candidate_view,
    case_view,
)
from unifiedqr.store.models import Person
from unifiedqr.store.tracing_models import TracingCase, TracingLogEntry, TracingReview
from unifiedqr.store.tracing_rows import TracingRows

STATUSES = ("open", "closed")
DECISIONS = ("confirmed", "dismissed")
MAX_REASON = 500


@dataclass(frozen=True)
class NewCase:
    """Open a case: the confirmed person's QID, the infectious window and the rule (default national).

    ``onset`` (symptoms or the positive sample) and ``isolation`` are kept on the case for the record
    and bound the second ring; :func:`suggest_window` turns them into the default window.
    """

    qid: str
    window_start: str
    window_end: str
    rule: str = "national"
    onset: str | None = None
    isolation: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Decision:
    """A tracer's decision on one candidate: ``confirmed`` or ``dismissed``, with a reason."""

    decision: str
    reason: str


def _reason(text: object, field: str = "reason", required: bool = True) -> str:
    value = " ".join(text.split()) if isinstance(text, str) else ""
    if (required and not value) or len(value) > MAX_REASON:
        raise InvalidInput(field, f"must be {1 if required else 0} to {MAX_REASON} characters")
    return value


def _window(ctx: Services, start: str, end: str) -> Window:
    window = make_window(parse_instant(start, "window_start"), parse_instant(end, "window_end"))
    days = ctx.settings.tracing.max_window_days
    if days and window.end - window.start > dt.timedelta(days=days):
        raise InvalidInput("window_end", f"the window may span at most {days} days")
    return window


def log(
    session: Session, principal: Principal, case_row_id: int, action: str, subject: str | None, reason: str
) -> None:
    """Append one entry to a case's decision log (in the caller's transaction)."""
    session.add(
        TracingLogEntry(
            case_id=case_row_id,
            action=action,
            subject=subject,
            reason=reason[:MAX_REASON],
            account_id=principal.account_id,
            role=principal.role.value,
            actor=principal.name[:200],
        )
    )


# ---------------------------------------------------------------------------------------------------
# Cases
# ---------------------------------------------------------------------------------------------------
def open_case(ctx: Services, principal: Principal, new: NewCase) -> CaseView:
    """Open a case; the answer counts the case's scans and venues in the window (audited as a read)."""
    principal.require(Permission.TRACING_MANAGE)
    rule = rule_named(new.rule or "national", available_rules(ctx))
    window = _window(ctx, new.window_start, new.window_end)
    onset = parse_instant(new.onset, "onset") if new.onset else None
    isolation = parse_instant(new.isolation, "isolation") if new.isolation else None
    note = _reason(new.note, "note", required=False)
    if not isinstance(new.qid, str) or not QID.fullmatch(new.qid):
        raise NotFound("qid", "no such person")
    now = ctx.now()
    with ctx.db.write() as session:
        person = session.scalars(select(Person).where(Person.qid == new.qid)).first()
        if person is None:
            raise NotFound("qid", "no such person")
        keys = keys_of_person(ctx, session, person)
        row = TracingCase(
            public_id=f"case_{secrets.token_urlsafe(12)}",
            person_id=person.id,
            case_keys=b"".join(keys),
            rule=rule.name,
            rule_config=rule_config(rule),
            window_start=window.start,
            window_end=window.end,
            onset=onset,
            isolation=isolation,
            status="open",
            opened_by_account_id=principal.account_id,
            opened_by=principal.name[:200],
            created_at=now,
        )
        session.add(row)
        session.flush()
        log(session, principal, row.id, "opened", new.qid, note)
        record(
            session, principal, AuditAction.TRACING_CASE_OPENED, person.id, f"case {row.public_id}", PURPOSE
        )
        case = record_of(ctx, row, person.qid)
        return case_view(case, _scans_in_window(session, case))


def _scans_in_window(session: Session, case: CaseRecord) -> tuple[int, int]:
    """How many of the case's scans lie in the window, and at how many venues."""
    own = [s for s in case_scans_of(TracingRows(session), case)[0] if case.window.contains(s.at)]
    return len(own), len({s.venue_id for s in own})


def get_case(ctx: Services, principal: Principal, case_id: str) -> CaseDetail:
    """The case, its counts and its decision log (oldest first)."""
    principal.require(Permission.TRACING_MANAGE)
    with ctx.db.read() as session:
        row, case = load_case(ctx, session, case_id)
        counts = _scans_in_window(session, case)
        entries = session.scalars(
            select(TracingLogEntry).where(TracingLogEntry.case_id == row.id).order_by(TracingLogEntry.id)
        ).all()
        logged = tuple(
            LogEntry(e.created_at, e.action, e.subject, e.reason, e.role, e.actor) for e in entries
        )
    audit_reads(ctx, principal, AuditAction.TRACING_CASE_READ, case, ())
    return CaseDetail(**vars(case_view(case, counts)), log=logged)


def list_cases(
    ctx: Services, principal: Principal, status: str | None = None, limit: int = 100
) -> list[CaseView]:
    """Cases, newest first (``status``: open or closed; at most ``limit``); counts are not computed."""
    principal.require(Permission.TRACING_MANAGE)
    if status is not None and status not in STATUSES:
        raise InvalidInput("status", "must be open or closed")
    query = select(TracingCase, Person.qid).outerjoin(Person, Person.id == TracingCase.person_id)
    if status is not None:
        query = query.where(TracingCase.status == status)
    with ctx.db.read() as session:
        rows = session.execute(
            query.order_by(TracingCase.created_at.desc()).limit(max(1, min(limit, 1000)))
        ).all()
        cases = [record_of(ctx, row, qid) for row, qid in rows]
    if cases:
        with ctx.db.write() as session:
            reads = [(c.person_id, f"case {c.public_id} (the case)") for c in cases]
            record_reads(session, principal, AuditAction.TRACING_CASE_READ, reads, purpose=PURPOSE)
    return [case_view(c, None) for c in cases]


def set_status(ctx: Services, principal: Principal, case_id: str, status: str, reason: str) -> CaseView:
    """Close a case (or reopen it), with a reason in the log."""
    principal.require(Permission.TRACING_MANAGE)
    if status not in STATUSES:
        raise InvalidInput("status", "must be open or closed")
    text = _reason(reason)
    with ctx.db.write() as session:
        row, _ = load_case(ctx, session, case_id)
        if row.status == status:
            raise Conflict("status", f"the case is already {status}")
        row.status = status
        row.closed_at = ctx.now() if status == "closed" else None
        log(session, principal, row.id, "closed" if status == "closed" else "reopened", None, text)
        record(
            session,
            principal,
            AuditAction.TRACING_CASE_CLOSED,
            row.person_id,
            f"case {case_id} {status}",
            PURPOSE,
        )
        qid = (
            session.scalars(select(Person.qid).where(Person.id == row.person_id)).first()
            if row.person_id
            else None
        )
        return case_view(record_of(ctx, row, qid), None)


def suggest_window(
    ctx: Services, principal: Principal, onset: str, isolation: str, rule: str = "national"
) -> WindowView:
    """The default window: ``days_before_onset`` before onset (a date or an instant) to isolation."""
    principal.require(Permission.TRACING_MANAGE)
    chosen = rule_from_config(rule_config(rule_named(rule, available_rules(ctx))), ctx.settings.visit_rules)
    start: dt.datetime | dt.date
    start = (
        parse_date(onset, "onset")
        if isinstance(onset, str) and len(onset) == 10
        else parse_instant(onset, "onset")
    )
    window = default_window(start, parse_instant(isolation, "isolation"), chosen)
    return WindowView(chosen.name, window.start.astimezone(dt.UTC), window.end.astimezone(dt.UTC))


# ---------------------------------------------------------------------------------------------------
# Candidates
# ---------------------------------------------------------------------------------------------------
def traced(
    ctx: Services,
    principal: Principal,
    case_id: str,
    action: AuditAction | None = None,
    shown: Shown = nobody,
) -> Traced:
    """The case's current trace (the read every output shares), audited with ``action`` if given
    (the case and every person ``shown`` picks; see :func:`tracing_data.traced_and_audited`)."""
    principal.require(Permission.TRACING_MANAGE)
    return traced_and_audited(ctx, principal, case_id, action, shown)


def first(limit: int | None) -> Shown:
    """Who a list of the first ``limit`` candidates shows (all of them without a limit)."""

    def pick(found: Traced) -> list[Who]:
        listed = found.candidates if limit is None else found.candidates[: max(0, limit)]
        return [found.who(c.person) for c in listed]

    return pick


def candidates(ctx: Services, principal: Principal, case_id: str, limit: int | None = None) -> CandidateList:
    """Ranked candidates, one per person, never the case; each person returned is audited."""
    found = traced(ctx, principal, case_id, AuditAction.TRACING_CANDIDATES_READ, first(limit))
    shown = found.candidates if limit is None else found.candidates[: max(0, limit)]
    views = [candidate_view(found, c, rank) for rank, c in enumerate(shown, 1)]
    case = found.case
    return CandidateList(
        case.public_id,
        case.rule.name,
        case.window.start,
        case.window.end,
        case.status,
        len(found.candidates),
        views,
    )


def key_of_candidate(ctx: Services, candidate_id: str) -> bytes:
    """The scans' key of a candidate named by QID or visitor id; NotFound for anything else."""
    if isinstance(candidate_id, str) and QID.fullmatch(candidate_id):
        return person_key_of(ctx, "qid:" + candidate_id)
    key = key_of_visitor_id(candidate_id)
    if key is None:
        raise NotFound("candidate_id", "no such candidate")
    return key


def find_candidate(found: Traced, key: bytes, field: str = "candidate_id") -> tuple[Candidate, Who]:
    for c in found.candidates:
        if c.person == key:
            return c, found.who(key)
    raise NotFound(field, "not a candidate of this case")


def decide(
    ctx: Services, principal: Principal, case_id: str, candidate_id: str, decision: Decision
) -> DecisionView:
    """Confirm or dismiss a current candidate of an open case, with a reason (logged, audited)."""
    principal.require(Permission.TRACING_MANAGE)
    status = {"confirm": "confirmed", "dismiss": "dismissed"}.get(decision.decision, decision.decision)
    if status not in DECISIONS:
        raise InvalidInput("decision", "must be confirmed or dismissed")
    reason = _reason(decision.reason)
    key = key_of_candidate(ctx, candidate_id)
    found = traced(ctx, principal, case_id)
    if found.case.status != "open":
        raise Conflict("case_id", "the case is closed; reopen it first")
    _, who = find_candidate(found, key)
    now = ctx.now()
    with ctx.db.write() as session:
        review = session.get(TracingReview, (found.case.id, key))
        if review is None:
            review = TracingReview(case_id=found.case.id, person_key=key, created_at=now)
            session.add(review)
        review.person_id, review.status, review.reason = who.person_id, status, reason
        review.account_id, review.decided_by, review.updated_at = (
            principal.account_id,
            principal.name[:200],
            now,
        )
        log(session, principal, found.case.id, status, who.qid or who.visitor_id, reason)
        record(
            session,
            principal,
            AuditAction.TRACING_DECIDED,
            who.person_id,
            f"case {case_id} {status} {who.visitor_id}",
            PURPOSE,
        )
    return DecisionView(case_id, who.qid, who.visitor_id, status, reason, now, principal.name)
