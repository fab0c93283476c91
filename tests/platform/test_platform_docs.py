"""The API docs page works with no internet: Swagger UI is served from the package, never a CDN
(the browser test in tests/browser proves it renders; this one runs without Chromium)."""

from __future__ import annotations

import re
import warnings
from typing import Any

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def test_docs_page_loads_only_vendored_assets(app: Any) -> None:
    http = TestClient(app)
    page = http.get("/api/v1/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text) + re.findall(
        r"url: '([^']+)'", page.text
    )
    assert set(assets) == {
        "/static/vendor/swagger-ui/swagger-ui.css",
        "/static/vendor/swagger-ui/favicon-32x32.png",
        "/static/vendor/swagger-ui/swagger-ui-bundle.js",
        "/api/v1/openapi.json",
    }, assets
    for asset in assets:
        assert http.get(asset).status_code == 200, asset
    assert http.get("/static/vendor/swagger-ui/LICENSE").status_code == 200
