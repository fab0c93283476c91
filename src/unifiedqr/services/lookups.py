"""Authorised look-ups by scan (spec §1, §3, §9): who may read what behind a code, for which purpose.

``POST /api/v1/lookups`` with what was scanned or typed and a purpose. Each role sees exactly its
view (docs/privacy.md has the table):

- health officials and administrators: anyone, by a personal code (full or safe) or a bare QID;
  the **full** view (record, declarations of the last 14 days, health colour);
- a platform: the same full view, only of people in its scope (registered by it or linked by the
  holder's consent, ``person_platforms``); anyone else is 404 like a QID that does not exist;
- venue staff and owners: only a **scanned code** (a bare QID is 403); the **masked** view: the
  masked name and the colour. A code whose signature is not ``valid`` gets its verification, colour
  ``neutral`` and nothing else.

A colour comes only from a code whose signature is valid (and not revoked: checked against the
database, not a cache) or from a QID an authorised reader typed, never from a QID a stranger typed
into an unsigned code. Every look-up that returns a person writes one audit row (action
``lookup``, the purpose given) in the transaction that reads the person, so a read without its
audit row cannot happen; decrypting and evaluating run after the commit, outside the write lock.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from unifiedqr.codes.dcc.display import Display
from unifiedqr.codes.payload import Gender, parse, parse_text
from unifiedqr.codes.signing import Status, revocation_id_of, verify_signed_bytes
from unifiedqr.errors import InvalidInput, NotFound, PermissionDenied
from unifiedqr.services import dcc_scans, health
from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.declarations import LOOKBACK_DAYS, DeclarationView, restored
from unifiedqr.services.health_status import HealthStatus
from unifiedqr.services.purposes import check_purpose
from unifiedqr.services.visitors import mask_name
from unifiedqr.store.access_models import HealthRecordRow
from unifiedqr.store.models import Declaration, Person, PersonPlatform, RevokedCode

MAX_TEXT = 4096
_QID = re.compile(r"[0-9]{18}")


@dataclass(frozen=True)
class Lookup:
    text: str
    purpose: str


@dataclass(frozen=True)
class UntrustedView:
    """A code whose signature is not valid, at a door: its verification and nothing else."""

    qid: str | None
    view: str
    verification: str
    health_status: HealthStatus


@dataclass(frozen=True)
class MaskedView:
    qid: str
    view: str
    verification: str
    health_status: HealthStatus
    name_masked: str


@dataclass(frozen=True)
class FullView:
    qid: str
    view: str
    verification: str
    health_status: HealthStatus
    full_name: str
    birth_date: str
    gender: str
    document_number: str
    phone: str | None
    declarations: list[DeclarationView]


@dataclass(frozen=True)
class PassportView:
    """An EU vaccine passport (HC1) for a full-view reader: no QID, the holder's minimal display."""

    qid: None
    view: str
    verification: str
    health_status: HealthStatus
    display: Display | None


@dataclass(frozen=True)
class PassportMaskedView:
    """A passport at a door: the masked name, the certificate type and the colour."""

    qid: None
    view: str
    verification: str
    health_status: HealthStatus
    name_masked: str
    certificate_type: str | None


LookupView = FullView | MaskedView | UntrustedView | PassportView | PassportMaskedView


@dataclass(frozen=True)
class _Scanned:
    """What the text names: a QID, how its code verified (``none`` for a bare QID), the code itself."""

    qid: str
    verification: str
    name: str
    signature: str | None


def _read(ctx: Services, text: object) -> _Scanned:
    value = text.strip() if isinstance(text, str) else ""
    if not value or len(value) > MAX_TEXT:
        raise InvalidInput("text", f"give what was scanned or typed (1 to {MAX_TEXT} characters)")
    if _QID.fullmatch(value):
        return _Scanned(value, "none", "", None)
    fields = value.split("|")
    if len(fields) != 6 or fields[3] not in ("0", "1"):
        raise InvalidInput("text", "not a personal code (full or safe) or an 18-digit QID")
    try:
        code = parse_text(value, lenient=True)
    except InvalidInput as exc:
        raise InvalidInput("text", str(exc)) from None
    if not code.signature:
        return _Scanned(code.qid, Status.UNSIGNED.value, code.full_name, None)
    message = value[: -len(code.signature) - 1].encode("utf-8")
    result = verify_signed_bytes(message, code.signature, ctx.venues.trust(), ctx.now())
    if result.status is Status.UNKNOWN_KEY:  # a key published since the cache was filled
        ctx.venues.forget()
        result = verify_signed_bytes(message, code.signature, ctx.venues.trust(), ctx.now())
    return _Scanned(code.qid, result.status.value, code.full_name, code.signature)


