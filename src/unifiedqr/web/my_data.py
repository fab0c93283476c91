"""The citizen's own data: who looked at it, and the consent requests of other apps.

**Who looked at my data** (``/me/access``) is ``services.access_log.access_log`` in words: spec §9
says the holder can see who read their data and why. The service decides what is listed (officials'
look-ups and reads, venue owners' day views, tracing, apps' consent requests); door scans are not
there, they are the person's visit history (``/me/visits``).

**Consent requests** (``/me/consents``) are ``services.consents.for_holder``: an app that meets a
person another app registered must have their consent (issue 10). The holder, or the household
member who declared for them, approves or declines here (``consents.decide``, the API's
``POST /me/consents/{id}/approve|refuse``); the one-time SMS code given to the app is the other way
to agree. Actor and app names are user-controlled text: the templates only ever autoescape them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from unifiedqr.api.deps import call
from unifiedqr.errors import Conflict, Gone, NotFound
from unifiedqr.services import access_log, accounts, consents
from unifiedqr.services.audit import ACCESS_LOG
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.web.framework import PageError, checked_form, nav, redirect, render, services_of, signed_in
from unifiedqr.web.sessions import PageSession
from unifiedqr.web.words import PURPOSE_WORDS, ROLES, Words, words

router = APIRouter(include_in_schema=False)

nav("/me/access", "Ai đã xem", "Who looked", Permission.SELF_ACCESS_LOG_READ)
nav("/me/consents", "Yêu cầu đồng ý", "Consents", Permission.SELF_CONSENTS_DECIDE)

#: What was read: every ``what`` of :data:`unifiedqr.services.audit.ACCESS_LOG`.
WHAT: dict[str, Words] = {
    "lookup": ("Tra cứu mã QR", "Looked up your code"),
    "record": ("Hồ sơ cá nhân", "Your personal record"),
    "code": ("Mã QR cá nhân", "Your personal code"),
    "declarations": ("Tờ khai", "Your declarations"),
    "venue_history": ("Lượt ra vào tại địa điểm", "Your visit to their venue"),
    "tracing": ("Hồ sơ truy vết", "Contact tracing"),
    "export": ("Xuất danh sách truy vết", "Exported in a tracing list"),
    "consent_request": ("Yêu cầu đồng ý", "Consent request"),
    "consent_decision": ("Quyết định về yêu cầu đồng ý", "Consent decision"),
}
assert set(WHAT) == set(ACCESS_LOG.values())

#: A consent request's status, and its pill's colour.
STATUS: dict[str, tuple[str, str, str]] = {
    consents.PENDING: ("Đang chờ bạn", "Waiting for you", "yellow"),
    consents.APPROVED: ("Đã đồng ý", "Approved", "green"),
    consents.REFUSED: ("Đã từ chối", "Declined", "red"),
    consents.VOIDED: ("Đã hủy (nhập sai mã 5 lần)", "Void (5 wrong codes)", ""),
    consents.EXPIRED: ("Đã hết hạn", "Expired", ""),
}
DONE = {
    "approved": ("Bạn đã đồng ý.", "You approved the request."),
    "declined": ("Bạn đã từ chối.", "You declined the request."),
}


@dataclass(frozen=True)
class AccessRow:
    at: dt.datetime
    actor: str
    role: Words
    purpose: Words
    what: Words


def access_rows(entries: list[access_log.AccessEntry]) -> list[AccessRow]:
    return [
        AccessRow(e.at, e.actor, words(ROLES, e.role), words(PURPOSE_WORDS, e.purpose), words(WHAT, e.what))
        for e in entries
    ]


@router.get("/me/access")
async def who_looked(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    ctx = services_of(request)
    entries = await call(ctx, access_log.access_log, ctx, session.principal)
    return render(request, "citizen/access.html", rows=access_rows(entries))


# -- consent requests -----------------------------------------------------------------------------
def _requests(ctx: Services, principal: Principal) -> tuple[list[consents.HolderConsent], str | None]:
    """The requests (the permission check first), and the holder's own QID (to say "me")."""
    found = consents.for_holder(ctx, principal)
    return found, accounts.whoami(ctx, principal).qid


async def _consents_page(
    request: Request, session: PageSession, status: int = 200, error: Words | None = None
) -> Response:
    ctx = services_of(request)
    found, mine = await call(ctx, _requests, ctx, session.principal)
    return render(
        request,
        "citizen/consents.html",
        status,
        requests=found,
        mine=mine,
        statuses=STATUS,
        done=DONE.get(request.query_params.get("done", "")),
        error=error,
    )


@router.get("/me/consents")
async def consent_requests(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    return await _consents_page(request, session)


@router.post("/me/consents/{consent_id}")
async def decide(consent_id: str, request: Request, session: PageSession = Depends(signed_in)) -> Response:
    form = await checked_form(request, session)
    decision = form.get("decision")
    if decision not in ("approve", "decline"):
        raise PageError(422, "Hãy chọn Đồng ý hoặc Từ chối", "Choose Approve or Decline", "decision")
    ctx = services_of(request)
    try:
        await call(ctx, consents.decide, ctx, session.principal, consent_id, decision == "approve")
    except Gone:
        return await _consents_page(
            request,
            session,
            410,
            (
                "Yêu cầu này đã hết hạn hoặc đã bị hủy; ứng dụng cần gửi yêu cầu mới.",
                "This request has expired or was voided; the app must ask again.",
            ),
        )
    except Conflict:
        return await _consents_page(
            request,
            session,
            409,
            ("Yêu cầu này đã được trả lời trước đó.", "This request was already answered."),
        )
    except NotFound:
        return await _consents_page(
            request, session, 404, ("Không tìm thấy yêu cầu này.", "No such request.")
        )
    return redirect("/me/consents?done=" + ("approved" if decision == "approve" else "declined"))
