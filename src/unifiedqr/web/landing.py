"""The check-in landing page's other ways in, beside the anonymous form of ``web/pages.py``.

A citizen who opens a venue code's URL with a plain phone camera can check in: signed in (one tap,
``POST /v/<id>/<sig>/me``, through ``checkins.citizen_checkin`` with their own principal and a CSRF
token); by phone number or by pasting their code (the anonymous form, ``pages.py``, hardened by
issue 10); or by showing their code to the camera (``GET /v/<id>/<sig>/camera``: the page decodes
it with the vendored zxing-wasm and submits it through that same anonymous form). Times are shown
in Vietnam's time; every message is in Vietnamese and English.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from unifiedqr.api.deps import call
from unifiedqr.errors import ScanRejected
from unifiedqr.services import checkins
from unifiedqr.services.auth import Permission
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import VenueInfo, resolve_code
from unifiedqr.web import sessions
from unifiedqr.web.framework import (
    CSP_CAMERA,
    PageError,
    checked_form,
    environment,
    render,
    services_of,
    signed_in,
)
from unifiedqr.web.sessions import PageSession

router = APIRouter(include_in_schema=False)


def landing_path(info: VenueInfo) -> str:
    return f"/v/{info.public_id}/{info.code_signature}"


async def options(request: Request, info: VenueInfo) -> str:
    """The signed-in and camera options for the landing page (escaped HTML from a template)."""
    session = await sessions.current(request)
    can_check_in = session is not None and session.principal.can(Permission.SELF_CHECKINS_SUBMIT)
    return (
        environment()
        .get_template("checkin/options.html")
        .render(
            base=landing_path(info),
            session=session if can_check_in else None,
            csrf=session.csrf if session else "",
        )
    )


def _venue(ctx: Services, venue_id: str, signature: str) -> VenueInfo:
    info = ctx.venues.venue(venue_id)
    if info is None:
        raise PageError(404, "Mã không hợp lệ", "Unknown venue", "unknown_venue")
    try:
        return resolve_code(ctx, f"{info.code_base_url}/v/{venue_id}/{signature}", ctx.now())
    except ScanRejected as exc:
        raise PageError(422, "Mã không hợp lệ", "Invalid venue code", exc.code) from None


@router.post("/v/{venue_id}/{signature}/me")
async def checkin_signed_in(
    request: Request, venue_id: str, signature: str, session: PageSession = Depends(signed_in)
) -> Response:
    """The signed-in citizen checks in (or out) here, as themselves."""
    form = await checked_form(request, session)
    ctx = services_of(request)
    info = await call(ctx, _venue, ctx, venue_id, signature)
    direction = form.get("direction") if form.get("direction") in ("in", "out") else None
    command = checkins.CitizenCheckin(venue_code=info.code, direction=direction)
    result = await call(ctx, checkins.citizen_checkin, ctx, session.principal, command)
    return render(request, "checkin/done.html", 201, info=info, result=result, base=landing_path(info))


@router.get("/v/{venue_id}/{signature}/camera")
async def checkin_camera(request: Request, venue_id: str, signature: str) -> Response:
    """Show your code to the phone's camera; the page reads it and submits the anonymous form."""
    ctx = services_of(request)
    info = await call(ctx, _venue, ctx, venue_id, signature)
    return render(request, "checkin/camera.html", csp=CSP_CAMERA, info=info, base=landing_path(info))
