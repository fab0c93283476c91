"""Registry and issuance: one QID per person across every platform, and one signed code text.

Deduplication is by the keyed hash of each document the person is known by (``person_documents``,
unique), so the check works across all platforms without storing a document in clear. A second
registration of a known document returns the existing QID and the *same* stored code text, but only
when the folded name and the birth date match; otherwise a Conflict that says nothing about the
stored record. Races between platforms are settled by the unique index: the loser's transaction
fails, is retried, and finds the winner's person (one QID, never two).

One person, one QID across documents: a chip card (CCCD, 12 digits) carries the old 9-digit CMND;
registering both (``old_document_number``, or the card's QR through :func:`register_from_cccd`)
links them, and a person known by the CMND who comes with the CCCD keeps the QID while the code is
re-issued with the current card number (the old code is revoked). Passports are keyed by
nationality and number.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.codes.cccd import parse_cccd
from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import (
    Gender,
    PersonalCode,
    build,
    normalise_document,
    normalise_insurance,
    normalise_phone,
    parse,
)
from unifiedqr.codes.signing import revocation_id_of, sign_code
from unifiedqr.errors import Conflict, InvalidInput, NotFound
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.store.models import AuditEvent, Household, Person, PersonDocument, PersonPlatform, RevokedCode

_STRICT_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_NATIONALITY = re.compile(r"[A-Z]{3}")
_QID = re.compile(r"\d{18}")
MAX_ATTEMPTS = 4


@dataclass(frozen=True)
class Registration:
    """What a platform sends to register someone (API field names; values as typed)."""

    document_number: str
    full_name: str
    birth_date: str
    gender: str | None = None
    phone: str | None = None
    insurance_number: str | None = None
    proxy_qid: str | None = None
    old_document_number: str | None = None
    nationality: str | None = None


@dataclass(frozen=True)
class Issued:
    qid: str
    payload: str
    created: bool


@dataclass(frozen=True)
class _Doc:
    kind: str
    number: str
    key: str  # what is hashed: kind-specific, so a CMND and a passport never collide


def _api_field(field: str, call: object, *args: object) -> object:
    """Run a codec normaliser and re-name its field to the API's (SoGiayTo -> document_number)."""
    try:
        return call(*args)  # type: ignore[operator]
    except InvalidInput as exc:
        raise InvalidInput(field, exc.reason) from None


def parse_birth_date(text: str, field: str = "birth_date") -> dt.date:
    if not isinstance(text, str) or not _STRICT_DATE.fullmatch(text):
        raise InvalidInput(field, "must be a date written YYYY-MM-DD")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"{text} is not a calendar date") from None
    if value.year < 1900:
        raise InvalidInput(field, "is before 1900")
    if value > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        raise InvalidInput(field, "is in the future")
    return value


def _document(number: str, nationality: str | None, field: str = "document_number") -> _Doc:
    doc = str(_api_field(field, normalise_document, number))
    if doc.isdigit():
        return _Doc("cccd" if len(doc) == 12 else "cmnd", doc, f"id:{doc}")
    nat = (nationality or "VNM").strip().upper()
    if not _NATIONALITY.fullmatch(nat):
        raise InvalidInput("nationality", "must be an ISO 3166 alpha-3 code such as VNM")
    return _Doc("passport", doc, f"passport:{nat}:{doc}")


@dataclass(frozen=True)
class _Clean:
    docs: tuple[_Doc, ...]
    full_name: str
    birth_date: dt.date
    gender: Gender
    phone: str | None
    insurance: str | None
    proxy_qid: str | None


def _clean(reg: Registration) -> _Clean:
    primary = _document(reg.document_number, reg.nationality)
    docs = [primary]
    if reg.old_document_number:
        old = _document(reg.old_document_number, None, "old_document_number")
        if primary.kind != "cccd" or old.kind != "cmnd":
            raise InvalidInput("old_document_number", "only a 9-digit CMND beside a 12-digit CCCD")
        docs.append(old)
    name = str(_api_field("full_name", fold_name, reg.full_name, "full_name"))
    birth = parse_birth_date(reg.birth_date)
    gender = Gender.UNKNOWN
    if reg.gender:
        gender = _api_field("gender", Gender.from_label, reg.gender)  # type: ignore[assignment]
    phone = str(_api_field("phone", normalise_phone, reg.phone)) if reg.phone else None
    insurance = (
        str(_api_field("insurance_number", normalise_insurance, reg.insurance_number))
        if reg.insurance_number
        else None
    )
    proxy = reg.proxy_qid.strip() if reg.proxy_qid else None
    if proxy is not None and not _QID.fullmatch(proxy):
        raise InvalidInput("proxy_qid", "must be 18 digits")
    return _Clean(tuple(docs), name, birth, gender, phone, insurance, proxy)


