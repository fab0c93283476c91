"""``/venues``: registration, entrances, staff, the code and poster, staff scans, the owner's history."""

from __future__ import annotations

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from unifiedqr.api.deps import principal, services
from unifiedqr.errors import Unauthenticated
from unifiedqr.services import checkins, venue_history, venues
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import runtime
from unifiedqr.services.visits import VENUE_TYPES

router = APIRouter(tags=["venues"])
bearer = HTTPBearer(auto_error=False, description="A platform API key (uqr_...) or a login token (uqt_...)")


async def services_async(request: Request) -> Services:
    """The service container, as an async dependency (no worker-thread hop)."""
    ctx: Services = request.app.state.services
    return ctx


def authenticate(ctx: Services, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    """``deps.principal``'s job inside the endpoint's own worker thread, with the scan-path token cache."""
    if credentials is None:
        raise Unauthenticated("send Authorization: Bearer <API key or token>")
    return runtime(ctx).principal(credentials.credentials)


VenueType = Literal["shop", "restaurant", "office", "school", "market", "hospital", "transport", "other"]
assert set(VenueType.__args__) == set(VENUE_TYPES)  # type: ignore[attr-defined]


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
    name: StrictStr = Field(min_length=1, max_length=100)


class StaffIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: StrictStr = Field(min_length=1, max_length=200)
    username: StrictStr = Field(min_length=3, max_length=64)
    password: StrictStr = Field(min_length=1, max_length=1024)


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


@router.post("/venues", status_code=201, summary="Register a venue (venue owners; administrators for anyone)")
def register_venue(
    body: VenueIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    data = body.model_dump()
    data["kind"] = data.pop("type")
    data["entrances"] = tuple(data["entrances"])
    return venues.register(ctx, who, venues.VenueRegistration(**data))


@router.get("/venues", summary="The venues the caller owns or staffs")
def my_venues(who: Principal = Depends(principal), ctx: Services = Depends(services)) -> dict[str, Any]:
    return {"venues": venues.mine(ctx, who)}


@router.get("/venues/{venue_id}", summary="A venue: name, address, code, entrances")
def get_venue(venue_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)) -> Any:
    return venues.get(ctx, who, venue_id)


@router.post("/venues/{venue_id}/entrances", status_code=201, summary="Add an entrance (scanner point)")
def add_entrance(
    venue_id: str, body: EntranceIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return venues.add_entrance(ctx, who, venue_id, body.name)


@router.get("/venues/{venue_id}/staff", summary="The venue's staff accounts (owner)")
def list_staff(venue_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)) -> Any:
    return {"staff": venues.list_staff(ctx, who, venue_id)}


@router.post(
    "/venues/{venue_id}/staff", status_code=201, summary="Create a staff account for the venue (owner)"
)
def add_staff(
    venue_id: str, body: StaffIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return venues.add_staff(
        ctx, who, venue_id, name=body.name, username=body.username, password=body.password
    )


@router.delete(
    "/venues/{venue_id}/staff/{account_id}", status_code=204, summary="Remove a staff account (owner)"
)
def remove_staff(
    venue_id: str, account_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Response:
    venues.remove_staff(ctx, who, venue_id, account_id)
    return Response(status_code=204)


@router.post(
    "/venues/{venue_id}/code/withdraw",
    summary="Withdraw the printed code and sign a new one (the old one goes on revoked_codes)",
)
def withdraw_code(
    venue_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return venues.withdraw_code(ctx, who, venue_id)


@router.get(
    "/venues/{venue_id}/poster",
    summary="The printable A4 poster (code at least 15 x 15 cm)",
    responses={200: {"content": {"application/pdf": {}, "image/png": {}}}},
)
def poster(
    venue_id: str,
    format: Literal["pdf", "png"] = Query("pdf"),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Response:
    data = venues.poster(ctx, who, venue_id, format)
    return Response(data, media_type="application/pdf" if format == "pdf" else "image/png")


@router.post(
    "/venues/{venue_id}/scans",
    status_code=201,
    summary="Venue scans citizen: a personal code (full or masked), a chip ID card QR, or a phone",
    responses={200: {"description": "already recorded under this idempotency key"}},
)
async def scan(
    venue_id: str,
    body: ScanIn,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    ctx: Services = Depends(services_async),
) -> Any:
    # The busiest endpoint. On SQLite the sub-millisecond scan runs inline (a worker-thread hop
    # cost more than it saved, as for the platform's hot paths); on PostgreSQL it goes to the thread
    # pool so requests overlap while waiting on the network. Sync dependencies would add a hop each.
    if ctx.db.is_sqlite:
        result = _scan(ctx, credentials, venue_id, body.model_dump())
    else:
        result = await run_in_threadpool(_scan, ctx, credentials, venue_id, body.model_dump())
    status = 200 if result["status"] == "already_recorded" else 201
    return Response(json.dumps(result, ensure_ascii=False), status, media_type="application/json")


def _scan(
    ctx: Services, credentials: HTTPAuthorizationCredentials | None, venue_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    return checkins.staff_scan(ctx, authenticate(ctx, credentials), venue_id, body)


@router.get("/venues/{venue_id}/visits", summary="The day's visits, names and phones masked (owner)")
def visits(
    venue_id: str,
    date: str | None = Query(None, description="YYYY-MM-DD, local day; default today"),
    entrance_id: str | None = Query(None),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    return venue_history.visits(ctx, who, venue_id, venue_history.parse_day(date, ctx), entrance_id)


@router.get("/venues/{venue_id}/counts", summary="Check-ins and check-outs per local hour (owner)")
def counts(
    venue_id: str,
    date: str | None = Query(None, description="YYYY-MM-DD, local day; default today"),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    return venue_history.hourly_counts(ctx, who, venue_id, venue_history.parse_day(date, ctx))
