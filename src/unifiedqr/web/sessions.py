"""Web page sessions: a signed cookie bound to the account's ``token_version``, and CSRF tokens.

Why a signed cookie rather than a session table (docs/decisions.md, "Web pages"): the platform's
bearer tokens are already stateless HMAC claims checked against ``token_version``, and a session is
the same idea with a different audience. Nothing is written per sign-in or per page view, every
worker process checks a cookie with the keys it already has, and no migration is needed. Logging
out clears the cookie in this browser; "log out everywhere" (and anything else that bumps
``token_version``: a removed staff account, a password change) voids every session and token at
once. The price of statelessness, a copied cookie that works until it expires, is bounded by the
idle lifetime (``UNIFIEDQR_SESSION_TTL``, 8 h, renewed while in use) and the absolute one
(``UNIFIEDQR_SESSION_MAX_AGE``, 7 days).

Separate from API tokens: the cookie is ``uqs1.<claims>.<MAC>`` with its own MAC domain, resolved
only by :meth:`Services.session_principal` (never by the ``Authorization`` header), and an API token
is never accepted as a cookie. Pages that call the JSON API (the scanner) ask for a short-lived
bearer token with :func:`api_token` instead, so the API's own authentication is unchanged.

CSRF: every form carries ``csrf``, an HMAC of the session's random nonce (the synchronizer token
pattern without server state); every POST is checked. The cookie is ``HttpOnly``, ``SameSite=Lax``
(Strict would drop it when a phone's camera app opens a venue code's URL, so the signed-in check-in
would ask to sign in again) and ``Secure`` over https or in production. The sign-in form is protected
the same way with a nonce in a short-lived anonymous cookie.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from starlette.requests import Request
from starlette.responses import Response

from unifiedqr.api.deps import call
from unifiedqr.errors import Unauthenticated
from unifiedqr.services.auth import Principal, issue_token, read_token

if TYPE_CHECKING:
    from unifiedqr.services.context import Services

COOKIE = "uqr_session"
SIGNIN_COOKIE = "uqr_signin"
_PREFIX = "uqs1."
_MAX_COOKIE = 400
SIGNIN_SECONDS = 3600
#: Bearer tokens handed to the scanner page (minutes, not the API's hour: it asks again).
PAGE_TOKEN_SECONDS = 15 * 60
_UNSET = object()


@dataclass(frozen=True)
class SessionClaims:
    account_id: int
    token_version: int
    signed_in_at: int
    expires_at: int
    nonce: str  # random: the session's id (cache key) and the seed of its CSRF token


@dataclass(frozen=True)
class PageSession:
    """A signed-in browser: who (``principal``), the form token, and the cookie's claims."""

    principal: Principal
    csrf: str
    claims: SessionClaims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(ctx: Services, domain: bytes, message: str) -> bytes:
    # Vault.sign_token prefixes "token\0"; the domain keeps cookie MACs apart from bearer tokens.
    return ctx.vault.sign_token(domain + b"\x00" + message.encode("ascii"))


def encode(ctx: Services, claims: SessionClaims) -> str:
    body = _b64(
        json.dumps(
            {
                "a": claims.account_id,
                "v": claims.token_version,
                "s": claims.signed_in_at,
                "e": claims.expires_at,
                "n": claims.nonce,
            },
            separators=(",", ":"),
        ).encode("ascii")
    )
    return f"{_PREFIX}{body}.{_b64(_mac(ctx, b'session', body))}"


def decode(ctx: Services, value: str | None, now: float | None = None) -> SessionClaims | None:
    """The claims of a genuine, unexpired session cookie; None for anything else."""
    if not value or len(value) > _MAX_COOKIE or not value.startswith(_PREFIX):
        return None
    body, sep, mac = value[len(_PREFIX) :].partition(".")
    try:
        if not sep or not hmac.compare_digest(_unb64(mac), _mac(ctx, b"session", body)):
            return None
        data = json.loads(_unb64(body))
        claims = SessionClaims(int(data["a"]), int(data["v"]), int(data["s"]), int(data["e"]), str(data["n"]))
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        return None
    now = time.time() if now is None else now
    if claims.expires_at < now or claims.signed_in_at + ctx.settings.web.session_max_age_seconds < now:
        return None
    return claims


def new_claims(ctx: Services, bearer_token: str) -> SessionClaims:
    """A session for the account a just-verified login token names (``accounts.login``'s grant)."""
    account_id, version = read_token(ctx.vault, bearer_token)
    now = int(time.time())
    ttl = ctx.settings.web.session_ttl_seconds
    return SessionClaims(account_id, version, now, now + ttl, secrets.token_urlsafe(16))


