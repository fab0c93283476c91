"""The venue scanner for staff (and owners): keyboard-wedge mode, camera mode, the offline queue.

The page is server-rendered once; ``static/js/scanner.js`` does the rest. It calls the JSON API
like any scanner app would (``POST /api/v1/venues/{id}/scans`` live, ``POST /api/v1/scan-batches``
for the offline queue, both with the scan's idempotency key) with a short-lived bearer token it asks
for through ``POST /session/api-token`` (CSRF-checked), so the API's own authentication stays as it
is. Camera mode is its own URL because only a page that compiles WebAssembly (the vendored
zxing-wasm) gets ``'wasm-unsafe-eval'`` in its CSP.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from unifiedqr.api.deps import call
from unifiedqr.services import venues
from unifiedqr.services.auth import Permission, Role
from unifiedqr.web.citizen import OFFLINE_COPY
from unifiedqr.web.framework import CSP_CAMERA, HOMES, nav, redirect, render, services_of, signed_in
from unifiedqr.web.sessions import PageSession

router = APIRouter(include_in_schema=False)

HOMES[Role.VENUE_STAFF] = "/scanner"
nav("/scanner", "Máy quét", "Scanner", Permission.VENUE_SCANS_SUBMIT)


@router.get("/scanner")
async def scanner_home(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    """Straight to the scanner of the caller's venue, or a choice when they work at several."""
    session.principal.require(Permission.VENUE_SCANS_SUBMIT)
    ctx = services_of(request)
    mine = await call(ctx, venues.mine, ctx, session.principal)
    if len(mine) == 1:
        return redirect(f"/scanner/{mine[0].venue_id}")
    return render(request, "scanner/choose.html", venues=mine)


async def _scanner(request: Request, session: PageSession, venue_id: str, camera: bool) -> Response:
    session.principal.require(Permission.VENUE_SCANS_SUBMIT)
    ctx = services_of(request)
    venue = await call(ctx, venues.get, ctx, session.principal, venue_id)  # 404 outside one's venues
    response = render(
        request,
        "scanner/scanner.html",
        csp=CSP_CAMERA if camera else None,
        venue=venue,
        camera=camera,
        utc_offset_minutes=ctx.venues.rules.utc_offset_minutes,
    )
    response.headers.update(OFFLINE_COPY)  # no personal data in it: a door can reload it offline
    return response


@router.get("/scanner/{venue_id}")
async def scanner(request: Request, venue_id: str, session: PageSession = Depends(signed_in)) -> Response:
    return await _scanner(request, session, venue_id, camera=False)


@router.get("/scanner/{venue_id}/camera")
async def scanner_camera(
    request: Request, venue_id: str, session: PageSession = Depends(signed_in)
) -> Response:
    return await _scanner(request, session, venue_id, camera=True)