def _new_qid() -> str:
    """18 random digits, no leading zero; never derived from a counter, so neighbours say nothing."""
    return str(10**17 + secrets.randbelow(9 * 10**17))


def _sign(ctx: Services, code: PersonalCode, now: dt.datetime) -> tuple[str, str, str]:
    key = ctx.keys.current(now)
    signed = sign_code(code, key, now)
    assert signed.signature is not None
    return signed.to_text(), key.key_id, revocation_id_of(signed.signature)


# ---------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------
def register(ctx: Services, principal: Principal, reg: Registration) -> Issued:
    """Register a person or find them; see the module docstring for the rules."""
    principal.require(Permission.PEOPLE_REGISTER)
    ctx.keys.refresh()
    clean = _clean(reg)
    hashes = [ctx.vault.lookup_hash("document", d.key) for d in clean.docs]
    for attempt in range(MAX_ATTEMPTS):
        try:
            with ctx.db.write() as session:
                return _register_once(ctx, session, principal, clean, hashes)
        except IntegrityError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _register_once(
    ctx: Services, session: Session, principal: Principal, clean: _Clean, hashes: list[bytes]
) -> Issued:
    found = ctx.fast.find_documents(session, hashes)
    person_ids = {person_id for _, person_id in found}
    if len(person_ids) > 1:
        raise Conflict("document_number", "does not match an existing registration")
    now = ctx.now()
    if person_ids:
        person = session.get(Person, person_ids.pop())
        assert person is not None
        if person.full_name != clean.full_name or person.birth_date != clean.birth_date:
            raise Conflict("document_number", "does not match an existing registration")
        known = {digest for digest, _ in found}
        upgrade = False
        for doc, digest in zip(clean.docs, hashes, strict=True):
            if digest not in known:
                session.add(_document_row(ctx, person.id, doc, digest))
                upgrade = upgrade or doc.kind == "cccd"
        payload = ctx.vault.decrypt("people.code", person.code_enc)
        if upgrade:
            current = parse(payload)
            if len(current.document_number) == 9:
                primary = next(d for d in clean.docs if d.kind == "cccd")
                replaced = PersonalCode(
                    primary.number,
                    current.full_name,
                    current.birth_date,
                    current.declarer,
                    current.qid,
                    current.ext,
                )
                payload = _replace_code(ctx, session, person, replaced, now, "document_upgraded")
        _link_platform(session, person.id, principal.account_id)
        return Issued(person.qid, payload, False)

    proxy: Person | None = None
    if clean.proxy_qid:
        proxy = _visible(session, principal, clean.proxy_qid, field="proxy_qid")
        if proxy.household_id is None:
            household = Household(public_id=f"hh_{secrets.token_urlsafe(12)}", created_at=now)
            session.add(household)
            session.flush()
            proxy.household_id = household.id
    qid = _new_qid()
    code = build(
        document_number=clean.docs[0].number,
        full_name=clean.full_name,
        birth_date=clean.birth_date,
        qid=qid,
        gender=clean.gender,
        phone=clean.phone,
        insurance_number=clean.insurance,
        proxy_qid=proxy.qid if proxy else None,
    )
    text, key_id, revocation_id = _sign(ctx, code, now)
    fast = ctx.fast
    person_id = fast.insert_person(
        session,
        {
            "qid": qid,
            "full_name": clean.full_name,
            "birth_date": clean.birth_date,
            "gender": clean.gender.value,
            "phone_hash": ctx.vault.lookup_hash("phone", clean.phone) if clean.phone else None,
            "phone_enc": ctx.vault.encrypt_optional("people.phone", clean.phone),
            "insurance_enc": ctx.vault.encrypt_optional("people.insurance", clean.insurance),
            "proxy_person_id": proxy.id if proxy else None,
            "household_id": proxy.household_id if proxy else None,
            "code_enc": ctx.vault.encrypt("people.code", text),
            "code_key_id": key_id,
            "code_revocation_id": revocation_id,
            "created_at": now,
            "updated_at": now,
        },
    )
    for doc, digest in zip(clean.docs, hashes, strict=True):
        fast.insert_document(
            session,
            {
                "person_id": person_id,
                "kind": doc.kind,
                "doc_hash": digest,
                "doc_enc": ctx.vault.encrypt("person_documents.doc", doc.key),
                "created_at": now,
            },
        )
    fast.insert_link(session, person_id, principal.account_id, now)
    return Issued(qid, text, True)


