"""Notifying confirmed contacts through the platform that registered them: an outbox and its receipts.

The national platform holds no way to reach a person (no push tokens, no mail); the apps that
registered them do. So a notification is a row in an outbox: the tracer puts one per confirmed
contact (``POST /tracing/cases/{id}/notifications``), the registering platform (the account of the
person's earliest ``person_platforms`` link) reads its pending rows (``GET /tracing/notifications``)
and acknowledges each once delivered (``.../ack``). Each row is the record of what was sent and
when: the message, the venue and the contact's own scan time, sent and acknowledged instants.

A visitor known only by a phone or a card has no platform: their row is ``channel: manual`` (the
tracer calls them) and is never in any outbox. The message names the venue and the contact's own
scan time, never the case.
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
from unifiedqr.services.tracing import find_candidate, key_of_candidate, log, traced
from unifiedqr.services.tracing_data import PURPOSE, Traced, visitor_id
from unifiedqr.services.tracing_rules import Candidate
from unifiedqr.store.models import Account, Person
from unifiedqr.store.tracing_models import TracingCase, TracingNotification
from unifiedqr.store.tracing_rows import TracingRows

MAX_MESSAGE = 1000
DEFAULT_MESSAGE = (
    "Bạn có thể đã tiếp xúc với một ca bệnh tại {venue} lúc {time}. Hãy theo dõi sức khỏe và liên hệ"
    " trạm y tế nơi ở. / You may have been exposed to a confirmed case at {venue} around {time}."
    " Watch your health and contact your local health station."
)


@dataclass(frozen=True)
class Notify:
    """Whom to notify (QIDs or visitor ids; default: every confirmed contact not yet notified) and what."""

    candidates: list[str] | None = None
    message: str | None = None


@dataclass(frozen=True)
class NotificationView:
    """The tracer's record of one notification."""

    notification_id: str
    case_id: str
    qid: str | None
    visitor_id: str
    channel: str  # platform | manual
    platform_id: str | None
    message: str
    venue_name: str
    exposed_at: dt.datetime
    status: str  # pending | acknowledged | manual
    sent_at: dt.datetime
    sent_by: str
    acknowledged_at: dt.datetime | None


@dataclass(frozen=True)
class Notice:
    """What a platform reads from its outbox (its own user, the message; nothing about the case)."""

    notification_id: str
    qid: str | None
    message: str
    venue_name: str
    exposed_at: dt.datetime
    status: str
    sent_at: dt.datetime
    acknowledged_at: dt.datetime | None


def _targets(ctx: Services, found: Traced, session: Session, notify: Notify) -> list[Candidate]:
    confirmed = {k for k, (status, _) in found.reviews.items() if status == "confirmed"}
    if notify.candidates is None:
        told = set(
            bytes(k)
            for k in session.scalars(
                select(TracingNotification.person_key).where(TracingNotification.case_id == found.case.id)
            )
        )
        return [c for c in found.candidates if c.person in confirmed and c.person not in told]
    out = []
    for index, text in enumerate(notify.candidates):
        key = key_of_candidate(ctx, text)
        candidate, _ = find_candidate(found, key, f"candidates[{index}]")
        if key not in confirmed:
            raise Conflict(f"candidates[{index}]", "confirm a candidate before notifying them")
        out.append(candidate)
    return out


def _message(template: str, venue: str, at: dt.datetime, offset: dt.timedelta) -> str:
    local = at.astimezone(dt.timezone(offset))
    return template.replace("{venue}", venue).replace("{time}", f"{local:%H:%M %d/%m/%Y}")[:MAX_MESSAGE]


def notify(ctx: Services, principal: Principal, case_id: str, request: Notify) -> list[NotificationView]:
    """One outbox row per contact notified (``{venue}`` and ``{time}`` in the message are filled in)."""
    found = traced(ctx, principal, case_id)
    if found.case.status != "open":
        raise Conflict("case_id", "the case is closed; reopen it first")
    template = " ".join((request.message or DEFAULT_MESSAGE).split())
    if not template or len(template) > MAX_MESSAGE:
        raise InvalidInput("message", f"must be 1 to {MAX_MESSAGE} characters")
    now, offset = ctx.now(), found.case.rule.visit_rules.offset
    with ctx.db.write() as session:
        targets = _targets(ctx, found, session, request)
        people = [found.who(c.person).person_id for c in targets]
        platforms = TracingRows(session).registering_platforms(p for p in people if p is not None)
        for c, person_id in zip(targets, people, strict=True):
            venue = found.venue(c.venue_id).name
            platform = platforms.get(person_id) if person_id is not None else None
            row = TracingNotification(
                public_id=f"ntf_{secrets.token_urlsafe(12)}",
                case_id=found.case.id,
                person_key=c.person,
                person_id=person_id,
                platform_account_id=platform,
                channel="platform" if platform is not None else "manual",
                message=_message(template, venue, c.scan_at, offset),
                venue_name=venue[:200],
                exposed_at=c.scan_at,
                status="pending" if platform is not None else "manual",
                sent_by=principal.name[:200],
                created_at=now,
            )
            session.add(row)
            who = found.who(c.person)
            log(session, principal, found.case.id, "notified", who.qid or who.visitor_id, row.channel)
            record(session, principal, AuditAction.TRACING_NOTIFIED, person_id, f"case {case_id}", PURPOSE)
    return for_case(
        ctx,
        principal,
        case_id,
        audit=False,
        only=[found.who(c.person).visitor_id for c in targets],
        since=now,
    )


