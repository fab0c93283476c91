"""The venue owner's pages: my venues and registering one, a venue's day (check-ins per hour as a
chart, the masked visit history), its poster, and its team (entrances and staff accounts).

Forms are checked by the API's own models (``api.routers.venues``) and handed to the same services
with the owner's principal; the visit history is the service's masked view, audited there.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from unifiedqr.api.deps import call, command, offload
from unifiedqr.api.problems import location
from unifiedqr.api.routers.venues import EntranceIn, StaffIn, VenueIn
from unifiedqr.errors import Conflict, InvalidInput
from unifiedqr.services import venue_history, venues
from unifiedqr.services.auth import Permission, Principal, Role
from unifiedqr.services.context import Services
from unifiedqr.services.visits import VENUE_TYPES
from unifiedqr.web.chart import IN_FILL, OUT_FILL, Series, hourly_bars
from unifiedqr.web.framework import (
    HOMES,
    checked_form,
    inline_svg,
    nav,
    redirect,
    render,
    services_of,
    signed_in,
)
from unifiedqr.web.sessions import PageSession

router = APIRouter(include_in_schema=False)

HOMES[Role.VENUE_OWNER] = "/venues"
nav("/venues", "Cơ sở của tôi", "My venues", Permission.VENUE_MANAGE)

TYPES = {
    "shop": ("Cửa hàng", "Shop"),
    "restaurant": ("Nhà hàng, quán ăn", "Restaurant"),
    "office": ("Văn phòng", "Office"),
    "school": ("Trường học", "School"),
    "market": ("Chợ", "Market"),
    "hospital": ("Bệnh viện", "Hospital"),
    "transport": ("Nhà ga, bến xe", "Transport"),
    "other": ("Khác", "Other"),
}
assert set(TYPES) == set(VENUE_TYPES)
#: How a visit without a check-out was closed (``services.visits``), for the history table.
CLOSED_BY = {
    "default_stay": ("ước tính", "usual stay"),
    "end_of_day": ("hết ngày", "end of day"),
    "next_check_in_elsewhere": ("vào nơi khác", "checked in elsewhere"),
}


def checked(model: type[BaseModel], data: dict[str, Any]) -> BaseModel:
    """``data`` through the API's model: the page refuses what the API refuses, naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InvalidInput(
            location(tuple(first.get("loc", ()))), str(first.get("msg", "is invalid"))
        ) from None


# -- my venues ------------------------------------------------------------------------------------
async def _list(request: Request, session: PageSession, status: int = 200, **extra: Any) -> Response:
    session.principal.require(Permission.VENUES_REGISTER)
    ctx = services_of(request)
    mine = await call(ctx, venues.mine, ctx, session.principal)
    return render(request, "owner/venues.html", status, venues=mine, types=TYPES, **extra)


