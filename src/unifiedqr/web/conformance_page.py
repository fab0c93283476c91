"""The public list's page: ``/conformance``, the approved apps for people to read.

It is rendered from the very document ``GET /api/v1/conformance/apps`` serves (the published, signed
list), so the page and the feed never disagree; the page links the feed and says how to verify a
copy. Plain HTML on the check-in page's template: no JavaScript, readable on any phone.
"""

from __future__ import annotations

import html
import json
from functools import lru_cache
from importlib import resources
from string import Template
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from unifiedqr.api.deps import call, services
from unifiedqr.services import conformance_list
from unifiedqr.services.context import Services

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _template() -> Template:
    """The check-in page's template (one look for the platform's few public pages)."""
    return Template(resources.files("unifiedqr.web").joinpath("templates/checkin.html").read_text("utf-8"))


_STYLE = (
    '<div class="table-wrap"><table>'
    "<thead><tr>"
    "<th>Ứng dụng · App</th><th>Phiên bản · Version</th><th>Ngày duyệt · Approved</th></tr></thead>"
)


def _row(app: dict[str, Any]) -> str:
    report = app.get("report", {})
    warnings = report.get("counts", {}).get("warning", 0)
    codes = html.escape(", ".join(report.get("codes", [])))
    note = f"<br><small>{warnings} cảnh báo · warnings: {codes}</small>" if warnings else ""
    name, vendor = html.escape(app["name"]), html.escape(app["vendor"])
    return (
        "<tr>"
        f"<td><strong>{name}</strong><br><small>{vendor}</small>{note}</td>"
        f"<td>{html.escape(app['version'])}</td><td>{html.escape(app['date'])}</td></tr>"
    )


def render(published: conformance_list.PublishedList) -> str:
    document = json.loads(published.document)
    apps = document["apps"]
    if apps:
        body = _STYLE + "<tbody>" + "".join(_row(a) for a in apps) + "</tbody></table></div>"
    else:
        body = '<div class="box warn">Chưa có ứng dụng nào được duyệt · No app is approved yet.</div>'
    how = (
        '<p><small>Bản JSON ký số · Signed JSON feed: <a href="/api/v1/conformance/apps">'
        "/api/v1/conformance/apps</a>. Kiểm tra bản sao · Verify a copy: <code>unifiedqr conformance "
        'verify-list LIST.json --trust TRUST.json</code> (<a href="/api/v1/trust-list">trust list</a>).'
        "</small></p>"
    )
    issued = (
        f"{html.escape(document['issuer'])} · {html.escape(document['issued_at'])} · "
        f"sequence {int(document['sequence'])}"
    )
    return _template().substitute(
        title="Ứng dụng đạt chuẩn · Approved apps",
        heading="Ứng dụng đạt chuẩn · Approved apps",
        address=issued,
        message=body + how,
        form="",
        footer="conformance",
    )


@router.get("/conformance", response_class=HTMLResponse)
async def conformance_page(ctx: Services = Depends(services)) -> HTMLResponse:
    published = await call(ctx, conformance_list.current, ctx)
    headers = {"Cache-Control": "public, max-age=60", "ETag": published.etag}
    return HTMLResponse(render(published), headers=headers)
