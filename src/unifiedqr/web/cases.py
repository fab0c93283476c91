"""The tracers' pages: cases, a case's candidates to confirm or dismiss, its pictures and its CSV.

Each page calls the tracing services with the signed-in principal, so a page shows exactly what the
API would and every read of people is audited there (purpose ``tracing``, one row per person shown).
The graph and the timelines are the services' own SVG, served from this origin under a session
(an ``<img>`` sends the cookie, never a bearer token) with a CSP that lets an SVG opened on its own
run nothing. Times are typed and shown in Vietnam's time (the visit rules' offset).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from unifiedqr.api.deps import call, offload
from unifiedqr.errors import Conflict, InvalidInput, NotFound
from unifiedqr.services import tracing, tracing_notices, tracing_outputs
from unifiedqr.services.auth import Permission, Principal, Role
from unifiedqr.services.context import Services
from unifiedqr.services.times import parse_date
from unifiedqr.services.tracing_config import available_rules
from unifiedqr.services.tracing_views import CaseView
from unifiedqr.web.framework import HOMES, checked_form, nav, redirect, render, services_of, signed_in
from unifiedqr.web.sessions import PageSession

router = APIRouter(include_in_schema=False)

HOMES[Role.TRACER] = "/console/cases"
nav("/console/cases", "Truy vết", "Tracing", Permission.TRACING_MANAGE)

#: Candidates listed on a case's page (every one is audited as shown); the CSV has them all.
SHOWN = 200
#: Venue timelines drawn on a case's page (each is one more trace); the venue list has them all.
TIMELINES = 8
#: An SVG opened on its own (not through ``<img>``) may not run or fetch anything.
IMAGE_HEADERS = {
    "cache-control": "no-store",
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'",
}


def local_instant(ctx: Services, form: dict[str, str], field: str) -> str | None:
    """A ``datetime-local`` field (``YYYY-MM-DDTHH:MM``, Vietnam time) as RFC 3339; None if empty.
    The services check the instant itself (range, order); this only gives it the local offset."""
    text = form.get(field, "").strip()
    if not text:
        return None
    try:
        local = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, "must be a date and time, YYYY-MM-DDTHH:MM") from None
    if local.tzinfo is not None or "T" not in text:
        raise InvalidInput(field, "must be a date and time, YYYY-MM-DDTHH:MM")
    return _zoned(ctx, local)


def _zoned(ctx: Services, local: dt.datetime) -> str:
    """A naive Vietnam-time datetime as RFC 3339 with the visit rules' offset."""
    return local.replace(tzinfo=dt.timezone(ctx.venues.rules.offset)).isoformat()


def new_case(ctx: Services, principal: Principal, form: dict[str, str]) -> tracing.NewCase:
    """The form as the service's command: the window as given, or the rule's default from the
    onset day and the isolation time (``tracing.suggest_window``)."""
    rule = form.get("rule", "").strip() or "national"
    start, end = local_instant(ctx, form, "window_start"), local_instant(ctx, form, "window_end")
    isolation = local_instant(ctx, form, "isolation")
    onset_day = form.get("onset", "").strip()
    onset = (
        local_instant(ctx, {"onset": parse_date(onset_day, "onset").isoformat() + "T00:00"}, "onset")
        if onset_day
        else None
    )
    if start is None or end is None:
        if not (onset_day and isolation):
            raise InvalidInput(
                "window_start", "give the window's start and end, or the onset day and isolation"
            )
        window = tracing.suggest_window(ctx, principal, onset_day, isolation, rule)
        start, end = window.window_start.isoformat(), window.window_end.isoformat()
    note = form.get("note", "").strip() or None
    return tracing.NewCase(form.get("qid", "").strip(), start, end, rule, onset, isolation, note)


def _open(ctx: Services, principal: Principal, form: dict[str, str]) -> CaseView:
    return tracing.open_case(ctx, principal, new_case(ctx, principal, form))


# -- the list -------------------------------------------------------------------------------------
async def _list(request: Request, session: PageSession, status: int = 200, **extra: Any) -> Response:
    ctx = services_of(request)
    shown = request.query_params.get("status", "open")
    wanted = shown if shown in ("open", "closed") else None
    cases = await call(ctx, tracing.list_cases, ctx, session.principal, wanted, 100)
    extra.setdefault("error", None)
    extra.setdefault("form", {})
    return render(
        request,
        "console/cases.html",
        status,
        cases=cases,
        shown=wanted or "all",
        rules=sorted(available_rules(ctx)),
        found=None,
        **extra,
    )