def _document_row(ctx: Services, person_id: int, doc: _Doc, digest: bytes) -> PersonDocument:
    return PersonDocument(
        person_id=person_id,
        kind=doc.kind,
        doc_hash=digest,
        doc_enc=ctx.vault.encrypt("person_documents.doc", doc.key),
    )


def _link_platform(session: Session, person_id: int, account_id: int) -> None:
    if session.get(PersonPlatform, (person_id, account_id)) is None:
        session.add(PersonPlatform(person_id=person_id, account_id=account_id))


def register_from_cccd(
    ctx: Services,
    principal: Principal,
    cccd_text: str,
    *,
    phone: str | None = None,
    insurance_number: str | None = None,
    proxy_qid: str | None = None,
) -> Issued:
    """Register from the chip card's QR: both numbers, the name and birth date come from the card."""
    try:
        record = parse_cccd(cccd_text)
    except InvalidInput as exc:
        raise InvalidInput(f"cccd_qr.{exc.field}", exc.reason) from None
    draft = record.to_draft()
    return register(
        ctx,
        principal,
        Registration(
            document_number=draft["document_number"],
            full_name=draft["full_name"],
            birth_date=draft["birth_date"],
            gender=draft["gender"],
            phone=phone,
            insurance_number=insurance_number,
            proxy_qid=proxy_qid,
            old_document_number=record.old_id_number,
        ),
    )


# ---------------------------------------------------------------------------------------------------
# Scope: who may see whom
# ---------------------------------------------------------------------------------------------------
def _scoped(
    session: Session,
    principal: Principal,
    qid: str,
    columns: tuple[Any, ...],
    *,
    field: str,
    any_perm: Permission | None,
    platform_perm: Permission,
    self_perm: Permission,
) -> Select[Any]:
    """``SELECT columns`` of the person ``qid``, restricted to the principal's scope."""
    everyone = any_perm is not None and principal.can(any_perm)
    if not everyone:
        principal.require(platform_perm, self_perm)
    if not isinstance(qid, str) or not _QID.fullmatch(qid):
        raise NotFound(field, "no such person")
    query = select(*columns).where(Person.qid == qid)
    if not everyone and principal.can(platform_perm):
        query = query.join(PersonPlatform, PersonPlatform.person_id == Person.id).where(
            PersonPlatform.account_id == principal.account_id
        )
    elif not everyone:
        me = (
            session.execute(
                select(Person.id, Person.household_id).where(Person.id == principal.person_id)
            ).first()
            if principal.person_id
            else None
        )
        if me is None:
            raise NotFound(field, "no such person")
        conditions = [Person.id == me.id, Person.proxy_person_id == me.id]
        if me.household_id is not None:
            conditions.append(Person.household_id == me.household_id)
        query = query.where(or_(*conditions))
    return query


def _visible(
    session: Session,
    principal: Principal,
    qid: str,
    *,
    field: str = "qid",
    any_perm: Permission | None = Permission.ANY_PEOPLE_READ,
    platform_perm: Permission = Permission.PLATFORM_PEOPLE_READ,
    self_perm: Permission = Permission.SELF_PEOPLE_READ,
) -> Person:
    """The person with ``qid`` if within the principal's scope, else NotFound (never 'forbidden')."""
    query = _scoped(
        session,
        principal,
        qid,
        (Person,),
        field=field,
        any_perm=any_perm,
        platform_perm=platform_perm,
        self_perm=self_perm,
    )
    person: Person | None = session.scalars(query).first()
    if person is None:
        raise NotFound(field, "no such person")
    return person


