"""The smaller findings of issue 10 (#7), one regression test each; the docstring names the finding."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from platform_helpers import person_body
from tests.support import create_account, open_test_services

SRC = Path(__file__).resolve().parents[2] / "src"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_database_files_are_private(tmp_path):
    """#7: the database, -wal and -shm files were 0644 in a 0755 directory; now 0600 in 0700."""
    home = tmp_path / "fresh" / "data"
    url = f"sqlite:///{home / 'platform.sqlite'}"
    ctx = open_test_services(url, tmp_path / "secrets")
    try:
        with ctx.db.write() as session:
            session.execute(__import__("sqlalchemy").text("CREATE TABLE IF NOT EXISTS probe (x)"))
        files = [home / name for name in ("platform.sqlite", "platform.sqlite-wal", "platform.sqlite-shm")]
        files.append(home / "platform.writelock")
        for path in files:
            assert path.exists() and mode(path) == 0o600, path
        assert mode(home) == 0o700 and mode(home.parent) == 0o700, "directories created for it"
    finally:
        ctx.close()


def test_an_existing_world_readable_database_is_tightened(tmp_path):
    """#7: a database file left 0644 in a 0755 directory by an earlier version: 0600 in 0700 on opening."""
    home = tmp_path / "old"
    home.mkdir()
    os.chmod(home, 0o755)  # noqa: S103 (the old, too open mode under test)
    path = home / "old.sqlite"
    path.touch()
    os.chmod(path, 0o644)
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    os.chmod(secrets_dir, 0o755)  # noqa: S103
    ctx = open_test_services(f"sqlite:///{path}", secrets_dir)
    ctx.close()
    assert (mode(path), mode(home), mode(secrets_dir)) == (0o600, 0o700, 0o700)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_access_log_prints_each_request(tmp_path):
    """#7: ``serve --access-log`` printed nothing (uvicorn logs access lines at INFO, we ran at WARNING)."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "UNIFIEDQR_DATA_DIR": str(tmp_path / "secrets")}
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "unifiedqr",
            "serve",
            "--port",
            str(port),
            "--database-url",
            url,
            "--access-log",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
                time.sleep(0.1)
        httpx.get(f"http://127.0.0.1:{port}/api/v1/trust-list", timeout=5)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=15)
    assert re.search(r'"GET /api/v1/trust-list HTTP/1\.1" 200', output), output[-2000:]


def test_passwords_keep_their_spaces_at_creation_and_at_login(ctx, make_user, client_for):
    """#7: surrounding whitespace was stripped from a password at creation but not at log-in."""
    admin = make_user("administrator")
    created = admin.raw(
        "POST",
        "/accounts",
        json={"role": "health_official", "name": " N ", "username": "spaced", "password": "  two spaces  "},
    )
    assert created.status_code == 201
    anon = client_for(None)
    assert (
        anon.raw("POST", "/auth/token", json={"login": "spaced", "password": "two spaces"}).status_code == 401
    )
    exact = anon.raw("POST", "/auth/token", json={"login": " spaced ", "password": "  two spaces  "})
    assert exact.status_code == 200, "the login name is trimmed, the password is taken as typed"


def test_withdrawing_a_venue_code_is_limited(ctx, make_user, anon):
    """#7: each withdrawal grows the public trust list; now at most 5 per venue in 30 days (a limit)."""
    owner = make_user("venue_owner")
    venue = owner.register_venue(
        name="Quán",
        type="shop",
        province="Hà Nội",
        district="Hoàn Kiếm",
        commune="Hàng Bạc",
        street="1",
        owner_phone="0912345678",
    )
    before = len(anon.trust_list()["revoked_codes"])
    for _ in range(5):
        assert owner.raw("POST", f"/venues/{venue['venue_id']}/code/withdraw").status_code == 200
    refused = owner.raw("POST", f"/venues/{venue['venue_id']}/code/withdraw")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 29 * 86400
    assert len(anon.trust_list()["revoked_codes"]) == before + 5


@pytest.mark.parametrize("path", ["/checkins", "/venues/V/scans", "/scan-batches"])
def test_scan_endpoints_authenticate_before_they_validate(anon, path):
    """#7: /checkins and /scans validated the body first: an anonymous caller learnt the body's rules (422)."""
    for body in ({}, {"venue_code": 5, "text": [], "at": "yesterday"}, {"unexpected": True}):
        response = anon.raw("POST", path, json=body)
        assert response.status_code == 401, (path, body, response.text)
    bad_key = anon.raw("POST", path, json={}, headers={"Authorization": "Bearer uqr_nope"})
    assert bad_key.status_code == 401


def _fill(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x123", path)


def test_every_body_endpoint_refuses_unknown_fields(app, make_user, make_platform):
    """#7: POST /people accepted unknown fields while scan bodies refused them; one rule: refused."""
    callers: dict[str, Any] = {
        "admin": make_user("administrator"),
        "platform": make_platform(),
        "official": make_user("health_official"),
    }
    checked = []
    for path, operations in app.openapi()["paths"].items():
        for method, operation in operations.items():
            if "requestBody" not in operation:
                continue
            short = path.removeprefix("/api/v1")
            caller = (
                callers["official"]
                if short.endswith("/health-records")
                else callers["platform"]
                if short.startswith(("/people", "/consents", "/checkins"))
                else callers["admin"]
            )
            body = {"unexpected_field": 1}
            if short == "/scan-batches":
                body = {"venue_id": "v", "device_id": "d", "scans": [], "unexpected_field": 1}
            if short.endswith("/health-records"):  # a union by kind: name one, so the extra is found
                body = {"kind": "recovery", "date": "2026-11-01", "unexpected_field": 1}
            response = caller.raw(method.upper(), _fill(short), json=body)
            assert response.status_code == 422, (method, short, response.text)
            fields = [e["field"] for e in response.json()["errors"]]
            assert any("unexpected_field" in f for f in fields), (method, short, fields)
            checked.append((method, short))
    assert len(checked) >= 15 and ("post", "/people") in checked


def test_people_registration_with_an_unknown_field_is_refused_not_ignored(make_platform):
    """#7, the case that was found: a typo in a registration field was silently dropped."""
    response = make_platform().raw("POST", "/people", json=person_body(phone_number="0944713700"))
    assert response.status_code == 422 and response.json()["field"] == "phone_number"


def test_an_account_created_by_the_host_keeps_the_spaces_too(ctx, anon):
    """#7: the service layer takes the password exactly as given, whatever the edge."""
    create_account(ctx, role="health_official", name="N", password=" lead and trail ", username="hostmade")
    assert (
        anon.raw(
            "POST", "/auth/token", json={"login": "hostmade", "password": " lead and trail "}
        ).status_code
        == 200
    )


def test_host_operator_acts_are_audited_by_name(ctx, make_user):
    """The threat model's "curious staff" row: the host operator withdraws a poster, audited by name."""
    from sqlalchemy import select
    from tests.support import OPERATOR

    from unifiedqr.services import venues
    from unifiedqr.store.models import AuditEvent

    owner = make_user("venue_owner")
    venue = owner.register_venue(
        name="Quán",
        type="shop",
        province="Hà Nội",
        district="Hoàn Kiếm",
        commune="Hàng Bạc",
        street="1",
        owner_phone="0912345678",
    )
    venues.withdraw_code(ctx, OPERATOR, venue["venue_id"])
    with ctx.db.read() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "venue.code_withdrawn")).one()
    assert (event.role, event.actor, event.account_id) == ("operator", "operator:tests@localhost", None)
