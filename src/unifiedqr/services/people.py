"""Reading a person's record and code, corrections, and re-issuing codes after a key rotation.

Registration (``services.registry``) writes; this module serves the reads and the changes that
re-sign an existing code. The code fetch is a hot path: for a platform it is one hand-written query
(``store.person_rows``) and one AES-GCM decryption.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from unifiedqr.codes.build import build
from unifiedqr.codes.payload import Gender, parse
from unifiedqr.errors import InvalidInput, NotFound
from unifiedqr.services.audit import AuditAction, record, record_read
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.registry import Issued, Registration, _replace_code, _sign, clean_registration
from unifiedqr.services.scope import QID, scoped_select, visible
from unifiedqr.store import person_rows
from unifiedqr.store.models import Household, Person


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
        if principal.can(Permission.PLATFORM_PEOPLE_READ) and QID.fullmatch(qid or ""):  # the hot path
            blob = person_rows.platform_code(session, qid, principal.account)
            if blob is None:
                raise NotFound("qid", "no such person")
            return ctx.vault.decrypt("people.code", blob)
        query = scoped_select(
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
            record_read(session, principal, AuditAction.CODE_READ, row.id)
    return ctx.vault.decrypt("people.code", row.code_enc)


def get_person(ctx: Services, principal: Principal, qid: str) -> PersonView:
    with ctx.db.read() as session:
        person = visible(session, principal, qid)
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
            record_read(session, principal, AuditAction.PERSON_READ, person.id)
    return view


@dataclass(frozen=True)
class HouseholdMember:
    qid: str
    full_name: str
    self: bool
    declared_by_me: bool


def household(ctx: Services, principal: Principal) -> list[HouseholdMember]:
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
            HouseholdMember(p.qid, p.full_name, p.id == me.id, p.proxy_person_id == me.id) for p in people
        ]


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
    now = ctx.now()
    with ctx.db.write() as session:
        person = visible(
            session,
            principal,
            qid,
            any_perm=Permission.ANY_PEOPLE_CORRECT,
            platform_perm=Permission.PLATFORM_PEOPLE_CORRECT,
            self_perm=Permission.PLATFORM_PEOPLE_CORRECT,
        )
        current = parse(ctx.vault.decrypt("people.code", person.code_enc))
        clean = clean_registration(_merged(ctx, person, current.document_number, change), now.date())
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
        text = _replace_code(ctx, session, person, code, now, "corrected")
        person.full_name = clean.full_name
        person.birth_date = clean.birth_date
        person.gender = clean.gender.value
        person.phone_hash = ctx.vault.lookup_hash("phone", clean.phone) if clean.phone else None
        person.phone_enc = ctx.vault.encrypt_optional("people.phone", clean.phone)
        person.insurance_enc = ctx.vault.encrypt_optional("people.insurance", clean.insurance)
        record(session, principal, AuditAction.PERSON_CORRECTED, person.id)
        return Issued(person.qid, text, False)


def _merged(ctx: Services, person: Person, document_number: str, change: Correction) -> Registration:
    """The person's record with the correction applied, as a registration to check by the same rules."""

    def pick(new: str | None, old: str | None) -> str | None:
        return (new if new is not None else old) or None  # an empty string removes a value

    return Registration(
        document_number=document_number,
        full_name=pick(change.full_name, person.full_name) or "",
        birth_date=pick(change.birth_date, person.birth_date.isoformat()) or "",
        gender=pick(change.gender, Gender(person.gender).label),
        phone=pick(change.phone, ctx.vault.decrypt_optional("people.phone", person.phone_enc)),
        insurance_number=pick(
            change.insurance_number, ctx.vault.decrypt_optional("people.insurance", person.insurance_enc)
        ),
    )


def reissue_old_codes(ctx: Services, principal: Principal, batch: int = 500) -> int:
    """Re-sign every code not signed with the current key (run after a rotation, before expiry).

    The old codes are not revoked: they stay valid until their key expires, which is exactly the
    overlap that lets apps pick up the new text at their own pace.
    """
    principal.require(Permission.KEYS_MANAGE)
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
            if len(people) < batch:
                record(
                    session,
                    principal,
                    AuditAction.CODES_REISSUED,
                    detail=f"{done + len(people)} codes to {key.key_id}",
                )
        done += len(people)
        if len(people) < batch:
            return done
