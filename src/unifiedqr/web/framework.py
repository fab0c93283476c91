"""The page framework: templates, who is signed in, forms with CSRF, security headers, error pages.

Pages are an edge like the API (docs/architecture.md): they never query the database; they call the
same services with the same principal, through ``deps.call``/``deps.offload``, and a service's
refusal becomes a page in the house style (403, 404, or the sign-in page).

**Adding a page module**: write ``unifiedqr/web/<name>.py`` with
``router = APIRouter(include_in_schema=False)``; register its menu entries with :func:`nav` (shown
to principals holding the permission) and, for a role's landing page, :data:`HOMES`; add the module
to ``api.app.PAGE_MODULES``. A route takes ``session: PageSession = Depends(signed_in)``, reaches
services with ``session.principal``, reads a POST with :func:`checked_form` (the CSRF check) and
answers with :func:`render`. A page that decodes camera frames passes ``csp=CSP_CAMERA``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from unifiedqr.api import problems
from unifiedqr.errors import PermissionDenied, Unauthenticated, UnifiedQRError
from unifiedqr.services.auth import Permission, Principal, Role
from unifiedqr.services.context import Services
from unifiedqr.web import sessions
from unifiedqr.web.sessions import PageSession

log = logging.getLogger("unifiedqr.web")

#: Every page: scripts, styles, images and fetches from this origin only; no inline script or style.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; worker-src 'self'; manifest-src 'self'; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: Pages that decode camera frames with the vendored zxing-wasm (compiling WebAssembly needs it).
CSP_CAMERA = CSP.replace("script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'")
PAGE_HEADERS = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",  # pages show personal data; URLs carry venue ids
    "permissions-policy": "camera=(self), microphone=(), geolocation=(), payment=()",
    "cache-control": "no-store",
}


# -- navigation -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class NavItem:
    path: str
    vi: str
    en: str
    permission: Permission


NAV: list[NavItem] = []
#: Where each role lands after signing in (modules fill it in).
HOMES: dict[Role, str] = {}


def nav(path: str, vi: str, en: str, permission: Permission) -> None:
    """A menu entry, shown to signed-in principals holding ``permission``."""
    NAV.append(NavItem(path, vi, en, permission))


def home_of(principal: Principal) -> str:
    return HOMES.get(principal.role, "/account")


def menu(principal: Principal | None) -> list[NavItem]:
    if principal is None:
        return []
    return [item for item in NAV if principal.can(item.permission)]


def current_item(items: list[NavItem], path: str) -> str:
    """The menu entry a page belongs to: the longest entry path that is the page's path or a parent."""
    matching = [item.path for item in items if path == item.path or path.startswith(item.path + "/")]
    return max(matching, key=len, default="")


# -- templates ------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=PackageLoader("unifiedqr.web", "templates"),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(asset=asset)
    env.filters.update(local_time=local_time, local_date=local_date)
    return env


def template_helper(name: str, function: Callable[..., Any]) -> None:
    """A function templates may call by ``name`` (a page module's formatting helper)."""
    environment().globals[name] = function


@lru_cache(maxsize=128)
def asset(path: str) -> str:
    """``/static/<path>?v=<content hash>``: a changed file gets a new URL, so caches never go stale."""
    data = resources.files("unifiedqr.web").joinpath("static", path).read_bytes()
    return f"/static/{path}?v={hashlib.sha256(data).hexdigest()[:10]}"


@pass_context
def local_time(context: Context, value: dt.datetime | None, fmt: str = "%H:%M") -> str:
    """An instant in Vietnam's time (the visit rules' offset, UTC+7 by default)."""
    return "" if value is None else (value + context["utc_offset"]).strftime(fmt)