def audit(session: Session, principal: Principal, action: str, person: Person, detail: str = "") -> None:
    """Record a read or change of someone's data by anyone but the holder and their own platform."""
    _audit_id(session, principal, action, person.id, detail)


def _audit_id(session: Session, principal: Principal, action: str, person_id: int, detail: str = "") -> None:
    if principal.person_id == person_id:
        return
    session.add(
        AuditEvent(
            account_id=principal.account_id,
            role=principal.role.value,
            action=action,
            person_id=person_id,
            detail=detail[:200],
        )
    )


# ---------------------------------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PersonView:
    qid: str
    full_name: str
    birth_date: str
    gender: str
    document_number: str
    phone: str | None
    insurance_number: str | None
    proxy_qid: str | None
    household_id: str | None
    created_at: dt.datetime
    updated_at: dt.datetime


def get_code(ctx: Services, principal: Principal, qid: str) -> str:
    """The current signed code text of a person in scope (the hot read path: two columns, no ORM)."""
    with ctx.db.read() as session:
        if principal.can(Permission.PLATFORM_PEOPLE_READ) and _QID.fullmatch(qid or ""):  # the hot path
            blob = ctx.fast.platform_code(session, qid, principal.account_id)
            if blob is None:
                raise NotFound("qid", "no such person")
            return ctx.vault.decrypt("people.code", blob)
        query = _scoped(
            session,
            principal,
            qid,
            (Person.id, Person.code_enc),
            field="qid",
            any_perm=Permission.ANY_PEOPLE_READ,
            platform_perm=Permission.PLATFORM_PEOPLE_READ,
            self_perm=Permission.SELF_PEOPLE_READ,
        )
        row = session.execute(query).first()
    if row is None:
        raise NotFound("qid", "no such person")
    if principal.can(Permission.ANY_PEOPLE_READ):
        with ctx.db.write() as session:
            _audit_id(session, principal, "code.read", row.id)
    return ctx.vault.decrypt("people.code", row.code_enc)


def get_person(ctx: Services, principal: Principal, qid: str) -> PersonView:
    with ctx.db.read() as session:
        person = _visible(session, principal, qid)
        code = parse(ctx.vault.decrypt("people.code", person.code_enc))
        household = session.get(Household, person.household_id) if person.household_id else None
        view = PersonView(
            qid=person.qid,
            full_name=person.full_name,
            birth_date=person.birth_date.isoformat(),
            gender=Gender(person.gender).label,
            document_number=code.document_number,
            phone=ctx.vault.decrypt_optional("people.phone", person.phone_enc),
            insurance_number=ctx.vault.decrypt_optional("people.insurance", person.insurance_enc),
            proxy_qid=code.proxy_qid,
            household_id=household.public_id if household else None,
            created_at=person.created_at,
            updated_at=person.updated_at,
        )
    if principal.can(Permission.ANY_PEOPLE_READ):
        with ctx.db.write() as session:
            audit(session, principal, "person.read", person)
    return view


def household(ctx: Services, principal: Principal) -> list[dict[str, object]]:
    """The citizen's own record and the people in their household (QID, name, how declared)."""
    principal.require(Permission.SELF_PEOPLE_READ)
    with ctx.db.read() as session:
        me = session.get(Person, principal.person_id) if principal.person_id else None
        if me is None:
            return []
        conditions = [Person.id == me.id, Person.proxy_person_id == me.id]
        if me.household_id is not None:
            conditions.append(Person.household_id == me.household_id)
        people = session.scalars(select(Person).where(or_(*conditions)).order_by(Person.created_at)).all()
        return [
            {
                "qid": p.qid,
                "full_name": p.full_name,
                "self": p.id == me.id,
                "declared_by_me": p.proxy_person_id == me.id,
            }
            for p in people
        ]


