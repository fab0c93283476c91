"""``/venues``: registration, entrances, staff, the code and poster, staff scans, the owner's history."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from unifiedqr.api.deps import (
    JSONRoute,
    call,
    command,
    mirrors,
    offload,
    offload_hashing,
    principal,
    services,
)
from unifiedqr.api.openapi import errors
from unifiedqr.api.routers.accounts import Password
from unifiedqr.api.routers.checkins import scan_response
from unifiedqr.serialize import jsonable
from unifiedqr.services import checkins, venue_history, venues
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.visits import VENUE_TYPES

router = APIRouter(tags=["venues"], route_class=JSONRoute)


VenueType = Literal["shop", "restaurant", "office", "school", "market", "hospital", "transport", "other"]
assert set(VenueType.__args__) == set(VENUE_TYPES)  # type: ignore[attr-defined]


@mirrors(venues.VenueRegistration)
class VenueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(min_length=1, max_length=200, examples=["Quán Phở Hàng Bạc"])
    type: VenueType
    province: StrictStr = Field(min_length=1, max_length=100)
    district: StrictStr = Field(min_length=1, max_length=100)
    commune: StrictStr = Field(min_length=1, max_length=100)
    street: StrictStr = Field(min_length=1, max_length=200)
    owner_phone: StrictStr = Field(min_length=1, max_length=20)
    entrances: list[StrictStr] = Field(default_factory=lambda: ["main"], max_length=50)
    default_stay_minutes: int | None = Field(default=None, ge=1, le=1440)


class EntranceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(min_length=1, max_length=100)


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(min_length=1, max_length=200)
    username: StrictStr = Field(min_length=3, max_length=64)
    password: Password


@mirrors(checkins.StaffScan, path=("venue_id",))
class ScanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr | None = Field(default=None, max_length=4096, description="what the scanner read")
    phone: StrictStr | None = Field(
        default=None, max_length=20, description="typed, for people without a code"
    )
    entrance_id: StrictStr | None = Field(
        default=None, max_length=32, description="default: the first entrance"
    )
    direction: Literal["in", "out"] | None = Field(default=None, description="absent: inferred (toggle)")
    at: StrictStr | None = Field(default=None, max_length=40, description="RFC 3339; default: now")
    idempotency_key: StrictStr | None = Field(default=None, max_length=64)
    device_id: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="the scanner device: its idempotency keys are its own (default: the account's)",
    )


@router.post(
    "/venues",
    status_code=201,
    summary="Register a venue (venue owners; administrators for anyone)",
    responses=errors(409),
)
async def register_venue(
    body: VenueIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, venues.register, ctx, who, command(venues.VenueRegistration, body)))


@router.get("/venues", summary="The venues the caller owns or staffs")
async def my_venues(who: Principal = Depends(principal), ctx: Services = Depends(services)) -> dict[str, Any]:
    return {"venues": jsonable(await call(ctx, venues.mine, ctx, who))}


@router.get("/venues/{venue_id}", summary="A venue: name, address, code, entrances")
async def get_venue(
    venue_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, venues.get, ctx, who, venue_id))


@router.post(
    "/venues/{venue_id}/entrances",
    status_code=201,
    summary="Add an entrance (scanner point)",
    responses=errors(409),
)
async def add_entrance(
    venue_id: str, body: EntranceIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, venues.add_entrance, ctx, who, venue_id, body.name))


@router.get("/venues/{venue_id}/staff", summary="The venue's staff accounts (owner)")
async def list_staff(
    venue_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return {"staff": jsonable(await call(ctx, venues.list_staff, ctx, who, venue_id))}


@router.post(
    "/venues/{venue_id}/staff",
    status_code=201,
    summary="Create a staff account for the venue (owner)",
    responses=errors(409, 503),
)
async def add_staff(
    venue_id: str, body: StaffIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    created = await offload_hashing(
        ctx,
        venues.add_staff,
        ctx,
        who,
        venue_id,
        name=body.name,
        username=body.username,
        password=body.password,
    )
    return {**jsonable(created), "venue_id": venue_id}


@router.delete(
    "/venues/{venue_id}/staff/{account_id}", status_code=204, summary="Remove a staff account (owner)"
)
async def remove_staff(
    venue_id: str, account_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Response:
    await call(ctx, venues.remove_staff, ctx, who, venue_id, account_id)
    return Response(status_code=204)


@router.post(
    "/venues/{venue_id}/code/withdraw",
    summary="Withdraw the printed code and sign a new one (the old one goes on revoked_codes)",
)
async def withdraw_code(
    venue_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, venues.withdraw_code, ctx, who, venue_id))


@router.get(
    "/venues/{venue_id}/poster",
    summary="The printable A4 poster (code at least 15 x 15 cm)",
    responses={200: {"content": {"application/pdf": {}, "image/png": {}}}},
)
async def poster(
    venue_id: str,
    format: Literal["pdf", "png"] = Query("pdf"),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Response:
    data = await offload(venues.poster, ctx, who, venue_id, format)
    return Response(data, media_type="application/pdf" if format == "pdf" else "image/png")


@router.post(
    "/venues/{venue_id}/scans",
    status_code=201,
    summary="Venue scans citizen: a personal code (full or masked), a chip ID card QR, or a phone",
    responses={200: {"description": "already recorded under this idempotency key"}},
)
async def scan(
    venue_id: str, body: ScanIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Response:
    result = await call(
        ctx, checkins.staff_scan, ctx, who, command(checkins.StaffScan, body, venue_id=venue_id)
    )
    return scan_response(result)


@router.get("/venues/{venue_id}/visits", summary="The day's visits, names and phones masked (owner)")
async def visits(
    venue_id: str,
    date: str | None = Query(None, description="YYYY-MM-DD, local day; default today"),
    entrance_id: str | None = Query(None),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    day = venue_history.parse_day(ctx, date)
    return jsonable(await call(ctx, venue_history.visits, ctx, who, venue_id, day, entrance_id))


@router.get("/venues/{venue_id}/counts", summary="Check-ins and check-outs per local hour (owner)")
async def counts(
    venue_id: str,
    date: str | None = Query(None, description="YYYY-MM-DD, local day; default today"),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    day = venue_history.parse_day(ctx, date)
    return jsonable(await call(ctx, venue_history.hourly_counts, ctx, who, venue_id, day))
