"""Holder consent: how a platform brings into its scope a person another platform registered (issue 10 #1).

Why: a platform that knew a document number and a name could guess the birth date through
``POST /people`` and receive the person's signed code (phone and BHYT inside), then read and change
their record. Now any path that reaches an existing person outside the caller's scope (a
registration, a registration from the chip card, a CMND to CCCD upgrade, a ``proxy_qid``) answers
:class:`ConsentRequired` whatever name and birth date were sent, links nothing and re-issues
nothing, and sends the holder a 6-digit code naming the asking platform, by SMS to the phone on
file or the household declarer's. The platform completes with the code (:func:`complete`), or the
holder approves or refuses while signed in (:func:`decide`). Five wrong codes void a request; ten
minutes expire it. The code is stored only as an HMAC bound to the request's id and compared in
constant time. Every request and decision is an audit row with purpose ``consent`` and the
person's id, so the holder's access log shows it.

A request about nobody (a ``proxy_qid`` that names no one) is stored and answered exactly like the
others, and can never be approved, so the answer does not say whether that QID exists.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import NoReturn

from sqlalchemy import select
from sqlalchemy.orm import Session

from unifiedqr.errors import Conflict, Gone, InvalidInput, NotFound
from unifiedqr.services import registry
from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import Permission, Principal, new_public_id
from unifiedqr.services.context import Services
from unifiedqr.store.consent_models import Consent
from unifiedqr.store.models import Account, Person

CODE_TTL = dt.timedelta(minutes=10)
MAX_WRONG_CODES = 5
PURPOSE = "consent"
PENDING, APPROVED, REFUSED, VOIDED, EXPIRED = "pending", "approved", "refused", "voided", "expired"


@dataclass(frozen=True)
class ConsentRequired:
    """The answer to a registration that reached someone outside the caller's scope (HTTP 202)."""

    consent_id: str
    consent: str = "required"


@dataclass(frozen=True)
class ConsentState:
    consent_id: str
    status: str


@dataclass(frozen=True)
class HolderConsent:
    """A request as the holder (or their household declarer) sees it."""

    consent_id: str
    platform: str
    qid: str
    full_name: str
    status: str
    created_at: dt.datetime
    expires_at: dt.datetime


def _otp_hash(ctx: Services, public_id: str, otp: str) -> bytes:
    return ctx.vault.lookup_hash("consent-otp", f"{public_id}:{otp}")


def _message(otp: str, platform: str) -> str:
    return (
        f"Ma xac nhan {otp}: {platform} xin lien ket ma QR ca nhan cua ban. Chi dua ma cho ung dung nay; "
        f"het han sau 10 phut. / Code {otp}: {platform} asks to link your personal QR code. "
        "Give it only to that app; it expires in 10 minutes."
    )


def _phone_for(ctx: Services, session: Session, person: Person) -> str | None:
    """The phone on file, else the household declarer's (who answers for a child without one)."""
    phone = ctx.vault.decrypt_optional("people.phone", person.phone_enc)
    if phone is None and person.proxy_person_id is not None:
        declarer = session.get(Person, person.proxy_person_id)
        phone = ctx.vault.decrypt_optional("people.phone", declarer.phone_enc) if declarer else None
    return phone


