"""The citizen's declarations: the list (own and household members') and the health or movement form.

A submitted form is checked by the very models the API uses (``api.routers.declarations``), then
sent to the same service (``declarations.submit``) with the citizen's principal, so the page accepts
exactly what ``POST /people/{qid}/health-declarations`` accepts and refuses it with the same field.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from unifiedqr.api.deps import call, command
from unifiedqr.api.problems import location
from unifiedqr.api.routers.declarations import HealthDeclarationIn, MovementDeclarationIn
from unifiedqr.errors import InvalidInput
from unifiedqr.services import declarations, people
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.declarations import Transport
from unifiedqr.web.framework import checked_form, redirect, render, services_of, signed_in, template_helper
from unifiedqr.web.sessions import PageSession

router = APIRouter(include_in_schema=False)

SYMPTOMS = {
    "fever": ("Sốt", "Fever"),
    "cough": ("Ho", "Cough"),
    "shortness_of_breath": ("Khó thở", "Shortness of breath"),
    "pneumonia": ("Viêm phổi", "Pneumonia"),
    "sore_throat": ("Đau họng", "Sore throat"),
    "fatigue": ("Mệt mỏi", "Fatigue"),
}
CONTACTS = {
    "confirmed_or_suspected_case": (
        "Tiếp xúc ca bệnh hoặc nghi ngờ",
        "Contact with a confirmed or suspected case",
    ),
    "person_from_affected_country": (
        "Tiếp xúc người từ vùng dịch",
        "Contact with someone from an affected area",
    ),
    "person_with_symptoms": ("Tiếp xúc người có triệu chứng", "Contact with someone with symptoms"),
}
TRANSPORT = {
    "car": ("Ô tô", "Car"),
    "bus": ("Xe khách", "Bus"),
    "train": ("Tàu hỏa", "Train"),
    "plane": ("Máy bay", "Plane"),
    "ship": ("Tàu thủy", "Ship"),
    "motorbike": ("Xe máy", "Motorbike"),
    "bicycle": ("Xe đạp", "Bicycle"),
    "on_foot": ("Đi bộ", "On foot"),
    "other": ("Khác", "Other"),
}
assert set(TRANSPORT) == {t.value for t in Transport}


def _address(form: dict[str, str], prefix: str) -> dict[str, str]:
    return {part: form.get(f"{prefix}_{part}", "") for part in ("province", "district", "ward", "street")}


def _health(form: dict[str, str]) -> dict[str, Any]:
    places = [line for line in form.get("places_visited", "").splitlines() if line.strip()]
    return {
        "address": _address(form, "address"),
        "nationality": form.get("nationality") or "VNM",
        "phone": form.get("phone") or None,
        "email": form.get("email") or None,
        "places_visited": places,
        "symptoms": {name: name in form for name in SYMPTOMS},
        "contacts": {name: name in form for name in CONTACTS},
    }


def _movement(form: dict[str, str]) -> dict[str, Any]:
    return {
        "origin": _address(form, "origin"),
        "destination": _address(form, "destination"),
        "transport": form.get("transport", ""),
        "vehicle_number": form.get("vehicle_number", ""),
        "departure_date": form.get("departure_date", ""),
        "arrival_date": form.get("arrival_date", ""),
        "purpose": form.get("purpose", ""),
    }


def declaration_of(form: dict[str, str]) -> declarations.HealthDeclaration | declarations.MovementDeclaration:
    """The form as the service's command, checked by the API's models (InvalidInput naming the field)."""
    kind = form.get("kind")
    model: type[BaseModel]
    target: type[Any]
    if kind == "health":
        model, data, target = HealthDeclarationIn, _health(form), declarations.HealthDeclaration
    elif kind == "movement":
        model, data, target = MovementDeclarationIn, _movement(form), declarations.MovementDeclaration
    else:
        raise InvalidInput("kind", "must be health or movement")
    try:
        checked = model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(
            location(tuple(first.get("loc", ()))), str(first.get("msg", "is invalid"))
        ) from None
    built: declarations.HealthDeclaration | declarations.MovementDeclaration = command(target, checked)
    return built


def _listing(ctx: Services, principal: Principal) -> tuple[list[people.HouseholdMember], list[Any]]:
    """The household (self first) and every member's declarations, newest first."""
    members = people.household(ctx, principal)
    found: list[Any] = []
    for member in members:
        if member.self or member.declared_by_me:
            found += [(member, d) for d in declarations.list_for(ctx, principal, member.qid)]
    found.sort(key=lambda pair: pair[1].created_at, reverse=True)
    return members, found


async def _page(
    request: Request, session: PageSession, status: int = 200, error: InvalidInput | None = None, **form: Any
) -> Response:
    ctx = services_of(request)
    members, listed = await call(ctx, _listing, ctx, session.principal)
    return render(
        request,
        "citizen/declarations.html",
        status,
        members=[m for m in members if m.self or m.declared_by_me],
        listed=listed,
        symptoms=SYMPTOMS,
        contacts=CONTACTS,
        transport=TRANSPORT,
        today=(ctx.now() + ctx.venues.rules.offset).date().isoformat(),
        error=error,
        form=form.get("values", {}),
        done=request.query_params.get("done") == "1",
    )


@router.get("/me/declarations")
async def my_declarations(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    return await _page(request, session)


@router.post("/me/declarations")
async def declare(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    form = await checked_form(request, session)
    ctx = services_of(request)
    try:
        body = declaration_of(form)
        await call(ctx, declarations.submit, ctx, session.principal, form.get("qid", ""), body)
    except InvalidInput as exc:
        return await _page(request, session, 422, exc, values=form)
    return redirect("/me/declarations?done=1")


def describe(body: Any) -> str:
    """One line about a declaration for the list (template helper)."""
    if isinstance(body, declarations.MovementDeclaration):
        return f"{body.origin.province} → {body.destination.province}, {body.departure_date:%d/%m/%Y}"
    symptoms = [SYMPTOMS[name][0] for name, on in vars(body.symptoms).items() if on]
    return ", ".join(symptoms) or "Không có triệu chứng · No symptoms"


template_helper("describe_declaration", describe)
