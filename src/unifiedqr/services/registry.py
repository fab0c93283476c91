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

Scope and consent (issue 10): the same-QID answer goes only to a platform that already has the
person in its scope (``person_platforms``). Any other platform that reaches an existing person, by
a document, the chip card, a CMND to CCCD upgrade or a ``proxy_qid``, gets
:class:`~unifiedqr.services.consents.ConsentRequired` whatever name and birth date it sent, and
nothing is linked or re-issued until the holder consents (:mod:`unifiedqr.services.consents`).
Registrations of one document by one platform are rate-limited (``UNIFIEDQR_LIMIT_REGISTRATION``).
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.codes.build import build, normalise_document, normalise_insurance, normalise_phone
from unifiedqr.codes.cccd import parse_cccd
from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import Gender, PersonalCode, parse
from unifiedqr.codes.signing import revocation_id_of, sign_code
from unifiedqr.errors import Conflict, InvalidInput
from unifiedqr.services import consents
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.store import person_rows
from unifiedqr.store.access_models import SafeCode
from unifiedqr.store.models import Household, Person, PersonDocument, PersonPlatform, RevokedCode

_STRICT_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_NATIONALITY = re.compile(r"[A-Z]{3}")
_QID = re.compile(r"[0-9]{18}")
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


def parse_birth_date(text: str, today: dt.date, field: str = "birth_date") -> dt.date:
    """A birth date ``YYYY-MM-DD``: a calendar date from 1900 to ``today`` (plus a day for time zones)."""
    if not isinstance(text, str) or not _STRICT_DATE.fullmatch(text):
        raise InvalidInput(field, "must be a date written YYYY-MM-DD")
    try:
        value = dt.date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"{text} is not a calendar date") from None
    if value.year < 1900:
        raise InvalidInput(field, "is before 1900")
    if value > today + dt.timedelta(days=1):
        raise InvalidInput(field, "is in the future")
    return value


def _document(number: str, nationality: str | None, field: str = "document_number") -> _Doc:
    if isinstance(number, str) and not number.isascii():
        # The codec's patterns use \d, which also matches Arabic-Indic or full-width digits: two
        # spellings of one number would be two people, so only ASCII reaches deduplication.
        raise InvalidInput(field, "must be written with ASCII digits and letters")
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


def clean_registration(reg: Registration, today: dt.date) -> _Clean:
    primary = _document(reg.document_number, reg.nationality)
    docs = [primary]
    if reg.old_document_number:
        old = _document(reg.old_document_number, None, "old_document_number")
        if primary.kind != "cccd" or old.kind != "cmnd":
            raise InvalidInput("old_document_number", "only a 9-digit CMND beside a 12-digit CCCD")
        docs.append(old)
    name = str(_api_field("full_name", fold_name, reg.full_name, "full_name"))
    birth = parse_birth_date(reg.birth_date, today)
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
def register(ctx: Services, principal: Principal, reg: Registration) -> Issued | consents.ConsentRequired:
    """Register a person or find them; see the module docstring for the rules."""
    principal.require(Permission.PEOPLE_REGISTER)
    ctx.keys.refresh()
    clean = clean_registration(reg, ctx.now().date())
    hashes = [ctx.vault.lookup_hash("document", d.key) for d in clean.docs]
    for digest in hashes:
        ctx.limits.enforce(
            "registration",
            f"{principal.account}|{digest.hex()}",
            ctx.settings.limits.registration,
            field="document_number",
            reason="too many registrations of this document by this platform; try again later",
        )
    for attempt in range(MAX_ATTEMPTS):
        try:
            with ctx.db.write() as session:
                found = person_rows.find_documents(session, hashes)
                person_ids = {person_id for _, person_id in found}
                if len(person_ids) > 1:
                    raise Conflict("document_number", "does not match an existing registration")
                if person_ids:
                    known = {digest for digest, _ in found}
                    return _existing(ctx, session, principal, person_ids.pop(), clean, hashes, known)
                proxy = _proxy(ctx, session, principal, clean.proxy_qid)
                if isinstance(proxy, consents.ConsentRequired):
                    return proxy
                return _create(ctx, session, principal, clean, hashes, proxy)
        except IntegrityError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _in_scope(session: Session, person_id: int, account_id: int) -> bool:
    return session.get(PersonPlatform, (person_id, account_id)) is not None


def _proxy(
    ctx: Services, session: Session, principal: Principal, qid: str | None
) -> Person | consents.ConsentRequired | None:
    """The declarer named by ``proxy_qid`` if in the caller's scope; else a consent request for them.

    A QID that names no one gets a request too (one that can never be approved), so the answer
    does not say whether the QID exists.
    """
    if qid is None:
        return None
    person = session.scalars(select(Person).where(Person.qid == qid)).first()
    if person is not None and _in_scope(session, person.id, principal.account):
        return person
    return consents.ask(ctx, session, principal, person, {"docs": [], "match": False})


