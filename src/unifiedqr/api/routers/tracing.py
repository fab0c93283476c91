"""``/tracing``: cases, ranked candidates, decisions, rings, venue-hours, CSV, pictures, notifications.

Health officials and tracers (``any:tracing:manage``); the CSV export needs ``any:tracing:export``
(officials only); platforms read and acknowledge their notification outbox
(``platform:notices:read``). Every read that shows people is audited with purpose ``tracing`` in the
service, one row per person.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field, StrictStr

from unifiedqr.api.deps import JSONRoute, call, command, mirrors, offload, principal, services
from unifiedqr.serialize import jsonable
from unifiedqr.services import tracing, tracing_notices, tracing_outputs, tracing_spread
from unifiedqr.services.auth import Principal
from unifiedqr.services.context import Services

router = APIRouter(tags=["tracing"], route_class=JSONRoute)

Instant = StrictStr
_IMAGE: dict[int | str, dict[str, Any]] = {200: {"content": {"image/svg+xml": {}, "image/png": {}}}}


@mirrors(tracing.NewCase)
class CaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    qid: StrictStr = Field(max_length=32, description="the confirmed person's QID (a look-up finds it)")
    window_start: Instant = Field(max_length=40, description="RFC 3339; the infectious window's start")
    window_end: Instant = Field(max_length=40, description="RFC 3339; both ends inclusive")
    rule: StrictStr = Field(default="national", max_length=32, description="national, overlap, or configured")
    onset: Instant | None = Field(default=None, max_length=40, description="symptoms or positive sample")
    isolation: Instant | None = Field(default=None, max_length=40)
    note: StrictStr | None = Field(default=None, max_length=500)


@mirrors(tracing.Decision)
class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    decision: Literal["confirmed", "dismissed", "confirm", "dismiss"]
    reason: StrictStr = Field(min_length=1, max_length=500)


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: StrictStr = Field(min_length=1, max_length=500)


@mirrors(tracing_notices.Notify)
class NotifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    candidates: list[StrictStr] | None = Field(
        default=None,
        max_length=1000,
        description="QIDs or visitor ids; default: every confirmed one not yet told",
    )
    message: StrictStr | None = Field(default=None, max_length=1000)


# -- cases ------------------------------------------------------------------------------------------
@router.post("/tracing/cases", status_code=201, summary="Open a case for a confirmed person")
async def open_case(
    body: CaseIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, tracing.open_case, ctx, who, command(tracing.NewCase, body)))


@router.get("/tracing/cases", summary="Cases, newest first")
async def list_cases(
    status: Literal["open", "closed"] | None = Query(None),
    limit: int = Query(100, ge=1, le=1000),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> dict[str, Any]:
    return {"cases": jsonable(await call(ctx, tracing.list_cases, ctx, who, status, limit))}


@router.get("/tracing/window", summary="The default infectious window from onset and isolation")
async def window(
    onset: str = Query(..., max_length=40, description="YYYY-MM-DD (a local day) or RFC 3339"),
    isolation: str = Query(..., max_length=40),
    rule: str = Query("national", max_length=32),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    return jsonable(await call(ctx, tracing.suggest_window, ctx, who, onset, isolation, rule))


@router.get("/tracing/cases/{case_id}", summary="A case with its counts and decision log")
async def get_case(
    case_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, tracing.get_case, ctx, who, case_id))


@router.post("/tracing/cases/{case_id}/close", summary="Close a case (reason logged)")
async def close_case(
    case_id: str, body: ReasonIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, tracing.set_status, ctx, who, case_id, "closed", body.reason))


@router.post("/tracing/cases/{case_id}/reopen", summary="Reopen a closed case (reason logged)")
async def reopen_case(
    case_id: str, body: ReasonIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, tracing.set_status, ctx, who, case_id, "open", body.reason))


# -- candidates -------------------------------------------------------------------------------------
@router.get("/tracing/cases/{case_id}/candidates", summary="Ranked contact candidates (one per person)")
async def candidates(
    case_id: str,
    limit: int | None = Query(None, ge=0, le=100_000),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    return jsonable(await call(ctx, tracing.candidates, ctx, who, case_id, limit))


@router.post(
    "/tracing/cases/{case_id}/candidates/{candidate_id}/decision",
    summary="Confirm or dismiss a candidate (QID or visitor id), with a reason",
)
async def decide(
    case_id: str,
    candidate_id: str,
    body: DecisionIn,
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    decision = command(tracing.Decision, body)
    return jsonable(await call(ctx, tracing.decide, ctx, who, case_id, candidate_id, decision))


@router.get(
    "/tracing/cases/{case_id}/candidates.csv",
    summary="The candidates as CSV (officials; audited; spreadsheet-safe)",
    responses={200: {"content": {"text/csv": {}}}},
)
async def export_csv(
    case_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Response:
    text = await call(ctx, tracing_outputs.export_csv, ctx, who, case_id)
    headers = {
        "Content-Disposition": f'attachment; filename="{case_id}-candidates.csv"',
        "Cache-Control": "no-store",
    }
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)


@router.get("/tracing/cases/{case_id}/rings", summary="Second ring (and further) from confirmed contacts")
async def rings(
    case_id: str,
    depth: int = Query(1, ge=1, le=10),
    max_people: int = Query(200, ge=1, le=10_000),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Any:
    return jsonable(await call(ctx, tracing_spread.rings, ctx, who, case_id, depth, max_people))


@router.get("/tracing/cases/{case_id}/venues", summary="The venue-hours the case touched")
async def venue_hours(
    case_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, tracing_outputs.venue_view, ctx, who, case_id))


@router.get(
    "/tracing/cases/{case_id}/graph", summary="Case → venues → candidates, SVG or PNG", responses=_IMAGE
)
async def graph(
    case_id: str,
    format: Literal["svg", "png"] = Query("svg"),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Response:
    data = await offload(tracing_outputs.graph, ctx, who, case_id, format)
    return _image(data, format)


@router.get(
    "/tracing/cases/{case_id}/venues/{venue_id}/timeline",
    summary="The case's scans at one venue above the contacts', SVG or PNG",
    responses=_IMAGE,
)
async def timeline(
    case_id: str,
    venue_id: str,
    format: Literal["svg", "png"] = Query("svg"),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> Response:
    data = await offload(tracing_outputs.timeline, ctx, who, case_id, venue_id, format)
    return _image(data, format)


def _image(data: bytes, format: str) -> Response:
    media = "image/svg+xml" if format == "svg" else "image/png"
    return Response(data, media_type=media, headers={"Cache-Control": "no-store"})


# -- notifications ----------------------------------------------------------------------------------
@router.post("/tracing/cases/{case_id}/notifications", status_code=201, summary="Notify confirmed contacts")
async def notify(
    case_id: str, body: NotifyIn, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> dict[str, Any]:
    sent = await call(ctx, tracing_notices.notify, ctx, who, case_id, command(tracing_notices.Notify, body))
    return {"notifications": jsonable(sent)}


@router.get("/tracing/cases/{case_id}/notifications", summary="What was sent for a case, and when")
async def case_notifications(
    case_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> dict[str, Any]:
    return {"notifications": jsonable(await call(ctx, tracing_notices.for_case, ctx, who, case_id))}


@router.get("/tracing/notifications", summary="A platform's notification outbox")
async def outbox(
    status: Literal["pending", "acknowledged"] | None = Query("pending"),
    limit: int = Query(500, ge=1, le=5000),
    who: Principal = Depends(principal),
    ctx: Services = Depends(services),
) -> dict[str, Any]:
    return {"notifications": jsonable(await call(ctx, tracing_notices.outbox, ctx, who, status, limit))}


@router.post("/tracing/notifications/{notification_id}/ack", summary="A platform acknowledges delivery")
async def acknowledge(
    notification_id: str, who: Principal = Depends(principal), ctx: Services = Depends(services)
) -> Any:
    return jsonable(await call(ctx, tracing_notices.acknowledge, ctx, who, notification_id))