def for_case(
    ctx: Services,
    principal: Principal,
    case_id: str,
    *,
    audit: bool = True,
    only: list[str] | None = None,
    since: dt.datetime | None = None,
) -> list[NotificationView]:
    """Every notification of a case, oldest first (audited: it names people)."""
    principal.require(Permission.TRACING_MANAGE)
    query = (
        select(TracingNotification, Person.qid, Account.public_id)
        .join(TracingCase, TracingCase.id == TracingNotification.case_id)
        .outerjoin(Person, Person.id == TracingNotification.person_id)
        .outerjoin(Account, Account.id == TracingNotification.platform_account_id)
        .where(TracingCase.public_id == case_id)
        .order_by(TracingNotification.id)
    )
    if since is not None:
        query = query.where(TracingNotification.created_at >= since)
    with ctx.db.read() as session:
        if session.scalars(select(TracingCase.id).where(TracingCase.public_id == case_id)).first() is None:
            raise NotFound("case_id", "no such case")
        rows = session.execute(query).all()
    views = [
        _view(case_id, n, qid, platform)
        for n, qid, platform in rows
        if only is None or visitor_id(bytes(n.person_key)) in only
    ]
    if audit and views:
        with ctx.db.write() as session:
            reads = [(n.person_id, f"case {case_id} notification {n.public_id}") for n, _, _ in rows]
            record_reads(session, principal, AuditAction.TRACING_CASE_READ, reads, purpose=PURPOSE)
    return views


def _view(case_id: str, n: TracingNotification, qid: str | None, platform: str | None) -> NotificationView:
    return NotificationView(
        n.public_id,
        case_id,
        qid,
        visitor_id(bytes(n.person_key)),
        n.channel,
        platform,
        n.message,
        n.venue_name,
        n.exposed_at,
        n.status,
        n.created_at,
        n.sent_by,
        n.acknowledged_at,
    )


def _notice(n: TracingNotification, qid: str | None) -> Notice:
    return Notice(
        n.public_id, qid, n.message, n.venue_name, n.exposed_at, n.status, n.created_at, n.acknowledged_at
    )


def outbox(
    ctx: Services, principal: Principal, status: str | None = "pending", limit: int = 500
) -> list[Notice]:
    """The calling platform's notifications (``pending`` by default), oldest first."""
    principal.require(Permission.PLATFORM_NOTICES_READ)
    query = (
        select(TracingNotification, Person.qid)
        .outerjoin(Person, Person.id == TracingNotification.person_id)
        .where(TracingNotification.platform_account_id == principal.account)
    )
    if status is not None:
        query = query.where(TracingNotification.status == status)
    with ctx.db.read() as session:
        rows = session.execute(query.order_by(TracingNotification.id).limit(max(1, min(limit, 5000)))).all()
    return [_notice(n, qid) for n, qid in rows]


def acknowledge(ctx: Services, principal: Principal, notification_id: str) -> Notice:
    """The platform delivered it: ``acknowledged`` with the time (repeating it changes nothing)."""
    principal.require(Permission.PLATFORM_NOTICES_READ)
    with ctx.db.write() as session:
        row = session.scalars(
            select(TracingNotification).where(
                TracingNotification.public_id == notification_id,
                TracingNotification.platform_account_id == principal.account,
            )
        ).first()
        if row is None:
            raise NotFound("notification_id", "no such notification")
        if row.acknowledged_at is None:
            row.status, row.acknowledged_at = "acknowledged", ctx.now()
        qid = (
            session.scalars(select(Person.qid).where(Person.id == row.person_id)).first()
            if row.person_id
            else None
        )
        return _notice(row, qid)