@pass_context
def local_date(context: Context, value: dt.datetime | dt.date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = (value + context["utc_offset"]).date()
    return value.strftime("%d/%m/%Y")


def zone_label(offset: dt.timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    return f"UTC{minutes // 60:+d}" + (f":{minutes % 60:02d}" if minutes % 60 else "")


def render(
    request: Request,
    template: str,
    status: int = 200,
    *,
    csp: str | None = None,
    session: PageSession | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` with the signed-in session (menu, CSRF token) and ``context``."""
    found = session or getattr(request.state, "page_session", None)
    offset = services_of(request).venues.rules.offset
    items = menu(found.principal if found else None)
    body = (
        environment()
        .get_template(template)
        .render(
            utc_offset=offset,
            zone=zone_label(offset),
            session=found,
            csrf=found.csrf if found else "",
            menu=items,
            current=current_item(items, request.url.path),
            path=request.url.path,
            **context,
        )
    )
    return HTMLResponse(body, status_code=status, headers={"content-security-policy": csp or CSP})


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def inline_svg(svg: str) -> Markup:
    """Our own SVG markup (from ``imaging`` or ``web.chart``) for embedding: no XML declaration."""
    return Markup(svg[svg.index("<svg") :])  # noqa: S704 (generated by us from numbers, not user text)


# -- who is asking ----------------------------------------------------------------------------------
class SignInRequired(Exception):
    """No (valid) session: the sign-in page, coming back here afterwards."""


class PageError(Exception):
    """A page's own refusal, shown in the house style."""

    def __init__(self, status: int, vi: str, en: str, detail: str = "") -> None:
        super().__init__(en)
        self.status, self.vi, self.en, self.detail = status, vi, en, detail


async def signed_in(request: Request) -> PageSession:
    """The route's dependency: the signed-in session, or the sign-in page."""
    session = await sessions.current(request)
    if session is None:
        raise SignInRequired()
    return session


def services_of(request: Request) -> Services:
    ctx: Services = request.app.state.services
    return ctx


async def read_form(request: Request) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (capped by the app's body limit), first values."""
    parsed = parse_qs(
        (await request.body()).decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=60
    )
    return {key: values[0] for key, values in parsed.items()}


async def checked_form(request: Request, session: PageSession) -> dict[str, str]:
    """The POSTed form, after its CSRF token matched this session's (403 otherwise)."""
    form = await read_form(request)
    if not sessions.csrf_ok(services_of(request), session.claims.nonce, form.get("csrf")):
        raise PageError(
            403,
            "Phiên làm việc đã thay đổi, hãy thử lại",
            "The form expired or came from elsewhere; please try again",
            "csrf",
        )
    return form


def safe_next(value: str | None) -> str | None:
    """A local path to come back to after signing in (never another site: no ``//``, no scheme)."""
    if not value or len(value) > 300 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 33 for c in value):
        return None
    return value


# -- headers and errors ---------------------------------------------------------------------------
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


def is_page(path: str) -> bool:
    return not path.startswith(("/api/", "/static/"))


class SecurityHeaders:
    """Pure ASGI (no per-request cost on the API's hot path beyond a prefix test): pages get CSP,
    ``frame-ancestors``/``X-Frame-Options``, ``Referrer-Policy: no-referrer``, ``no-store`` and a
    renewed session cookie; pages and static files get ``X-Content-Type-Options: nosniff``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith("/api/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                if headers.get("content-type", "").startswith("text/html"):
                    headers.setdefault("content-security-policy", CSP)
                    for name, value in PAGE_HEADERS.items():
                        headers.setdefault(name, value)
                cookie = scope.get("state", {}).get("session_cookie")
                if cookie:
                    headers.append("set-cookie", cookie)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def error_page(request: Request, status: int, vi: str, en: str, detail: str = "") -> HTMLResponse:
    return render(request, "error.html", status, status_code=status, vi=vi, en=en, detail=detail)


_TITLES = {
    400: ("Yêu cầu không hợp lệ", "Bad request"),
    403: ("Bạn không có quyền xem trang này", "You may not see this page"),
    404: ("Không tìm thấy trang", "Page not found"),
    405: ("Không dùng được cách này", "Method not allowed"),
    409: ("Đã tồn tại", "Already exists"),
    410: ("Không còn hiệu lực", "No longer valid"),
    413: ("Dữ liệu quá lớn", "Too large"),
    422: ("Dữ liệu chưa đúng", "Please check what you entered"),
    429: ("Quá nhiều yêu cầu", "Too many requests"),
    503: ("Dịch vụ tạm thời không sẵn sàng", "Service unavailable"),
}


def _to_sign_in(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect("/?next=" + quote(target, safe="/")) if request.method == "GET" else redirect("/")


async def _delegate(handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
    """The API's own handler for a path that is not a page (it may be sync or async)."""
    answer = handler(request, exc)
    if inspect.isawaitable(answer):
        answer = await answer
    assert isinstance(answer, Response)
    return answer


def install(app: FastAPI) -> None:
    """Security headers and HTML error pages for page paths (after ``problems.install``: API paths
    keep their problem details, the handlers below hand them back)."""
    app.add_middleware(SecurityHeaders)
    handlers = app.exception_handlers
    api_ours = handlers[UnifiedQRError]
    api_http = handlers[StarletteHTTPException]
    api_validation = handlers[RequestValidationError]

    async def ours(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path):
            return await _delegate(api_ours, request, exc)
        assert isinstance(exc, UnifiedQRError)
        if isinstance(exc, Unauthenticated):
            return _to_sign_in(request)
        status = problems.for_exception(exc).status_code
        vi, en = _TITLES.get(status, _TITLES[400])
        detail = "" if isinstance(exc, PermissionDenied) or status == 503 else exc.reason
        return error_page(request, status, vi, en, detail)

    async def http(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path):
            return await _delegate(api_http, request, exc)
        assert isinstance(exc, StarletteHTTPException)
        vi, en = _TITLES.get(exc.status_code, _TITLES[400])
        return error_page(request, exc.status_code, vi, en)

    async def validation(request: Request, exc: Exception) -> Response:
        if not is_page(request.url.path):
            return await _delegate(api_validation, request, exc)
        return error_page(request, 422, *_TITLES[422])

    async def page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        return error_page(request, exc.status, exc.vi, exc.en, exc.detail)

    async def sign_in(request: Request, exc: Exception) -> Response:
        return _to_sign_in(request)

    app.add_exception_handler(UnifiedQRError, ours)
    app.add_exception_handler(StarletteHTTPException, http)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(PageError, page_error)
    app.add_exception_handler(SignInRequired, sign_in)