# ---------------------------------------------------------------------------------------------------
# Correction and re-issue
# ---------------------------------------------------------------------------------------------------
def _replace_code(
    ctx: Services, session: Session, person: Person, code: PersonalCode, now: dt.datetime, reason: str
) -> str:
    """Sign ``code`` as the person's new code and put the old one on ``revoked_codes``."""
    text, key_id, revocation_id = _sign(ctx, code, now)
    if session.get(RevokedCode, person.code_revocation_id) is None:
        session.add(RevokedCode(revocation_id=person.code_revocation_id, person_id=person.id, reason=reason))
    person.code_enc = ctx.vault.encrypt("people.code", text)
    person.code_key_id = key_id
    person.code_revocation_id = revocation_id
    person.updated_at = now
    return text


@dataclass(frozen=True)
class Correction:
    full_name: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    phone: str | None = None
    insurance_number: str | None = None


def correct(ctx: Services, principal: Principal, qid: str, change: Correction) -> Issued:
    """Fix a person's data: re-sign with the same QID, revoke the old code (it stops verifying)."""
    principal.require(Permission.ANY_PEOPLE_CORRECT, Permission.PLATFORM_PEOPLE_CORRECT)
    if all(value is None for value in vars(change).values()):
        raise InvalidInput(
            "body", "name at least one of full_name, birth_date, gender, phone, insurance_number"
        )
    ctx.keys.refresh()
    with ctx.db.write() as session:
        person = _visible(
            session,
            principal,
            qid,
            any_perm=Permission.ANY_PEOPLE_CORRECT,
            platform_perm=Permission.PLATFORM_PEOPLE_CORRECT,
            self_perm=Permission.PLATFORM_PEOPLE_CORRECT,
        )
        current = parse(ctx.vault.decrypt("people.code", person.code_enc))
        phone = ctx.vault.decrypt_optional("people.phone", person.phone_enc)
        insurance = ctx.vault.decrypt_optional("people.insurance", person.insurance_enc)
        clean = _clean(
            Registration(
                document_number=current.document_number,
                full_name=change.full_name if change.full_name is not None else person.full_name,
                birth_date=change.birth_date
                if change.birth_date is not None
                else person.birth_date.isoformat(),
                gender=change.gender if change.gender is not None else Gender(person.gender).label,
                phone=(change.phone if change.phone is not None else phone) or None,
                insurance_number=(
                    change.insurance_number if change.insurance_number is not None else insurance
                )
                or None,
            )
        )
        code = build(
            document_number=current.document_number,
            full_name=clean.full_name,
            birth_date=clean.birth_date,
            qid=person.qid,
            gender=clean.gender,
            phone=clean.phone,
            insurance_number=clean.insurance,
            proxy_qid=current.proxy_qid,
        )
        now = ctx.now()
        text = _replace_code(ctx, session, person, code, now, "corrected")
        person.full_name = clean.full_name
        person.birth_date = clean.birth_date
        person.gender = clean.gender.value
        person.phone_hash = ctx.vault.lookup_hash("phone", clean.phone) if clean.phone else None
        person.phone_enc = ctx.vault.encrypt_optional("people.phone", clean.phone)
        person.insurance_enc = ctx.vault.encrypt_optional("people.insurance", clean.insurance)
        audit(session, principal, "person.corrected", person)
        return Issued(person.qid, text, False)


def reissue_old_codes(ctx: Services, batch: int = 500) -> int:
    """Re-sign every code not signed with the current key (run after a rotation, before expiry).

    The old codes are not revoked: they stay valid until their key expires, which is exactly the
    overlap that lets apps pick up the new text at their own pace.
    """
    ctx.keys.refresh()
    now = ctx.now()
    key = ctx.keys.current(now)
    done = 0
    while True:
        with ctx.db.write() as session:
            people = session.scalars(
                select(Person).where(Person.code_key_id != key.key_id).limit(batch)
            ).all()
            for person in people:
                code = parse(ctx.vault.decrypt("people.code", person.code_enc))
                text, key_id, revocation_id = _sign(ctx, code, now)
                person.code_enc = ctx.vault.encrypt("people.code", text)
                person.code_key_id = key_id
                person.code_revocation_id = revocation_id
                person.updated_at = now
        done += len(people)
        if len(people) < batch:
            return done