@router.get("/venues")
async def my_venues(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    return await _list(request, session, error=None, form={})


def registration_of(form: dict[str, str]) -> venues.VenueRegistration:
    entrances = [e.strip() for e in form.get("entrances", "").replace("\n", ",").split(",") if e.strip()]
    stay = form.get("default_stay_minutes", "").strip()
    data = {
        **{k: form.get(k, "") for k in ("name", "type", "province", "district", "commune", "street")},
        "owner_phone": form.get("owner_phone", ""),
        "entrances": entrances or ["main"],
        "default_stay_minutes": int(stay) if stay.isdigit() else (stay or None),
    }
    registration: venues.VenueRegistration = command(venues.VenueRegistration, checked(VenueIn, data))
    return registration


@router.post("/venues")
async def register_venue(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    form = await checked_form(request, session)
    ctx = services_of(request)
    try:
        created = await offload(venues.register, ctx, session.principal, registration_of(form))
    except (InvalidInput, Conflict) as exc:
        return await _list(request, session, 422, error=exc, form=form)
    if created.owner_password is not None:  # an administrator registered it: the owner's login, once
        return render(request, "owner/created.html", 201, venue=created)
    return redirect(f"/venues/{created.venue_id}?registered=1")


# -- one venue: its day ---------------------------------------------------------------------------
def _day(ctx: Services, principal: Principal, venue_id: str, date: str | None) -> dict[str, Any]:
    venue = venues.get(ctx, principal, venue_id)
    day = venue_history.parse_day(ctx, date)
    counts = venue_history.hourly_counts(ctx, principal, venue_id, day)
    visits = venue_history.visits(ctx, principal, venue_id, day)
    return {"venue": venue, "day": day, "counts": counts, "visits": visits.visits}


def chart_of(counts: venue_history.HourlyCounts) -> str:
    series = [
        Series("Vào · In", [h.check_ins for h in counts.hours], IN_FILL),
        Series("Ra · Out", [h.check_outs for h in counts.hours], OUT_FILL),
    ]
    description = (
        f"{counts.total_check_ins} check-ins and {counts.total_check_outs} check-outs on "
        f"{counts.date.isoformat()}, per local hour"
    )
    return hourly_bars("Lượt vào/ra theo giờ · Check-ins per hour", description, series)


@router.get("/venues/{venue_id}")
async def venue_day(
    request: Request, venue_id: str, date: str | None = None, session: PageSession = Depends(signed_in)
) -> Response:
    ctx = services_of(request)
    data = await call(ctx, _day, ctx, session.principal, venue_id, date or None)
    return render(
        request,
        "owner/venue.html",
        chart=inline_svg(chart_of(data["counts"])),
        types=TYPES,
        closed_by=CLOSED_BY,
        registered=request.query_params.get("registered") == "1",
        **data,
    )


@router.get("/venues/{venue_id}/poster.{fmt}")
async def poster(
    request: Request, venue_id: str, fmt: str, session: PageSession = Depends(signed_in)
) -> Response:
    if fmt not in ("pdf", "png"):
        raise InvalidInput("format", "pdf or png")
    ctx = services_of(request)
    data = await offload(venues.poster, ctx, session.principal, venue_id, fmt)
    kind = "application/pdf" if fmt == "pdf" else "image/png"
    headers = {"content-disposition": f'inline; filename="poster-{venue_id}.{fmt}"'}
    return Response(data, media_type=kind, headers=headers)


# -- one venue: its team --------------------------------------------------------------------------
async def _team(
    request: Request, session: PageSession, venue_id: str, status: int = 200, **extra: Any
) -> Response:
    ctx = services_of(request)
    venue = await call(ctx, venues.get, ctx, session.principal, venue_id)
    staff = await call(ctx, venues.list_staff, ctx, session.principal, venue_id)
    extra.setdefault("error", None)
    extra.setdefault("form", {})
    extra.setdefault("added", request.query_params.get("added", ""))
    return render(request, "owner/team.html", status, venue=venue, staff=staff, **extra)


@router.get("/venues/{venue_id}/team")
async def team(request: Request, venue_id: str, session: PageSession = Depends(signed_in)) -> Response:
    return await _team(request, session, venue_id)


@router.post("/venues/{venue_id}/entrances")
async def add_entrance(
    request: Request, venue_id: str, session: PageSession = Depends(signed_in)
) -> Response:
    form = await checked_form(request, session)
    ctx = services_of(request)
    try:
        name = checked(EntranceIn, {"name": form.get("name", "")}).name  # type: ignore[attr-defined]
        await call(ctx, venues.add_entrance, ctx, session.principal, venue_id, name)
    except (InvalidInput, Conflict) as exc:
        return await _team(request, session, venue_id, 422, error=exc, form=form)
    return redirect(f"/venues/{venue_id}/team?added=entrance")


@router.post("/venues/{venue_id}/staff")
async def add_staff(request: Request, venue_id: str, session: PageSession = Depends(signed_in)) -> Response:
    form = await checked_form(request, session)
    ctx = services_of(request)
    try:
        body: Any = checked(StaffIn, {k: form.get(k, "") for k in ("name", "username", "password")})
        await offload(
            venues.add_staff,
            ctx,
            session.principal,
            venue_id,
            name=body.name,
            username=body.username,
            password=body.password,
        )
    except (InvalidInput, Conflict) as exc:
        form.pop("password", None)  # never echoed back into the page
        return await _team(request, session, venue_id, 422, error=exc, form=form)
    return redirect(f"/venues/{venue_id}/team?added=staff")


@router.post("/venues/{venue_id}/staff/{account_id}/remove")
async def remove_staff(
    request: Request, venue_id: str, account_id: str, session: PageSession = Depends(signed_in)
) -> Response:
    await checked_form(request, session)
    ctx = services_of(request)
    await call(ctx, venues.remove_staff, ctx, session.principal, venue_id, account_id)
    return redirect(f"/venues/{venue_id}/team?added=removed")