def ask(
    ctx: Services, session: Session, principal: Principal, person: Person | None, pending: dict[str, object]
) -> ConsentRequired:
    """Open (or reuse the open) request of the caller for ``person``, in the registration's session.

    ``pending``: what the registration would add on approval (documents, and whether the name and
    birth date matched), kept encrypted. A pending request is reused, so retries send no new SMS.
    """
    now = ctx.now()
    account = principal.account
    if person is not None:
        open_ = session.scalars(
            select(Consent).where(
                Consent.person_id == person.id,
                Consent.account_id == account,
                Consent.status == PENDING,
                Consent.expires_at > now,
            )
        ).first()
        if open_ is not None:
            return ConsentRequired(open_.public_id)
    public_id = new_public_id("cns")
    otp = f"{secrets.randbelow(10**6):06d}"
    session.add(
        Consent(
            public_id=public_id,
            person_id=person.id if person else None,
            account_id=account,
            status=PENDING,
            otp_hash=_otp_hash(ctx, public_id, otp),
            attempts=0,
            request_enc=ctx.vault.encrypt("consents.request", json.dumps(pending)),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    )
    phone = _phone_for(ctx, session, person) if person is not None else None
    if phone is not None:
        ctx.sms.send(session, phone, _message(otp, principal.name), now)
    record(
        session,
        principal,
        AuditAction.CONSENT_REQUESTED,
        person.id if person else None,
        detail=public_id,
        purpose=PURPOSE,
    )
    return ConsentRequired(public_id)


def _state(consent: Consent, now: dt.datetime) -> str:
    """The stored status, or ``expired`` for a pending request past its ten minutes."""
    ends = min(consent.expires_at, consent.created_at + CODE_TTL)
    return EXPIRED if consent.status == PENDING and now >= ends else consent.status


def _asked_by(session: Session, principal: Principal, consent_id: str, *, lock: bool = False) -> Consent:
    query = select(Consent).where(Consent.public_id == consent_id, Consent.account_id == principal.account)
    consent = session.scalars(query.with_for_update() if lock else query).first()
    if consent is None:
        raise NotFound("consent_id", "no such consent request")
    return consent


def status(ctx: Services, principal: Principal, consent_id: str) -> ConsentState:
    """Where the caller's request stands: pending, approved, refused, voided or expired."""
    principal.require(Permission.PLATFORM_CONSENTS_USE)
    with ctx.db.read() as session:
        consent = _asked_by(session, principal, consent_id)
        return ConsentState(consent.public_id, _state(consent, ctx.now()))


def complete(ctx: Services, principal: Principal, consent_id: str, otp: str) -> registry.Issued:
    """The asking platform sends the holder's code: the person joins its scope; their code is returned.

    Wrong code: InvalidInput (422), counted; the fifth voids the request. Voided, expired or refused:
    Gone (410). Someone else's request: NotFound (404). An approved request answers again.
    """
    principal.require(Permission.PLATFORM_CONSENTS_USE)
    now = ctx.now()
    with ctx.db.write() as session:
        consent = _asked_by(session, principal, consent_id, lock=True)
        state = _state(consent, now)
        if state == APPROVED and consent.person_id is not None:
            return _issued(ctx, session, consent.person_id)
        if state != PENDING:
            _gone(state)
        expected = _otp_hash(ctx, consent.public_id, otp if isinstance(otp, str) else "")
        if consent.person_id is not None and hmac.compare_digest(expected, consent.otp_hash):
            _decide(session, principal, consent, APPROVED, "otp", now, AuditAction.CONSENT_APPROVED)
            return _approve(ctx, session, consent)
        wrong = _count_wrong(session, principal, consent, now)
    raise wrong  # after the commit: the attempt stays counted


def _count_wrong(session: Session, principal: Principal, consent: Consent, now: dt.datetime) -> InvalidInput:
    """One more wrong code; the fifth voids the request. The error to raise once committed."""
    consent.attempts += 1
    if consent.attempts >= MAX_WRONG_CODES:
        _decide(session, principal, consent, VOIDED, "attempts", now, AuditAction.CONSENT_VOIDED)
    left = MAX_WRONG_CODES - consent.attempts
    return InvalidInput(
        "otp", f"wrong code; {left} attempts left" if left > 0 else "wrong code; request voided"
    )


def _gone(state: str) -> NoReturn:
    raise Gone("consent_id", f"the consent request is {state}; register again to ask anew")


def _decide(
    session: Session,
    principal: Principal,
    consent: Consent,
    outcome: str,
    how: str,
    now: dt.datetime,
    action: AuditAction,
) -> None:
    consent.status, consent.decided_at, consent.decided_by = outcome, now, how
    record(session, principal, action, consent.person_id, detail=consent.public_id, purpose=PURPOSE)


def _approve(ctx: Services, session: Session, consent: Consent) -> registry.Issued:
    """Link the person to the asking platform and apply what the registration brought (a new CCCD)."""
    person = session.get(Person, consent.person_id)
    if person is None:
        raise NotFound("consent_id", "no such consent request")
    pending = (
        json.loads(ctx.vault.decrypt("consents.request", consent.request_enc)) if consent.request_enc else {}
    )
    payload = registry.apply_consented(ctx, session, person, consent.account_id, pending)
    return registry.Issued(person.qid, payload, False)


def _issued(ctx: Services, session: Session, person_id: int) -> registry.Issued:
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound("consent_id", "no such consent request")
    return registry.Issued(person.qid, ctx.vault.decrypt("people.code", person.code_enc), False)


# ---------------------------------------------------------------------------------------------------
# The holder's side
# ---------------------------------------------------------------------------------------------------
def _mine(session: Session, principal: Principal) -> list[int]:
    """The caller's own person and the people they declared for (who receive their codes)."""
    if principal.person_id is None:
        return []
    declared = session.scalars(select(Person.id).where(Person.proxy_person_id == principal.person_id)).all()
    return [principal.person_id, *declared]


def for_holder(ctx: Services, principal: Principal, limit: int = 100) -> list[HolderConsent]:
    """Requests concerning the signed-in citizen or the people they declared for, newest first."""
    principal.require(Permission.SELF_CONSENTS_DECIDE)
    now = ctx.now()
    with ctx.db.read() as session:
        people = _mine(session, principal)
        if not people:
            return []
        rows = session.execute(
            select(Consent, Account.name, Person.qid, Person.full_name)
            .join(Account, Account.id == Consent.account_id)
            .join(Person, Person.id == Consent.person_id)
            .where(Consent.person_id.in_(people))
            .order_by(Consent.created_at.desc(), Consent.id.desc())
            .limit(limit)
        ).all()
    return [
        HolderConsent(c.public_id, name, qid, full_name, _state(c, now), c.created_at, c.expires_at)
        for c, name, qid, full_name in rows
    ]


def decide(ctx: Services, principal: Principal, consent_id: str, approve: bool) -> ConsentState:
    """The holder approves or refuses a pending request (the way without a phone on file)."""
    principal.require(Permission.SELF_CONSENTS_DECIDE)
    now = ctx.now()
    with ctx.db.write() as session:
        people = _mine(session, principal)
        consent = (
            session.scalars(
                select(Consent)
                .where(Consent.public_id == consent_id, Consent.person_id.in_(people))
                .with_for_update()
            ).first()
            if people
            else None
        )
        if consent is None:
            raise NotFound("consent_id", "no such consent request")
        state = _state(consent, now)
        if state in (EXPIRED, VOIDED):
            _gone(state)
        if state != PENDING:
            raise Conflict("consent_id", f"the consent request is already {state}")
        if approve:
            _decide(session, principal, consent, APPROVED, "holder", now, AuditAction.CONSENT_APPROVED)
            _approve(ctx, session, consent)
        else:
            _decide(session, principal, consent, REFUSED, "holder", now, AuditAction.CONSENT_REFUSED)
        return ConsentState(consent.public_id, consent.status)