def _existing(
    ctx: Services,
    session: Session,
    principal: Principal,
    person_id: int,
    clean: _Clean,
    hashes: list[bytes],
    known: set[bytes],
) -> Issued | consents.ConsentRequired:
    """Someone already known: in the caller's scope, the same QID and code if name and birth date
    match (409 otherwise); outside it, a consent request whatever was sent."""
    person = session.get(Person, person_id)
    assert person is not None
    matches = person.full_name == clean.full_name and person.birth_date == clean.birth_date
    new_docs = [(doc, digest) for doc, digest in zip(clean.docs, hashes, strict=True) if digest not in known]
    if not _in_scope(session, person.id, principal.account):
        pending = {"docs": [[d.kind, d.number, d.key] for d, _ in new_docs], "match": matches}
        return consents.ask(ctx, session, principal, person, pending)
    if not matches:
        raise Conflict("document_number", "does not match an existing registration")
    return Issued(person.qid, _add_documents(ctx, session, person, [d for d, _ in new_docs]), False)


def _add_documents(ctx: Services, session: Session, person: Person, docs: list[_Doc]) -> str:
    """Attach documents not yet known (a CCCD beside a known CMND re-issues the code); the code text."""
    upgrade = None
    for doc in docs:
        digest = ctx.vault.lookup_hash("document", doc.key)
        if person_rows.find_documents(session, [digest]):
            continue  # registered meanwhile (to anyone): never moved between people here
        session.add(_document_row(ctx, person.id, doc, digest))
        upgrade = upgrade or (doc if doc.kind == "cccd" else None)
    payload = ctx.vault.decrypt("people.code", person.code_enc)
    return _upgrade_to_cccd(ctx, session, person, payload, upgrade) if upgrade else payload


def apply_consented(
    ctx: Services, session: Session, person: Person, account_id: int, pending: dict[str, Any]
) -> str:
    """After the holder's consent: the platform joins the person's scope, and what its registration
    brought is applied when its name and birth date matched. Returns the current code text."""
    _link_platform(session, person.id, account_id)
    docs = [_Doc(kind, number, key) for kind, number, key in pending.get("docs", [])]
    if pending.get("match") and docs:
        return _add_documents(ctx, session, person, docs)
    return ctx.vault.decrypt("people.code", person.code_enc)


def _upgrade_to_cccd(ctx: Services, session: Session, person: Person, payload: str, primary: _Doc) -> str:
    """A person known by the 9-digit CMND who now comes with the 12-digit CCCD: re-issue the code."""
    current = parse(payload)
    if len(current.document_number) != 9:
        return payload
    replaced = PersonalCode(
        primary.number, current.full_name, current.birth_date, current.declarer, current.qid, current.ext
    )
    return _replace_code(ctx, session, person, replaced, ctx.now(), "document_upgraded")


def _create(
    ctx: Services,
    session: Session,
    principal: Principal,
    clean: _Clean,
    hashes: list[bytes],
    proxy: Person | None,
) -> Issued:
    """A new person: a random QID, the code built and signed, one insert (one statement on PostgreSQL)."""
    now = ctx.now()
    if proxy is not None and proxy.household_id is None:
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
    row = person_rows.NewPerson(
        qid=qid,
        full_name=clean.full_name,
        birth_date=clean.birth_date,
        gender=clean.gender.value,
        phone_hash=ctx.vault.lookup_hash("phone", clean.phone) if clean.phone else None,
        phone_enc=ctx.vault.encrypt_optional("people.phone", clean.phone),
        insurance_enc=ctx.vault.encrypt_optional("people.insurance", clean.insurance),
        proxy_person_id=proxy.id if proxy else None,
        household_id=proxy.household_id if proxy else None,
        code_enc=ctx.vault.encrypt("people.code", text),
        code_key_id=key_id,
        code_revocation_id=revocation_id,
        created_at=now,
    )
    documents = [
        person_rows.NewDocument(doc.kind, digest, ctx.vault.encrypt("person_documents.doc", doc.key))
        for doc, digest in zip(clean.docs, hashes, strict=True)
    ]
    person_rows.insert_registration(session, row, documents, principal.account)
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


@dataclass(frozen=True)
class CardRegistration:
    """Registration from the chip card's QR: both numbers, the name and birth date come from the card."""

    cccd_qr: str
    phone: str | None = None
    insurance_number: str | None = None
    proxy_qid: str | None = None


def register_from_cccd(
    ctx: Services, principal: Principal, card: CardRegistration
) -> Issued | consents.ConsentRequired:
    try:
        record = parse_cccd(card.cccd_qr)
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
            phone=card.phone,
            insurance_number=card.insurance_number,
            proxy_qid=card.proxy_qid,
            old_document_number=record.old_id_number,
        ),
    )


def _replace_code(
    ctx: Services, session: Session, person: Person, code: PersonalCode, now: dt.datetime, reason: str
) -> str:
    """Sign ``code`` as the person's new code and put the old one on ``revoked_codes``."""
    text, key_id, revocation_id = _sign(ctx, code, now)
    if session.get(RevokedCode, person.code_revocation_id) is None:
        session.add(RevokedCode(revocation_id=person.code_revocation_id, person_id=person.id, reason=reason))
    safe = session.get(SafeCode, person.id)  # the safe code derived from the old one goes with it
    if safe is not None and session.get(RevokedCode, safe.revocation_id) is None:
        session.add(RevokedCode(revocation_id=safe.revocation_id, person_id=person.id, reason=reason))
    person.code_enc = ctx.vault.encrypt("people.code", text)
    person.code_key_id = key_id
    person.code_revocation_id = revocation_id
    person.updated_at = now
    return text
