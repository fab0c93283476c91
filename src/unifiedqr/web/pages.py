"""The check-in page at a venue code's URL: ``/v/<venue id>/<signature>``.

A phone's plain camera opens this URL; the page checks the code exactly as an offline verifier
would (a withdrawn or forged poster says so by name), then offers a one-field form: the person's
personal code text (a USB scanner types it and presses Enter) or a phone number for people
without a code, like the national web declaration did. The full pages come with a later issue;
this one is deliberately plain HTML that works on any phone without JavaScript.

What the page says after a submission is the same for everyone (issue 10 #6): no name, no phone,
no "checked in" or "checked out", no colour, since anyone can type anyone's phone number or paste
anyone's code here, and the answer must not tell whether that person was at the venue. Too many
submissions from one address get 429 with ``Retry-After``.
"""

from __future__ import annotations

import html
from functools import lru_cache
from importlib import resources
from string import Template
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from unifiedqr.api.deps import address, call, services
from unifiedqr.errors import InvalidInput, ScanRejected, TooManyRequests
from unifiedqr.services import checkins
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import VenueInfo, resolve_code
from unifiedqr.web import landing

router = APIRouter(include_in_schema=False)

_FORM = """<form method="post">
<label for="code">Mã QR cá nhân / Personal code</label>
<textarea id="code" name="code" rows="3" autofocus autocomplete="off"></textarea>
<label for="phone">hoặc số điện thoại / or phone number</label>
<input id="phone" name="phone" inputmode="tel" autocomplete="tel" maxlength="20">
<button type="submit">Khai báo vào/ra · Check in/out</button>
</form>"""


@lru_cache(maxsize=1)
def _template() -> Template:
    return Template(resources.files("unifiedqr.web").joinpath("templates/checkin.html").read_text("utf-8"))


def _page(
    status: int,
    heading: str,
    where: str = "",
    message: str = "",
    form: str = "",
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    body = _template().substitute(
        title=html.escape(heading),
        heading=html.escape(heading),
        address=html.escape(where),
        message=message,
        form=form,
        footer="check-in",
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _box(kind: str, text: str) -> str:
    return f'<div class="box {kind}">{html.escape(text)}</div>'


def _venue(ctx: Services, venue_id: str, signature: str) -> VenueInfo | HTMLResponse:
    info = ctx.venues.venue(venue_id)
    if info is None:
        return _page(404, "Mã không hợp lệ · Unknown venue", message=_box("bad", "unknown_venue"))
    try:
        return resolve_code(ctx, f"{info.code_base_url}/v/{venue_id}/{signature}", ctx.now())
    except ScanRejected as exc:
        return _page(422, "Mã không hợp lệ · Invalid venue code", message=_box("bad", exc.reason))


def _address(info: VenueInfo) -> str:
    province, district, commune, street = info.address
    return f"{street}, {commune}, {district}, {province}"


@router.get("/v/{venue_id}/{signature}", response_class=HTMLResponse)
async def checkin_page(
    venue_id: str, signature: str, request: Request, ctx: Services = Depends(services)
) -> HTMLResponse:
    found = await call(ctx, _venue, ctx, venue_id, signature)
    if isinstance(found, HTMLResponse):
        return found
    # Issue 16: signing in and the camera, beside this form (web/landing.py).
    return _page(200, found.name, _address(found), form=_FORM + await landing.options(request, found))


@router.post("/v/{venue_id}/{signature}", response_class=HTMLResponse)
async def checkin_submit(
    venue_id: str, signature: str, request: Request, ctx: Services = Depends(services)
) -> HTMLResponse:
    form = parse_qs((await request.body()).decode("utf-8", "replace"), max_num_fields=10)
    text = (form.get("code") or [""])[0].strip() or None
    phone = (form.get("phone") or [""])[0].strip() or None
    return await call(ctx, _submit, ctx, venue_id, signature, text, phone, address(request))


def _submit(
    ctx: Services, venue_id: str, signature: str, text: str | None, phone: str | None, client: str
) -> HTMLResponse:
    found = _venue(ctx, venue_id, signature)
    if isinstance(found, HTMLResponse):
        return found
    try:
        result = checkins.web_checkin(ctx, found, text, phone, client)
    except TooManyRequests as exc:
        retry = {"Retry-After": str(exc.retry_after)}
        message = _box(
            "bad", f"Quá nhiều lượt · Too many check-ins from here; try again in {exc.retry_after} s"
        )
        return _page(429, found.name, _address(found), message, headers=retry)
    except InvalidInput as exc:
        return _page(422, found.name, _address(found), _box("bad", exc.reason), _FORM)
    rules = ctx.venues.rules
    when = (result.occurred_at + rules.offset).strftime("%H:%M")
    zone = f"UTC{rules.utc_offset_minutes // 60:+d}" if rules.utc_offset_minutes % 60 == 0 else "local"
    # One answer for everyone: nothing here depends on who was named (see the module docstring).
    done = f"Đã ghi nhận · Recorded ({when} {zone}). Cảm ơn · Thank you."
    return _page(201, found.name, _address(found), _box("ok", done), _FORM)
