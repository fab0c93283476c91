"""Health declarations and domestic movement declarations (spec §7), by a person or for a household member.

The schemas are pydantic models so that the HTTP edge, the CLI and the tests validate with one
definition; the rules that need the clock or the database (dates not in the future, who may declare
for whom) are checked here. Bodies are health data, so they are stored encrypted as JSON; the
person, the kind and ``created_at`` (indexed, for purging by age) stay in clear for look-ups.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import secrets
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator
from sqlalchemy import select

from unifiedqr.errors import InvalidInput
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.scope import audit, visible
from unifiedqr.store.models import Declaration, Person

LOOKBACK_DAYS = 14
MAX_LISTED = 200

Text = StrictStr


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    province: Text = Field(min_length=1, max_length=100)
    district: Text = Field(min_length=1, max_length=100)
    ward: Text = Field(default="", max_length=100)
    street: Text = Field(default="", max_length=200)


class Symptoms(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fever: StrictBool = False
    cough: StrictBool = False
    shortness_of_breath: StrictBool = False
    pneumonia: StrictBool = False
    sore_throat: StrictBool = False
    fatigue: StrictBool = False


class Contacts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirmed_or_suspected_case: StrictBool = False
    person_from_affected_country: StrictBool = False
    person_with_symptoms: StrictBool = False


class HealthDeclarationIn(BaseModel):
    """The national domestic declaration; name, ID number, birth year and gender come from the record."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    nationality: Text = Field(default="VNM", pattern=r"^[A-Z]{3}$")
    address: Address
    phone: Text | None = Field(default=None, max_length=20)
    email: Text | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    places_visited: list[Text] = Field(default_factory=list, max_length=50, description="last 14 days")
    symptoms: Symptoms = Field(default_factory=Symptoms)
    contacts: Contacts = Field(default_factory=Contacts)

    @field_validator("places_visited")
    @classmethod
    def _places(cls, value: list[str]) -> list[str]:
        for index, place in enumerate(value):
            if not place.strip() or len(place) > 200:
                raise ValueError(f"places_visited[{index}] must be 1 to 200 characters")
        return [p.strip() for p in value]


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


class MovementDeclarationIn(BaseModel):
    """A domestic trip: from where to where, how, and when."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    origin: Address
    destination: Address
    transport: Transport
    vehicle_number: Text = Field(default="", max_length=40)
    departure_date: dt.date
    arrival_date: dt.date
    purpose: Text = Field(default="", max_length=200)


def _check_phone(body: HealthDeclarationIn) -> None:
    if body.phone:
        from unifiedqr.codes.payload import normalise_phone

        try:
            body.phone = normalise_phone(body.phone)
        except InvalidInput as exc:
            raise InvalidInput("phone", exc.reason) from None


def _check_movement(body: MovementDeclarationIn, today: dt.date) -> None:
    if body.arrival_date < body.departure_date:
        raise InvalidInput("arrival_date", "is before departure_date")
    if body.departure_date < today - dt.timedelta(days=LOOKBACK_DAYS):
        raise InvalidInput("departure_date", f"is more than {LOOKBACK_DAYS} days ago")
    if body.departure_date > today + dt.timedelta(days=60):
        raise InvalidInput("departure_date", "is more than 60 days ahead")
    if (body.arrival_date - body.departure_date).days > 30:
        raise InvalidInput("arrival_date", "a trip of more than 30 days is not one movement")


def submit(
    ctx: Services, principal: Principal, qid: str, body: HealthDeclarationIn | MovementDeclarationIn
) -> dict[str, Any]:
    """Store a declaration for the person ``qid``: the person, a household member, or their platform."""
    principal.require(Permission.SELF_DECLARATIONS_SUBMIT, Permission.PLATFORM_DECLARATIONS_SUBMIT)
    now = ctx.now()
    if isinstance(body, HealthDeclarationIn):
        kind = "health"
        _check_phone(body)
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
            body_enc=ctx.vault.encrypt("declarations.body", body.model_dump_json()),
            created_at=now,
        )
        session.add(row)
        session.flush()
        return _view(row, person.qid, body.model_dump(mode="json"))


def _view(row: Declaration, qid: str, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "declaration_id": row.public_id,
        "qid": qid,
        "kind": row.kind,
        "on_behalf": row.on_behalf,
        "created_at": row.created_at.isoformat(),
        "body": body,
    }


def list_for(ctx: Services, principal: Principal, qid: str, kind: str | None = None) -> list[dict[str, Any]]:
    """A person's declarations, newest first (owner, household, their platform, health officials)."""
    if kind is not None and kind not in ("health", "movement"):
        raise InvalidInput("kind", "must be health or movement")
    with ctx.db.read() as session:
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
        result = [
            _view(r, person.qid, json.loads(ctx.vault.decrypt("declarations.body", r.body_enc))) for r in rows
        ]
    if principal.can(Permission.ANY_DECLARATIONS_READ):
        with ctx.db.write() as session:
            audit(session, principal, "declarations.read", person)
    return result
