"""Liveness, readiness and the published trust list (no authentication)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, PlainTextResponse

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


_METRICS = {
    "published": ("counter", "scans this node published to the ingest stream"),
    "publish_failures": ("counter", "publishes the stream did not acknowledge (answered 503)"),
    "consumed": ("counter", "messages this node's consumers stored or refused and acknowledged"),
    "stored": ("counter", "scans the consumers stored"),
    "already_stored": ("counter", "messages found stored already (retries, redeliveries)"),
    "rejected": ("counter", "accepted scans the database refused (listed under rejections)"),
    "retried": ("counter", "messages handed back for later after a database error"),
    "batch_seconds_total": ("counter", "seconds spent writing consumed batches"),
}


@router.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
async def metrics(ctx: Services = Depends(services)) -> PlainTextResponse:
    """Prometheus text: the ingest stream's counters and the consumers' lag (stream mode)."""
    lines = [f'unifiedqr_info{{database="{ctx.db.dialect}",stream="{int(ctx.stream is not None)}"}} 1']
    stream = ctx.stream
    if stream is not None:
        for name, (kind, text) in _METRICS.items():
            metric = f"unifiedqr_ingest_{name}" + ("" if name.endswith("_total") else "_total")
            lines += [
                f"# HELP {metric} {text}",
                f"# TYPE {metric} {kind}",
                f"{metric} {stream.stats[name]:g}",
            ]
        try:
            lag = await stream.lag()
        except Exception:  # the stream is down: the lag is unknown, the rest still reports
            lag = {}
        for name, value in lag.items():
            metric = f"unifiedqr_ingest_consumer_{name}"
            lines += [f"# TYPE {metric} gauge", f"{metric} {value}"]
    return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")
