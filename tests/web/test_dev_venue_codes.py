"""``http://`` venue codes: accepted in development (the demo's own address), refused in production,
in the settings, the codec and the services; and the demo's codes open its own check-in page."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys

import pytest

from tests.support import OPERATOR
from unifiedqr.codes.signing import Status
from unifiedqr.codes.trust import SigningKey, TrustList
from unifiedqr.codes.venue import is_venue_url, parse_venue_url, sign_venue, verify_venue
from unifiedqr.config import Settings
from unifiedqr.errors import ConfigError, ScanRejected, VenueCodeError
from unifiedqr.services import venues
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import resolve_code

NOW = dt.datetime(2026, 1, 2, tzinfo=dt.UTC)
KEY = SigningKey.generate("Platform", NOW - dt.timedelta(days=1), 30)
TRUST = TrustList().with_key(KEY.public())


def test_the_codec_takes_http_only_when_asked() -> None:
    with pytest.raises(VenueCodeError):
        sign_venue("http://127.0.0.1:8000", "Vn8x2kQ9aZc", KEY, NOW)
    code = sign_venue("http://127.0.0.1:8000", "Vn8x2kQ9aZc", KEY, NOW, allow_http=True)
    assert code.url.startswith("http://127.0.0.1:8000/v/Vn8x2kQ9aZc/")
    assert not is_venue_url(code.url) and is_venue_url(code.url, allow_http=True)
    assert verify_venue(code.url, TRUST, NOW).status is Status.MALFORMED
    assert verify_venue(code.url, TRUST, NOW, allow_http=True).status is Status.VALID
    assert parse_venue_url(code.url, allow_http=True) == code
    with pytest.raises(VenueCodeError):
        parse_venue_url(code.url)


def test_settings_take_http_in_development_only() -> None:
    dev = Settings.from_env("sqlite://", environ={"UNIFIEDQR_VENUE_BASE_URL": "http://127.0.0.1:8000/"})
    assert dev.venues.base_url == "http://127.0.0.1:8000"
    with pytest.raises(ConfigError, match="UNIFIEDQR_VENUE_BASE_URL"):
        Settings.from_env(
            "sqlite://",
            environ={"UNIFIEDQR_ENV": "production", "UNIFIEDQR_VENUE_BASE_URL": "http://127.0.0.1:8000"},
        )
    production = Settings.from_env(
        "sqlite://",
        environ={"UNIFIEDQR_ENV": "production", "UNIFIEDQR_VENUE_BASE_URL": "https://qr.example.vn"},
    )
    with pytest.raises(ConfigError):
        production.with_venue_base_url("http://127.0.0.1:8000")
    for bad in ("ftp://x.example", "https://x.example/path", "http://", "https://" + "a" * 60 + ".vn"):
        with pytest.raises(ConfigError):
            Settings.from_env("sqlite://", environ={"UNIFIEDQR_VENUE_BASE_URL": bad})


def test_services_sign_http_codes_in_development_and_refuse_them_in_production(ctx: Services) -> None:
    dev = dataclasses.replace(ctx.settings).with_venue_base_url("http://127.0.0.1:8123")
    original = ctx.settings
    try:
        ctx.settings = dev
        venue = venues.register(
            ctx,
            OPERATOR,
            venues.VenueRegistration(
                "Dev", "shop", "Hà Nội", "Ba Đình", "Điện Biên", "1 Hoàng Diệu", "0912345670"
            ),
        )
        assert venue.code.startswith("http://127.0.0.1:8123/v/")
        assert resolve_code(ctx, venue.code, ctx.now()).public_id == venue.venue_id
        ctx.settings = dataclasses.replace(dev, env="production")
        with pytest.raises(ScanRejected):
            resolve_code(ctx, venue.code, ctx.now())
    finally:
        ctx.settings = original
        ctx.venues.forget()


def test_the_demo_prints_codes_for_its_own_address(tmp_path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "unifiedqr",
            "demo",
            "--json",
            "--no-serve",
            "--port",
            "8517",
            "--data-dir",
            str(tmp_path / "demo"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    info = json.loads(out)
    assert info["home"] == "http://127.0.0.1:8517/"
    roles = {a["role"] for a in info["accounts"]}
    assert {"citizen", "venue_owner", "venue_staff", "health_official", "administrator"} <= roles
    assert all(a["qid"] for a in info["accounts"] if a["role"] == "citizen")
    for venue in info["venues"]:
        assert set(venue) >= {"venue_id", "name", "code"}
        assert venue["code"].startswith(f"http://127.0.0.1:8517/v/{venue['venue_id']}/")
