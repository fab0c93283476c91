"""``/people/{qid}/...-declarations``: health and domestic movement declarations (spec §7).

The request models carry the HTTP constraints (lengths, patterns) and the OpenAPI; the services take
the dataclasses they mirror (:mod:`unifiedqr.services.declarations`), and the rules that need the
clock or the database (dates not in the past window, who may declare for whom) are checked there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, field_validator

from unifiedqr.api.deps import JSONRoute, call, command, mirrors, principal, services
from unifiedqr.api.routers.people import PURPOSE, Purpose
from unifiedqr.serialize import jsonable
from unifiedqr.services import declarations
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.declarations import Transport

router = APIRouter(tags=["declarations"], route_class=JSONRoute)

Text = StrictStr


@mirrors(declarations.Address)
class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    province: Text = Field(min_length=1, max_length=100)
    district: Text = Field(min_length=1, max_length=100)
    ward: Text = Field(default="", max_length=100)
    street: Text = Field(default="", max_length=200)


@mirrors(declarations.Symptoms)
class SymptomsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    fever: StrictBool = False
    cough: StrictBool = False
    shortness_of_breath: StrictBool = False
    pneumonia: StrictBool = False
    sore_throat: StrictBool = False
    fatigue: StrictBool = False


@mirrors(declarations.Contacts)
class ContactsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    confirmed_or_suspected_case: StrictBool = False
    person_from_affected_country: StrictBool = False
    person_with_symptoms: StrictBool = False


@mirrors(declarations.HealthDeclaration)
class HealthDeclarationIn(BaseModel):
    """The national domestic declaration; name, ID number, birth year and gender come from the record."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    nationality: Text = Field(default="VNM", pattern=r"^[A-Z]{3}$")
    address: AddressIn
    phone: Text | None = Field(default=None, max_length=20)
    email: Text | None = Field(default=None, max_length=200, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    places_visited: list[Text] = Field(default_factory=list, max_length=50, description="last 14 days")
    symptoms: SymptomsIn = Field(default_factory=SymptomsIn)
    contacts: ContactsIn = Field(default_factory=ContactsIn)

    @field_validator("places_visited")
    @classmethod
    def _places(cls, value: list[str]) -> list[str]:
        for index, place in enumerate(value):
            if not place.strip() or len(place) > 200:
                raise ValueError(f"places_visited[{index}] must be 1 to 200 characters")
        return [p.strip() for p in value]


@mirrors(declarations.MovementDeclaration)
class MovementDeclarationIn(BaseModel):
    """A domestic trip: from where to where, how, and when."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    origin: AddressIn
    destination: AddressIn
    transport: Transport
    vehicle_number: Text = Field(default="", max_length=40)
    departure_date: dt.date
    arrival_date: dt.date
    purpose: Text = Field(default="", max_length=200)


@router.post(
    "/people/{qid}/health-declarations", status_code=201, summary="Declare health (self or household)"
)
async def health_declaration(
    qid: str,
    body: HealthDeclarationIn,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    declared = command(declarations.HealthDeclaration, body)
    return jsonable(await call(ctx, declarations.submit, ctx, who, qid, declared))


@router.post("/people/{qid}/movement-declarations", status_code=201, summary="Declare a domestic trip")
async def movement_declaration(
    qid: str,
    body: MovementDeclarationIn,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    declared = command(declarations.MovementDeclaration, body)
    return jsonable(await call(ctx, declarations.submit, ctx, who, qid, declared))


@router.get("/people/{qid}/declarations", summary="A person's declarations, newest first")
async def list_declarations(
    qid: str,
    kind: Literal["health", "movement"] | None = Query(None),
    purpose: Purpose | None = PURPOSE,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> dict[str, Any]:
    found = await call(ctx, declarations.list_for, ctx, who, qid, kind, purpose)
    return {"declarations": jsonable(found)}
