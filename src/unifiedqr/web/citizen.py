"""The citizen's pages: my code (the card), my household, my visit history; the service worker.

**My code** shows the *safe* code (no phone, no BHYT, document number and birth date masked) as a
card large enough to scan from the screen, the page text masked (``******029317``, ``1987-**-**``),
and a one-tap toggle to the full values and the full code, fetched on request from ``/me/full``
(``no-store``, never cached). The page itself is marked ``X-Offline-Copy: safe``: the service worker
(``/sw.js``) keeps exactly that page, so the safe code still shows with no network, and never the
full one. The safe code and the colour come from one function each: :func:`served_safe_code`,
:func:`health_colour`.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from importlib import resources

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from unifiedqr.api.deps import call, offload
from unifiedqr.codes.display import mask_birth_date, mask_document
from unifiedqr.codes.payload import PersonalCode, parse
from unifiedqr.errors import NotFound
from unifiedqr.services import accounts, health, my_visits, people
from unifiedqr.services.auth import Permission, Principal, Role
from unifiedqr.services.context import Services
from unifiedqr.web.framework import HOMES, inline_svg, nav, render, services_of, signed_in
from unifiedqr.web.sessions import PageSession
from unifiedqr.web.words import COLOURS

router = APIRouter(include_in_schema=False)

HOMES[Role.CITIZEN] = "/me"
nav("/me", "Mã của tôi", "My code", Permission.SELF_PEOPLE_READ)
nav("/me/household", "Hộ gia đình", "Household", Permission.SELF_PEOPLE_READ)
nav("/me/declarations", "Khai báo", "Declarations", Permission.SELF_DECLARATIONS_SUBMIT)
nav("/me/visits", "Lịch sử ra vào", "My visits", Permission.SELF_PEOPLE_READ)

#: Only a page answering with this header may be kept by the service worker for offline use.
OFFLINE_COPY = {"x-offline-copy": "safe"}


@dataclass(frozen=True)
class HealthColour:
    name: str  # neutral | green | yellow | red
    vi: str
    en: str
    reason: str = ""
    valid_until: dt.datetime | None = None


def health_colour(ctx: Services, principal: Principal, qid: str) -> HealthColour:
    """The holder's colour on their card: ``services.health.own_status`` (their own health records
    under the province's rule file, now), with its reason and until when it holds."""
    found = health.own_status(ctx, principal)
    vi, en = COLOURS.get(found.colour, COLOURS["neutral"])
    return HealthColour(found.colour, vi, en, found.reason, found.valid_until)


def served_safe_code(ctx: Services, principal: Principal, qid: str) -> str:
    """The text of the safe code this page shows and keeps offline: the *signed* safe code, exactly
    what ``GET /people/{qid}/code?masked=true`` serves (the same service call)."""
    return people.get_code(ctx, principal, qid, masked=True)


@dataclass(frozen=True)
class MyCode:
    qid: str
    name: str
    code: PersonalCode  # the full code: its values are shown only on request
    safe_text: str
    colour: HealthColour


def _my_qid(ctx: Services, principal: Principal) -> str:
    principal.require(Permission.SELF_PEOPLE_READ)
    qid = accounts.whoami(ctx, principal).qid
    if qid is None:
        raise NotFound("qid", "this account has no personal code")
    return qid


def _my_code(ctx: Services, principal: Principal) -> MyCode:
    qid = _my_qid(ctx, principal)
    person = people.get_person(ctx, principal, qid)
    code = parse(people.get_code(ctx, principal, qid))
    safe = served_safe_code(ctx, principal, qid)
    return MyCode(qid, person.full_name, code, safe, health_colour(ctx, principal, qid))


def _qr_svg(text: str) -> str:
    from unifiedqr import imaging

    return imaging.render_svg(text)


@router.get("/me")
async def my_code(request: Request, view: str = "", session: PageSession = Depends(signed_in)) -> Response:
    ctx = services_of(request)
    mine = await call(ctx, _my_code, ctx, session.principal)
    full = view == "full"
    svg = await offload(_qr_svg, mine.code.to_text() if full else mine.safe_text)
    response = render(
        request,
        "citizen/code.html",
        mine=mine,
        full=full,
        qr=inline_svg(svg),
        document=mine.code.document_number if full else mask_document(mine.code.document_number),
        birth_date=mine.code.birth_date if full else mask_birth_date(mine.code.birth_date),
    )
    if not full:
        response.headers.update(OFFLINE_COPY)
    return response


@router.get("/me/full")
async def my_full_code(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    """The full values and the full code, for the one-tap toggle (no-store; never cached)."""
    ctx = services_of(request)
    mine = await call(ctx, _my_code, ctx, session.principal)
    svg = await offload(_qr_svg, mine.code.to_text())
    body = {
        "document_number": mine.code.document_number,
        "birth_date": mine.code.birth_date,
        "qr": "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii"),
    }
    return JSONResponse(body, headers={"cache-control": "no-store", "referrer-policy": "no-referrer"})


@router.get("/me/household")
async def my_household(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    ctx = services_of(request)
    members = await call(ctx, people.household, ctx, session.principal)
    return render(request, "citizen/household.html", members=members)


@router.get("/me/visits")
async def my_visit_history(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    ctx = services_of(request)
    checkins = await call(ctx, my_visits.my_checkins, ctx, session.principal, 14)
    return render(request, "citizen/visits.html", checkins=checkins, days=14)


def _service_worker() -> bytes:
    return resources.files("unifiedqr.web").joinpath("static/js/sw.js").read_bytes()


@router.get("/sw.js")
async def service_worker() -> Response:
    """The service worker, at the root so that it may serve ``/me`` and ``/scanner/...`` offline."""
    return Response(
        _service_worker(),
        media_type="text/javascript",
        headers={"cache-control": "no-cache", "service-worker-allowed": "/"},
    )
