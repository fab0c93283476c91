"""``/dashboard``: scans per local hour and province for a day, and open cases (counts, no person)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query

from unifiedqr.api.deps import JSONRoute, call, principal, services
from unifiedqr.serialize import jsonable
from unifiedqr.services import dashboard
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

router = APIRouter(tags=["dashboard"], route_class=JSONRoute)


@router.get(
    "/dashboard",
    summary="Check-ins and check-outs per local hour and per province for a day; open tracing cases",
    description="Officials, tracers and administrators (`any:stats:read`). `open_cases` is null for "
    "a caller who may not see tracing cases. Duplicate scans are not counted.",
)
async def overview(
    date: str | None = Query(None, max_length=10, description="the local day, YYYY-MM-DD; today by default"),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    return jsonable(await call(ctx, dashboard.overview, ctx, who, date))
