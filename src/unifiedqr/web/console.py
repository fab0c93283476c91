"""The officials' console: the dashboard (scans per hour and province, open cases) and the look-up.

**Dashboard** (``/console``): ``services.dashboard.overview`` for a local day, drawn as two charts
with the same numbers in tables; counts only, no person. **Look-up** (``/console/lookup``): what a
scanner typed (a USB keyboard-wedge scanner types the code and Enter into the focused field) or a
QID, and a purpose chosen from the closed list; the answer is ``services.lookups.lookup``'s view for
the caller's role, audited there (the person sees it in "who looked at my data"). The look-up is a
POST so neither the code nor the QID ever sits in a URL, a history or a server log.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from unifiedqr.api.deps import call
from unifiedqr.errors import InvalidInput, NotFound, PermissionDenied
from unifiedqr.services import dashboard, lookups
from unifiedqr.services.auth import Permission, Role
from unifiedqr.services.purposes import PURPOSES
from unifiedqr.services.tracing_config import available_rules
from unifiedqr.web.chart import IN_FILL, OUT_FILL, Series, hourly_bars, ranked_bars
from unifiedqr.web.framework import HOMES, checked_form, inline_svg, nav, render, services_of, signed_in
from unifiedqr.web.sessions import PageSession
from unifiedqr.web.words import COLOURS, PURPOSE_WORDS, VERIFICATION_WORDS

router = APIRouter(include_in_schema=False)

HOMES.update({Role.HEALTH_OFFICIAL: "/console", Role.ADMINISTRATOR: "/console"})
nav("/console", "Tổng quan", "Dashboard", Permission.STATS_READ)
nav("/console/lookup", "Tra cứu", "Look-up", Permission.ANY_LOOKUP)


def charts_of(overview: dashboard.Overview) -> tuple[str, str]:
    """The hourly chart and the provinces chart (the first :data:`dashboard.TOP_PROVINCES`)."""
    series = [
        Series("Vào · In", [h.check_ins for h in overview.hours], IN_FILL),
        Series("Ra · Out", [h.check_outs for h in overview.hours], OUT_FILL),
    ]
    day = overview.date.isoformat()
    hourly = hourly_bars(
        "Lượt quét theo giờ · Scans per hour",
        f"{overview.total_check_ins} check-ins and {overview.total_check_outs} check-outs on {day}, "
        "per local hour",
        series,
        chart_id="hours",
    )
    top = overview.provinces[: dashboard.TOP_PROVINCES]
    provinces = ranked_bars(
        "Lượt quét theo tỉnh · Scans per province",
        f"Check-ins and check-outs on {day} in the {len(top)} busiest provinces",
        [(p.province, (p.check_ins, p.check_outs)) for p in top],
        series,
        chart_id="provinces",
    )
    return hourly, provinces


@router.get("/console")
async def console(
    request: Request, date: str | None = None, session: PageSession = Depends(signed_in)
) -> Response:
    ctx = services_of(request)
    try:
        overview = await call(ctx, dashboard.overview, ctx, session.principal, date or None)
    except InvalidInput as exc:
        overview = await call(ctx, dashboard.overview, ctx, session.principal, None)
        return _dashboard(request, overview, 422, error=exc)
    return _dashboard(request, overview)


def _dashboard(request: Request, overview: dashboard.Overview, status: int = 200, **extra: Any) -> Response:
    hourly, provinces = charts_of(overview)
    principal = request.state.page_session.principal
    extra.setdefault("error", None)
    return render(
        request,
        "console/dashboard.html",
        status,
        overview=overview,
        hourly=inline_svg(hourly),
        provinces=inline_svg(provinces),
        top=dashboard.TOP_PROVINCES,
        can_lookup=principal.can(Permission.ANY_LOOKUP),
        can_trace=principal.can(Permission.TRACING_MANAGE),
        **extra,
    )


# -- look-up ----------------------------------------------------------------------------------------
def _lookup_page(request: Request, status: int = 200, **extra: Any) -> Response:
    session: PageSession = request.state.page_session
    session.principal.require(Permission.ANY_LOOKUP)
    extra.setdefault("error", None)
    extra.setdefault("found", None)
    extra.setdefault("form", {})
    extra.setdefault("missing", False)
    return render(
        request,
        "console/lookup.html",
        status,
        purposes=[(code, PURPOSE_WORDS[code]) for code in PURPOSES],
        colours=COLOURS,
        verifications=VERIFICATION_WORDS,
        rules=sorted(available_rules(services_of(request))),
        can_trace=session.principal.can(Permission.TRACING_MANAGE),
        **extra,
    )


@router.get("/console/lookup")
async def lookup_form(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    return _lookup_page(request)


@router.post("/console/lookup")
async def lookup(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    form = await checked_form(request, session)
    session.principal.require(Permission.ANY_LOOKUP)
    ctx = services_of(request)
    asked = lookups.Lookup(form.get("text", ""), form.get("purpose", ""))  # checked by the service
    kept = {"purpose": asked.purpose}  # the purpose stays chosen for the next scan; the text does not
    try:
        found = await call(ctx, lookups.lookup, ctx, session.principal, asked)
    except (InvalidInput, PermissionDenied) as exc:
        return _lookup_page(request, 422, error=exc, form=kept)
    except NotFound as exc:
        return _lookup_page(request, 404, error=exc, form=kept, missing=True)
    return _lookup_page(request, found=found, form=kept)
