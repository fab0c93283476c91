"""Health declarations and domestic movement declarations (spec §7), by a person or for a household member.

The schemas are pydantic models so that the HTTP edge, the CLI and the tests validate with one
definition; the rules that need the clock or the database (dates not in the future, who may declare
for whom) are checked here. Bodies are health data, so they are stored encrypted as JSON; the
person, the kind and ``created_at`` (indexed, for purging by age) stay in clear for look-ups.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from unifiedqr.codes.build import normalise_phone
from unifiedqr.errors import InvalidInput
from unifiedqr.services.audit import AuditAction, record_read
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.purposes import check_purpose
from unifiedqr.services.scope import visible
from unifiedqr.store.crypto import Vault
from unifiedqr.store.models import Declaration, Person

LOOKBACK_DAYS = 14
MAX_LISTED = 200


@dataclass(frozen=True)
class Address:
    province: str
    district: str
    ward: str = ""
    street: str = ""


@dataclass(frozen=True)
class Symptoms:
    fever: bool = False
    cough: bool = False
    shortness_of_breath: bool = False
    pneumonia: bool = False
    sore_throat: bool = False
    fatigue: bool = False


@dataclass(frozen=True)
class Contacts:
    confirmed_or_suspected_case: bool = False
    person_from_affected_country: bool = False
    person_with_symptoms: bool = False


@dataclass(frozen=True)
class HealthDeclaration:
    """The national domestic declaration; name, ID number, birth year and gender come from the record."""

    address: Address
    nationality: str = "VNM"
    phone: str | None = None
    email: str | None = None
    places_visited: tuple[str, ...] = ()
    symptoms: Symptoms = field(default_factory=Symptoms)
    contacts: Contacts = field(default_factory=Contacts)


class Transport(enum.StrEnum):
    CAR = "car"
    BUS = "bus"
    TRAIN = "train"
    PLANE = "plane"
    SHIP = "ship"
    MOTORBIKE = "motorbike"
    BICYCLE = "bicycle"
    ON_FOOT = "on_foot"
    OTHER = "other"


@dataclass(frozen=True)
class MovementDeclaration:
    """A domestic trip: from where to where, how, and when."""

    origin: Address
    destination: Address
    transport: Transport
    departure_date: dt.date
    arrival_date: dt.date
    vehicle_number: str = ""
    purpose: str = ""


@dataclass(frozen=True)
class DeclarationView:
    declaration_id: str
    qid: str
    kind: str
    on_behalf: bool
    created_at: dt.datetime
    body: HealthDeclaration | MovementDeclaration


def _checked_health(body: HealthDeclaration) -> HealthDeclaration:
    if not body.phone:
        return body
    try:
        return dataclasses.replace(body, phone=normalise_phone(body.phone))
    except InvalidInput as exc:
        raise InvalidInput("phone", exc.reason) from None


def _check_movement(body: MovementDeclaration, today: dt.date) -> None:
    if body.arrival_date < body.departure_date:
        raise InvalidInput("arrival_date", "is before departure_date")
    if body.departure_date < today - dt.timedelta(days=LOOKBACK_DAYS):
        raise InvalidInput("departure_date", f"is more than {LOOKBACK_DAYS} days ago")
    if body.departure_date > today + dt.timedelta(days=60):
        raise InvalidInput("departure_date", "is more than 60 days ahead")
    if (body.arrival_date - body.departure_date).days > 30:
        raise InvalidInput("arrival_date", "a trip of more than 30 days is not one movement")


def _stored(body: HealthDeclaration | MovementDeclaration) -> str:
    return json.dumps(dataclasses.asdict(body), default=str, ensure_ascii=False, separators=(",", ":"))


def _address(data: Mapping[str, Any]) -> Address:
    return Address(**data)


def _restored(kind: str, text: str) -> HealthDeclaration | MovementDeclaration:
    """A stored body back as its dataclass (the same shape it was stored in)."""
    data = json.loads(text)
    if kind == "health":
        return HealthDeclaration(
            address=_address(data["address"]),
            nationality=data.get("nationality", "VNM"),
            phone=data.get("phone"),
            email=data.get("email"),
            places_visited=tuple(data.get("places_visited", ())),
            symptoms=Symptoms(**data.get("symptoms", {})),
            contacts=Contacts(**data.get("contacts", {})),
        )
    return MovementDeclaration(
        origin=_address(data["origin"]),
        destination=_address(data["destination"]),
        transport=Transport(data["transport"]),
        departure_date=dt.date.fromisoformat(data["departure_date"]),
        arrival_date=dt.date.fromisoformat(data["arrival_date"]),
        vehicle_number=data.get("vehicle_number", ""),
        purpose=data.get("purpose", ""),
    )


def submit(
    ctx: Services, principal: Principal, qid: str, body: HealthDeclaration | MovementDeclaration
) -> DeclarationView:
    """Store a declaration for the person ``qid``: the person, a household member, or their platform."""
    principal.require(Permission.SELF_DECLARATIONS_SUBMIT, Permission.PLATFORM_DECLARATIONS_SUBMIT)
    now = ctx.now()
    if isinstance(body, HealthDeclaration):
        kind = "health"
        body = _checked_health(body)
    else:
        kind = "movement"
        _check_movement(body, now.date())
    with ctx.db.write() as session:
        person = visible(
            session,
            principal,
            qid,
            any_perm=None,  # nobody declares for just anyone
            platform_perm=Permission.PLATFORM_DECLARATIONS_SUBMIT,
            self_perm=Permission.SELF_DECLARATIONS_SUBMIT,
        )
        on_behalf = principal.person_id != person.id
        row = Declaration(
            public_id=f"dcl_{secrets.token_urlsafe(12)}",
            person_id=person.id,
            kind=kind,
            submitted_by_account_id=principal.account_id,
            declared_by_person_id=principal.person_id,
            on_behalf=on_behalf if principal.person_id is not None else person.proxy_person_id is not None,
            body_enc=ctx.vault.encrypt("declarations.body", _stored(body)),
            created_at=now,
        )
        session.add(row)
        session.flush()
        return DeclarationView(row.public_id, person.qid, kind, row.on_behalf, row.created_at, body)


def restored(vault: Vault, qid: str, row: Declaration) -> DeclarationView:
    """The view of a stored declaration (its body decrypted)."""
    body = _restored(row.kind, vault.decrypt("declarations.body", row.body_enc))
    return DeclarationView(row.public_id, qid, row.kind, row.on_behalf, row.created_at, body)


def list_for(
    ctx: Services, principal: Principal, qid: str, kind: str | None = None, purpose: str | None = None
) -> list[DeclarationView]:
    """A person's declarations, newest first (owner, household, their platform, health officials).

    An official or administrator reads anyone's, for a stated ``purpose`` (422 without), and the
    read is audited in the transaction that reads them; the holder, their household and their
    platform need none.
    """
    if kind is not None and kind not in ("health", "movement"):
        raise InvalidInput("kind", "must be health or movement")
    official = principal.can(Permission.ANY_DECLARATIONS_READ)
    purpose = check_purpose(purpose, required=official)
    with ctx.db.write() if official else ctx.db.read() as session:
        person: Person = visible(
            session,
            principal,
            qid,
            any_perm=Permission.ANY_DECLARATIONS_READ,
            platform_perm=Permission.PLATFORM_DECLARATIONS_READ,
            self_perm=Permission.SELF_DECLARATIONS_READ,
        )
        query = select(Declaration).where(Declaration.person_id == person.id)
        if kind:
            query = query.where(Declaration.kind == kind)
        rows = session.scalars(query.order_by(Declaration.created_at.desc()).limit(MAX_LISTED)).all()
        if official:
            record_read(session, principal, AuditAction.DECLARATIONS_READ, person.id, purpose=purpose)
    return [restored(ctx.vault, person.qid, r) for r in rows]
