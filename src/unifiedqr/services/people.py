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
from unifiedqr.codes.display import masked_variant
from unifiedqr.codes.payload import Gender, parse
from unifiedqr.errors import InvalidInput, NotFound
from unifiedqr.services.audit import AuditAction, record, record_read
from unifiedqr.services.auth import Permission, Principal, Role
from unifiedqr.services.context import Services
from unifiedqr.services.purposes import check_purpose
from unifiedqr.services.registry import Issued, Registration, _replace_code, _sign, clean_registration
from unifiedqr.services.scope import QID, scoped_select, visible
from unifiedqr.store import person_rows
from unifiedqr.store.access_models import SafeCode
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


def get_code(
    ctx: Services, principal: Principal, qid: str, masked: bool = False, purpose: str | None = None
) -> str:
    """The current signed code text of a person in scope; ``masked``: the signed safe code.

    The hot read path: for a platform two columns and no ORM. An official's or administrator's read
    is audited (with the ``purpose``, if given) in the transaction that reads the code.
    """
    check_purpose(purpose, required=False)
    official = principal.can(Permission.ANY_PEOPLE_READ)
    if not official and principal.can(Permission.PLATFORM_PEOPLE_READ) and QID.fullmatch(qid or ""):
        with ctx.db.read() as session:  # the hot path
            found = person_rows.platform_code(session, qid, principal.account)
        if found is None:
            raise NotFound("qid", "no such person")
        person_id, blob, safe = found
        return safe_code(ctx, person_id, safe) if masked else ctx.vault.decrypt("people.code", blob)
    with ctx.db.write() if official else ctx.db.read() as session:
        query = scoped_select(
            session,
            principal,
            qid,
            (
                Person.id,
                Person.code_enc,
                Person.code_revocation_id,
                SafeCode.code_enc,
                SafeCode.source_revocation_id,
            ),
            field="qid",
            any_perm=Permission.ANY_PEOPLE_READ,
            platform_perm=Permission.PLATFORM_PEOPLE_READ,
            self_perm=Permission.SELF_PEOPLE_READ,
        ).outerjoin(SafeCode, SafeCode.person_id == Person.id)
        row = session.execute(query).first()
        if row is None:
            raise NotFound("qid", "no such person")
        if official:
            record_read(session, principal, AuditAction.CODE_READ, row[0], "safe" if masked else "", purpose)
    if masked:
        fresh = row[3] if row[4] == row[2] else None
        return safe_code(ctx, row[0], fresh)
    return ctx.vault.decrypt("people.code", row[1])


def safe_code(ctx: Services, person_id: int, stored: bytes | None) -> str:
    """The person's signed safe code: the stored one while fresh, else signed now and stored.

    Fresh means derived from the person's current code; a correction or a re-issue makes it stale
    (a correction also revokes it, :func:`unifiedqr.services.registry._replace_code`). Signed by the
    same rule as the full code, so a door can trust it; stored, because an ECDSA signature is
    random and only a stored code can be revoked.
    """
    if stored is not None:
        return ctx.vault.decrypt("safe_codes.code", stored)
    ctx.keys.refresh()
    now = ctx.now()
    with ctx.db.write() as session:
        person = session.get(Person, person_id, with_for_update=True)
        if person is None:
            raise NotFound("qid", "no such person")
        current = session.get(SafeCode, person_id)
        if current is not None and current.source_revocation_id == person.code_revocation_id:
            return ctx.vault.decrypt("safe_codes.code", current.code_enc)  # a concurrent fetch made it
        code = masked_variant(parse(ctx.vault.decrypt("people.code", person.code_enc)))
        text, key_id, revocation_id = _sign(ctx, code, now)
        row = current or SafeCode(person_id=person_id, created_at=now)
        row.code_enc = ctx.vault.encrypt("safe_codes.code", text)
        row.key_id, row.revocation_id = key_id, revocation_id
        row.source_revocation_id = person.code_revocation_id
        session.add(row)
    return text


def get_person(ctx: Services, principal: Principal, qid: str, purpose: str | None = None) -> PersonView:
    """A person's record in scope, audited for readers of anyone, with their ``purpose``.

    A health official must state one (422 without: issue 11); an administrator may, and the read is
    audited either way.
    """
    official = principal.can(Permission.ANY_PEOPLE_READ)
    purpose = check_purpose(purpose, required=principal.role is Role.HEALTH_OFFICIAL)
    with ctx.db.write() if official else ctx.db.read() as session:
        person = visible(session, principal, qid)
        household = session.get(Household, person.household_id) if person.household_id else None
        if official:
            record_read(session, principal, AuditAction.PERSON_READ, person.id, purpose=purpose)
    code = parse(ctx.vault.decrypt("people.code", person.code_enc))
    return PersonView(
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
