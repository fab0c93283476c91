"""Reading a person's record and code, corrections, and re-issuing codes after a key rotation.

Registration (``services.registry``) writes; this module serves the reads and the changes that
re-sign an existing code. The code fetch is a hot path: for a platform it is one hand-written query
(``store.fastpath``) and one AES-GCM decryption.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from unifiedqr.codes.payload import Gender, build, parse
from unifiedqr.errors import InvalidInput, NotFound
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.registry import Issued, Registration, _clean, _replace_code, _sign
from unifiedqr.services.scope import QID, audit, audit_person_id, scoped_select, visible
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
            blob = ctx.fast.platform_code(session, qid, principal.account_id)
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
            audit_person_id(session, principal, "code.read", row.id)
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
        person = visible(
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
