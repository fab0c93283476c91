"""Liveness, readiness and the published trust list (no authentication)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from unifiedqr.api.deps import JSONRoute, call, services
from unifiedqr.api.openapi import errors
from unifiedqr.api.problems import problem
from unifiedqr.codes.trust import format_time
from unifiedqr.services.context import Services
from unifiedqr.services.keys import trust_list

router = APIRouter(tags=["service"], route_class=JSONRoute)


@router.get("/health", summary="Liveness: the process answers")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready", summary="Readiness: the database answers and an issuing key is valid now", responses=errors(503)
)
async def ready(ctx: Services = Depends(services)) -> Any:
    if not await call(ctx, ctx.db.ping):
        return problem(503, "unavailable", "the database does not answer")
    try:
        await call(ctx, ctx.keys.refresh)
        key = await call(ctx, ctx.keys.current, ctx.now())
    except Exception:  # a ConfigError here means "not ready", reported, not raised
        return problem(503, "unavailable", "no issuing key is valid now")
    return {
        "status": "ready",
        "database": ctx.db.dialect,
        "issuing_key_id": key.key_id,
        "issuing_key_valid_until": format_time(key.valid_until),
    }


@router.get(
    "/trust-list",
    summary="The trust list (format version 1, as `unifiedqr verify --trust` reads it)",
    response_class=JSONResponse,
)
async def get_trust_list(ctx: Services = Depends(services)) -> JSONResponse:
    published = await call(ctx, trust_list, ctx.db)
    return JSONResponse(published.to_json(), headers={"Cache-Control": "public, max-age=60"})