def renewed(ctx: Services, claims: SessionClaims, now: float | None = None) -> SessionClaims | None:
    """The claims with the idle window slid forward once half of it has passed (else None)."""
    now = int(time.time() if now is None else now)
    ttl = ctx.settings.web.session_ttl_seconds
    if claims.expires_at - now > ttl // 2:
        return None
    last = claims.signed_in_at + ctx.settings.web.session_max_age_seconds
    return SessionClaims(
        claims.account_id, claims.token_version, claims.signed_in_at, min(now + ttl, last), claims.nonce
    )


def csrf_token(ctx: Services, nonce: str) -> str:
    return _b64(_mac(ctx, b"csrf", nonce))[:32]


def csrf_ok(ctx: Services, nonce: str | None, given: str | None) -> bool:
    if not nonce or not given or len(given) > 64:
        return False
    return hmac.compare_digest(csrf_token(ctx, nonce).encode("ascii"), given.encode("ascii", "replace"))


# -- the request side ---------------------------------------------------------------------------
def _ctx(request: Request) -> Services:
    ctx: Services = request.app.state.services
    return ctx


async def current(request: Request) -> PageSession | None:
    """The request's signed-in session, or None (no cookie, forged, expired, or voided)."""
    found = getattr(request.state, "page_session", _UNSET)
    if found is not _UNSET:
        return cast("PageSession | None", found)
    ctx = _ctx(request)
    claims = decode(ctx, request.cookies.get(COOKIE))
    session = None
    if claims is not None:
        try:
            principal = await call(
                ctx, ctx.session_principal, claims.nonce, claims.account_id, claims.token_version
            )
        except Unauthenticated:
            principal = None
        if principal is not None:
            session = PageSession(principal, csrf_token(ctx, claims.nonce), claims)
            fresh = renewed(ctx, claims)
            if fresh is not None:  # the headers middleware sets it on whatever the page answers
                request.state.session_cookie = cookie_header(request, encode(ctx, fresh), ctx)
    request.state.page_session = session
    return session


def secure(request: Request, ctx: Services) -> bool:
    return request.url.scheme == "https" or ctx.settings.production


def cookie_header(request: Request, value: str, ctx: Services, name: str = COOKIE, max_age: int = 0) -> str:
    """A ``Set-Cookie`` value: HttpOnly, SameSite=Lax, Path=/, Secure over https or in production."""
    age = max_age or ctx.settings.web.session_ttl_seconds
    flags = f"{name}={value}; Path=/; Max-Age={age}; HttpOnly; SameSite=Lax"
    return flags + ("; Secure" if secure(request, ctx) else "")


def start(request: Request, response: Response, bearer_token: str) -> None:
    """Sign the browser in (the account of a login token just issued by ``accounts.login``)."""
    ctx = _ctx(request)
    value = encode(ctx, new_claims(ctx, bearer_token))
    response.headers.append("set-cookie", cookie_header(request, value, ctx))
    response.headers.append("set-cookie", clear_header(request, ctx, SIGNIN_COOKIE))


def clear_header(request: Request, ctx: Services, name: str = COOKIE) -> str:
    flags = f"{name}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
    return flags + ("; Secure" if secure(request, ctx) else "")


def end(request: Request, response: Response) -> None:
    """Sign this browser out (the cookie goes; other browsers keep theirs: see ``log out everywhere``)."""
    request.state.session_cookie = None  # a renewal found earlier in this request must not follow
    response.headers.append("set-cookie", clear_header(request, _ctx(request)))


def signin_nonce(request: Request) -> tuple[str, str | None]:
    """The sign-in form's nonce: ``(nonce, Set-Cookie value if a new one was made)``."""
    ctx = _ctx(request)
    existing = request.cookies.get(SIGNIN_COOKIE)
    if existing and 16 <= len(existing) <= 64 and existing.replace("-", "").replace("_", "").isalnum():
        return existing, None
    nonce = secrets.token_urlsafe(16)
    return nonce, cookie_header(request, nonce, ctx, SIGNIN_COOKIE, SIGNIN_SECONDS)


def api_token(ctx: Services, session: PageSession) -> tuple[str, int]:
    """A short-lived bearer token for the page's own calls to the JSON API (the scanner)."""
    claims = session.claims
    return issue_token(ctx.vault, claims.account_id, claims.token_version, PAGE_TOKEN_SECONDS)