def _revoked(session: Session, scanned: _Scanned) -> _Scanned:
    """A valid code withdrawn since the trust list was cached is ``code_revoked`` (exact, from the table)."""
    if scanned.verification != Status.VALID.value or scanned.signature is None:
        return scanned
    if session.get(RevokedCode, revocation_id_of(scanned.signature)) is None:
        return scanned
    return _Scanned(scanned.qid, Status.CODE_REVOKED.value, scanned.name, scanned.signature)


def lookup(ctx: Services, principal: Principal, request: Lookup) -> LookupView:
    """The view of the person behind ``request.text`` that ``principal`` may have (module docstring)."""
    held = principal.require(Permission.ANY_LOOKUP, Permission.PLATFORM_LOOKUP, Permission.SCANNED_LOOKUP)
    purpose = check_purpose(request.purpose)
    assert purpose is not None
    ctx.limits.enforce("lookup", principal.public_id, ctx.settings.limits.lookup, field="Authorization")
    if dcc_scans.is_passport(request.text):
        return _passport(ctx, principal, request.text, purpose, held)
    scanned = _read(ctx, request.text)
    if held is Permission.SCANNED_LOOKUP:
        if scanned.signature is None and scanned.verification == "none":
            raise PermissionDenied("text", "venue staff look up a scanned code, not a typed QID")
        return _masked(ctx, principal, scanned, purpose)
    return _full(ctx, principal, scanned, purpose, everyone=held is Permission.ANY_LOOKUP)


def _passport(ctx: Services, principal: Principal, text: str, purpose: str, held: Permission) -> LookupView:
    """HC1 (issue 13): no person in the registry, so no platform's scope holds it (404 there)."""
    if held is Permission.PLATFORM_LOOKUP:
        raise NotFound("text", "no such person")
    passport = dcc_scans.read(ctx, text)
    with ctx.db.write() as session:
        record(session, principal, AuditAction.LOOKUP, None, f"eu_dcc: {passport.verification}", purpose)
    status, display = passport.health_status, passport.display
    if held is Permission.ANY_LOOKUP:
        return PassportView(None, "full", passport.verification, status, display)
    if passport.verification != Status.VALID.value or display is None:
        return UntrustedView(None, "masked", passport.verification, status)
    name = mask_name(display.name_standardised.replace("<<", " ").replace("<", " "))
    return PassportMaskedView(None, "masked", passport.verification, status, name, display.certificate_type)


def _masked(ctx: Services, principal: Principal, scanned: _Scanned, purpose: str) -> LookupView:
    with ctx.db.write() as session:
        scanned = _revoked(session, scanned)
        if scanned.verification != Status.VALID.value:
            record(
                session,
                principal,
                AuditAction.LOOKUP,
                None,
                f"untrusted code: {scanned.verification}",
                purpose,
            )
            return UntrustedView(scanned.qid, "masked", scanned.verification, health.neutral())
        person_id = session.scalar(select(Person.id).where(Person.qid == scanned.qid))
        blobs = _health_blobs(session, person_id)
        record(session, principal, AuditAction.LOOKUP, person_id, "masked view", purpose)
    colour = health.status(ctx, health.decrypt_records(ctx.vault, blobs))
    return MaskedView(scanned.qid, "masked", scanned.verification, colour, mask_name(scanned.name))


def _full(
    ctx: Services, principal: Principal, scanned: _Scanned, purpose: str, *, everyone: bool
) -> FullView:
    since = ctx.now() - dt.timedelta(days=LOOKBACK_DAYS)
    with ctx.db.write() as session:
        query = select(Person).where(Person.qid == scanned.qid)
        if not everyone:
            query = query.join(PersonPlatform, PersonPlatform.person_id == Person.id).where(
                PersonPlatform.account_id == principal.account
            )
        person = session.scalars(query).first()
        if person is None:
            raise NotFound("text", "no such person")
        scanned = _revoked(session, scanned)
        declarations = session.scalars(
            select(Declaration)
            .where(Declaration.person_id == person.id, Declaration.created_at >= since)
            .order_by(Declaration.created_at.desc())
        ).all()
        blobs = _health_blobs(session, person.id)
        record(session, principal, AuditAction.LOOKUP, person.id, "full view", purpose)
    trusted = scanned.verification in (Status.VALID.value, "none")
    colour = health.status(ctx, health.decrypt_records(ctx.vault, blobs)) if trusted else health.neutral()
    return FullView(
        person.qid,
        "full",
        scanned.verification,
        colour,
        person.full_name,
        person.birth_date.isoformat(),
        Gender(person.gender).label,
        parse(ctx.vault.decrypt("people.code", person.code_enc)).document_number,
        ctx.vault.decrypt_optional("people.phone", person.phone_enc),
        [restored(ctx.vault, person.qid, d) for d in declarations],
    )


def _health_blobs(session: Session, person_id: int | None) -> list[Any]:
    if person_id is None:
        return []
    return list(
        session.scalars(select(HealthRecordRow.body_enc).where(HealthRecordRow.person_id == person_id))
    )
