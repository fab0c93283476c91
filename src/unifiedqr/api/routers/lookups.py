"""``/lookups`` (an authorised reader looks up the person behind a code) and ``/me/access-log``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from unifiedqr.api.deps import JSONRoute, call, command, mirrors, principal, services
from unifiedqr.api.routers.people import Purpose
from unifiedqr.serialize import jsonable
from unifiedqr.services import access_log, lookups
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

router = APIRouter(tags=["look-ups"], route_class=JSONRoute)


@mirrors(lookups.Lookup)
class LookupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: StrictStr = Field(
        min_length=1,
        max_length=lookups.MAX_TEXT,
        description="what was scanned (a personal code, full or safe) or typed (an 18-digit QID)",
    )
    purpose: Purpose


@router.post(
    "/lookups",
    summary="Look up the person behind a scanned code or a QID, for a purpose (audited)",
    responses={
        200: {
            "description": "qid, view (full or masked), verification, health_status "
            "{colour, reason, valid_until}, and what the caller's role may see"
        }
    },
)
async def lookup(
    body: LookupIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> dict[str, Any]:
    found = await call(ctx, lookups.lookup, ctx, who, command(lookups.Lookup, body))
    return dict(jsonable(found))


@router.get("/me/access-log", summary="Who read my data, when, and why (citizens), newest first")
async def my_access_log(who: Principal = Depends(principal), ctx: Services = Depends(services)) -> Any:
    return {"entries": jsonable(await call(ctx, access_log.access_log, ctx, who))}
