"""Signing in and out: ``GET /`` is the sign-in page (fields ``login`` and ``password``, the same
accounts as ``POST /api/v1/auth/token``); each role then lands on its own page (:data:`HOMES`).

Also here: the short-lived bearer token a page asks for to call the JSON API
(``POST /session/api-token``). Officials land on the console (``web/console.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from unifiedqr.api.deps import address, call, offload_hashing
from unifiedqr.errors import Conflict, InvalidInput, Overloaded, TooManyRequests, Unauthenticated
from unifiedqr.services import accounts
from unifiedqr.services.auth import Permission, Role
from unifiedqr.web import sessions
from unifiedqr.web.framework import (
    HOMES,
    PageError,
    checked_form,
    home_of,
    read_form,
    redirect,
    render,
    safe_next,
    services_of,
    signed_in,
)
from unifiedqr.web.sessions import PageSession

router = APIRouter(include_in_schema=False)


def _form(
    request: Request, status: int = 200, *, error: str = "", login: str = "", next_: str = ""
) -> Response:
    ctx = services_of(request)
    nonce, new_cookie = sessions.signin_nonce(request)
    response = render(
        request,
        "signin.html",
        status,
        signin_csrf=sessions.csrf_token(ctx, nonce),
        error=error,
        login=login,
        next=safe_next(next_) or "",
    )
    if new_cookie:
        response.headers.append("set-cookie", new_cookie)
    return response


@router.get("/")
async def signin_page(request: Request, next: str | None = None) -> Response:
    session = await sessions.current(request)
    if session is not None:
        return redirect(safe_next(next) or home_of(session.principal))
    return _form(request, next_=next or "")


def _signin_allowed(request: Request, token: str | None) -> bool:
    """The sign-in form's CSRF check: its token matches the nonce cookie; or no token at all from a
    client that is not a browser (browsers send ``Origin`` and ``Sec-Fetch-Site`` with every POST,
    so a forged cross-site form always comes with them, and a script has no victim to borrow)."""
    ctx = services_of(request)
    if token is not None:
        return sessions.csrf_ok(ctx, request.cookies.get(sessions.SIGNIN_COOKIE), token)
    return "origin" not in request.headers and "sec-fetch-site" not in request.headers


@router.post("/")
async def signin_submit(request: Request) -> Response:
    form = await read_form(request)
    login, password, next_ = form.get("login", ""), form.get("password", ""), form.get("next", "")
    if not _signin_allowed(request, form.get("csrf")):
        return _form(request, 403, error="expired", login=login, next_=next_)
    ctx = services_of(request)
    try:
        # The API's own path: the log-in throttle per login and address, the bounded hashing queue.
        grant = await offload_hashing(ctx, accounts.login, ctx, login, password, address(request))
    except Unauthenticated:
        return _form(request, 401, error="wrong", login=login, next_=next_)
    except (TooManyRequests, Overloaded) as exc:
        busy = isinstance(exc, Overloaded)
        answer = _form(
            request, 503 if busy else 429, error="busy" if busy else "throttled", login=login, next_=next_
        )
        answer.headers["retry-after"] = str(exc.retry_after)
        return answer
    response = redirect(safe_next(next_) or HOMES.get(Role(grant.role), "/account"))
    sessions.start(request, response, grant.access_token)
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    session = await sessions.current(request)
    if session is not None:
        await checked_form(request, session)
    response = redirect("/?signed_out=1")
    sessions.end(request, response)
    return response


@router.post("/signout/everywhere")
async def signout_everywhere(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    """Every session and token of this account ends (``token_version`` moves on)."""
    await checked_form(request, session)
    ctx = services_of(request)
    await call(ctx, accounts.logout_everywhere, ctx, session.principal)
    response = redirect("/?signed_out=1")
    sessions.end(request, response)
    return response


@router.post("/session/api-token")
async def page_api_token(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    """A bearer token for the page's own JSON API calls (the scanner), CSRF-checked by header: a
    cross-site page cannot read the answer, nor send the header without a CORS preflight."""
    ctx = services_of(request)
    if not sessions.csrf_ok(ctx, session.claims.nonce, request.headers.get("x-csrf-token")):
        raise PageError(403, "Phiên làm việc đã thay đổi", "Bad CSRF token", "csrf")
    session.principal.require(Permission.VENUE_SCANS_SUBMIT)
    token, expires = sessions.api_token(ctx, session)
    body: dict[str, Any] = {"access_token": token, "token_type": "bearer", "expires_at": expires}
    return JSONResponse(body, headers={"cache-control": "no-store"})


def _account(request: Request, session: PageSession, status: int = 200, **extra: Any) -> Response:
    principal = session.principal
    extra.setdefault("error", None)
    return render(
        request,
        "account.html",
        status,
        role=principal.role.value,
        name=principal.name,
        has_password=principal.role is not Role.PLATFORM,
        changed=request.query_params.get("changed") == "1",
        **extra,
    )


@router.get("/account")
async def account(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    return _account(request, session)


@router.post("/account/password")
async def change_password(request: Request, session: PageSession = Depends(signed_in)) -> Response:
    """The account's own password (``accounts.change_password``, the API's path: its throttle and
    hashing queue); every other session ends, this one carries on with a fresh token."""
    form = await checked_form(request, session)
    ctx = services_of(request)
    if form.get("new_password", "") != form.get("new_password_again", ""):
        mismatch = InvalidInput("new_password_again", "the two new passwords differ")
        return _account(request, session, 422, error=mismatch)
    change = accounts.PasswordChange(form.get("current_password", ""), form.get("new_password", ""))
    try:
        grant = await offload_hashing(
            ctx, accounts.change_password, ctx, session.principal, change, address(request)
        )
    except (InvalidInput, Conflict) as exc:
        return _account(request, session, 409 if isinstance(exc, Conflict) else 422, error=exc)
    except (TooManyRequests, Overloaded) as exc:
        answer = _account(request, session, 503 if isinstance(exc, Overloaded) else 429, error=exc)
        answer.headers["retry-after"] = str(exc.retry_after)
        return answer
    response = redirect("/account?changed=1")
    sessions.start(request, response, grant.access_token)
    return response