@router.get("/console/cases")
async def cases(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    return await _list(request, session)


@router.post("/console/cases")
async def open_case(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    form = await checked_form(request, session)
    ctx = services_of(request)
    try:
        opened = await call(ctx, _open, ctx, session.principal, form)
    except (InvalidInput, NotFound) as exc:
        return await _list(
            request, session, 422 if isinstance(exc, InvalidInput) else 404, error=exc, form=form
        )
    return redirect(f"/console/cases/{opened.case_id}?opened=1")


# -- one case -------------------------------------------------------------------------------------
def _case(ctx: Services, principal: Principal, case_id: str) -> dict[str, Any]:
    detail = tracing.get_case(ctx, principal, case_id)
    listed = tracing.candidates(ctx, principal, case_id, SHOWN)
    venues = tracing_outputs.venue_view(ctx, principal, case_id)
    sent = tracing_notices.for_case(ctx, principal, case_id)
    timelines = list(dict.fromkeys(v.venue_id for v in venues.venues))
    return {"case": detail, "listed": listed, "venues": venues.venues, "sent": sent, "timelines": timelines}


async def _case_page(
    request: Request, session: PageSession, case_id: str, status: int = 200, **extra: Any
) -> Response:
    ctx = services_of(request)
    data = await call(ctx, _case, ctx, session.principal, case_id)
    extra.setdefault("error", None)
    return render(
        request,
        "console/case.html",
        status,
        can_export=session.principal.can(Permission.TRACING_EXPORT),
        shown_limit=SHOWN,
        timeline_limit=TIMELINES,
        done=request.query_params.get("done", ""),
        opened=request.query_params.get("opened") == "1",
        **data,
        **extra,
    )


@router.get("/console/cases/{case_id}")
async def case(request: Request, case_id: str, session: PageSession = Depends(signed_in)) -> Response:
    return await _case_page(request, session, case_id)


@router.post("/console/cases/{case_id}/candidates/{candidate_id}")
async def decide(
    request: Request, case_id: str, candidate_id: str, session: PageSession = Depends(signed_in)
) -> Response:
    form = await checked_form(request, session)
    ctx = services_of(request)
    decision = tracing.Decision(form.get("decision", ""), form.get("reason", "").strip())
    try:
        await call(ctx, tracing.decide, ctx, session.principal, case_id, candidate_id, decision)
    except (InvalidInput, Conflict) as exc:
        return await _case_page(
            request, session, case_id, 422 if isinstance(exc, InvalidInput) else 409, error=exc
        )
    done = "confirmed" if decision.decision.startswith("confirm") else "dismissed"
    return redirect(f"/console/cases/{case_id}?done={done}#candidates")


@router.post("/console/cases/{case_id}/status")
async def set_status(request: Request, case_id: str, session: PageSession = Depends(signed_in)) -> Response:
    form = await checked_form(request, session)
    ctx = services_of(request)
    wanted = form.get("status", "")
    try:
        await call(
            ctx, tracing.set_status, ctx, session.principal, case_id, wanted, form.get("reason", "").strip()
        )
    except (InvalidInput, Conflict) as exc:
        return await _case_page(
            request, session, case_id, 422 if isinstance(exc, InvalidInput) else 409, error=exc
        )
    return redirect(f"/console/cases/{case_id}?done={'closed' if wanted == 'closed' else 'reopened'}")


@router.post("/console/cases/{case_id}/notify")
async def notify(request: Request, case_id: str, session: PageSession = Depends(signed_in)) -> Response:
    form = await checked_form(request, session)
    ctx = services_of(request)
    message = form.get("message", "").strip() or None
    try:
        await call(
            ctx,
            tracing_notices.notify,
            ctx,
            session.principal,
            case_id,
            tracing_notices.Notify(None, message),
        )
    except (InvalidInput, Conflict) as exc:
        return await _case_page(
            request, session, case_id, 422 if isinstance(exc, InvalidInput) else 409, error=exc
        )
    return redirect(f"/console/cases/{case_id}?done=notified#notifications")


# -- pictures and the export ---------------------------------------------------------------------
@router.get("/console/cases/{case_id}/graph.svg")
async def graph(request: Request, case_id: str, session: PageSession = Depends(signed_in)) -> Response:
    ctx = services_of(request)
    data = await offload(tracing_outputs.graph, ctx, session.principal, case_id, "svg")
    return Response(data, media_type="image/svg+xml", headers=IMAGE_HEADERS)


@router.get("/console/cases/{case_id}/venues/{venue_id}/timeline.svg")
async def timeline(
    request: Request, case_id: str, venue_id: str, session: PageSession = Depends(signed_in)
) -> Response:
    ctx = services_of(request)
    data = await offload(tracing_outputs.timeline, ctx, session.principal, case_id, venue_id, "svg")
    return Response(data, media_type="image/svg+xml", headers=IMAGE_HEADERS)


@router.get("/console/cases/{case_id}/candidates.csv")
async def export(request: Request, case_id: str, session: PageSession = Depends(signed_in)) -> Response:
    ctx = services_of(request)
    text = await call(ctx, tracing_outputs.export_csv, ctx, session.principal, case_id)
    headers = {
        "content-disposition": f'attachment; filename="{case_id}-candidates.csv"',
        "cache-control": "no-store",
    }
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers=headers)
