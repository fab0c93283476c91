"""The platform's commands: the fixed contract (create-platform, trust export), db upgrade, production
refusal, login through a live server, the demo seed, and ``serve`` as a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from platform_helpers import person_body
from sqlalchemy import select
from tests.support import create_account

from unifiedqr.cli import main
from unifiedqr.codes.trust import TrustList
from unifiedqr.config import Settings
from unifiedqr.selfcheck.server import free_port
from unifiedqr.services import people
from unifiedqr.services.auth import principal_for
from unifiedqr.services.context import Services
from unifiedqr.store.models import Account


def run(args: list[str], env: dict[str, str] | None = None, stdin: str | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args, env=env, input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_create_platform_then_trust_export_matches_the_api(tmp_path, client_for):
    url = f"sqlite:///{tmp_path / 'p.sqlite'}"
    code, out, err = run(["admin", "create-platform", "A", "--database-url", url])
    assert code == 0, err
    created = json.loads(out)
    assert created["platform_id"].startswith("plt_") and created["api_key"].startswith("uqr_")
    assert "generated issuing key" in err and str(tmp_path / "p.secrets") in err
    assert "uqr_" not in err, "secrets never go to the log"
    code, exported, _ = run(["trust", "export", "--database-url", url])
    assert code == 0
    trust = TrustList.from_json(json.loads(exported))
    assert len(trust.keys) == 1
    # the same document as GET /api/v1/trust-list on that database
    from unifiedqr.api.app import create_app

    ctx = Services(Settings.from_env(url))
    try:
        from fastapi.testclient import TestClient

        served = TestClient(create_app(ctx)).get("/api/v1/trust-list").json()
        assert served == json.loads(exported)
    finally:
        ctx.close()


def test_db_upgrade_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'x.sqlite'}"
    for _ in range(2):
        code, _, err = run(["db", "upgrade", "--database-url", url])
        assert code == 0 and "at revision" in err


def test_production_refuses_to_start_without_configured_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'prod.sqlite'}"
    code, _, err = run(
        ["admin", "create-platform", "A", "--database-url", url], env={"UNIFIEDQR_ENV": "production"}
    )
    assert code == 1 and "production" in err and "AT_REST_KEY" in err
    assert not (tmp_path / "prod.secrets").exists()
    env = {"UNIFIEDQR_ENV": "production", "UNIFIEDQR_AT_REST_KEY": "A" * 43}
    code, _, err = run(["admin", "create-platform", "A", "--database-url", url], env=env)
    assert code == 1 and "placeholder" in err
    env["UNIFIEDQR_AT_REST_KEY"] = "q3Yc8gYl1ZzX0V2mVq9cP6o5l4k3j2h1g0f9e8d7c6b"
    code, _, err = run(["admin", "create-platform", "A", "--database-url", url], env=env)
    assert code == 1 and "UNIFIEDQR_ISSUING_KEY" in err
    key_dir = tmp_path / "keys"
    assert run(["keygen", "--out", str(key_dir / "k.json"), "--issuer", "Prod", "--valid-days", "30"])[0] == 0
    env["UNIFIEDQR_ISSUING_KEY"] = str(key_dir)
    code, out, err = run(["admin", "create-platform", "A", "--database-url", url], env=env)
    assert code == 0, err
    assert "api_key" in json.loads(out)


def test_bad_settings_are_one_line_errors(tmp_path):
    code, _, err = run(["db", "upgrade"], env={"UNIFIEDQR_ENV": "staging"})
    assert code == 1 and err.startswith("error:")
    code, _, err = run(["admin", "create-platform", "A", "--database-url", "not a url"])
    assert code == 1 and err.startswith("error:")


def test_login_keeps_a_private_token_for_the_client(ctx, live_url, tmp_path):
    create_account(ctx, role="health_official", name="O", username="official", password="correct horse")
    token_path = tmp_path / "cfg" / "token.json"
    env = {"UNIFIEDQR_TOKEN_FILE": str(token_path)}
    code, _, err = run(
        ["login", "--url", live_url, "--login", "official", "--password-stdin"], env, "correct horse\n"
    )
    assert code == 0, err
    assert (token_path.stat().st_mode & 0o777) == 0o600
    from unifiedqr.client import Client
    from unifiedqr.config import ClientSettings

    with Client.from_saved_token(ClientSettings.from_env(env).token_file) as client:
        assert client.me()["role"] == "health_official"
    code, _, err = run(
        ["login", "--url", live_url, "--login", "official", "--password-stdin"], env, "wrong\n"
    )
    assert code == 1 and "wrong login or password" in err


def test_demo_seeds_a_platform_where_two_apps_share_one_qid(tmp_path):
    code, out, err = run(["demo", "--data-dir", str(tmp_path / "demo"), "--json", "--no-serve"])
    assert code == 0, err
    info = json.loads(out)
    assert len(info["platforms"]) == 2 and len(info["people"]) >= 4
    assert {a["role"] for a in info["accounts"]} >= {"administrator", "health_official", "citizen"}
    again = run(["demo", "--data-dir", str(tmp_path / "demo"), "--no-serve"])
    assert again[0] == 1 and "fresh" in again[2]


@pytest.mark.slow
def test_serve_creates_the_schema_and_an_acknowledged_registration_survives_kill_9(tmp_path):
    url = f"sqlite:///{tmp_path / 'served.sqlite'}"
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "unifiedqr.cli", "serve", "--port", str(port), "--database-url", url],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    acknowledged = []
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/api/v1/ready", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline
                time.sleep(0.1)
        assert ready.status_code == 200 and ready.json()["database"] == "sqlite"
        _, out, _ = run(["admin", "create-platform", "Live", "--database-url", url])
        key = json.loads(out)["api_key"]
        with httpx.Client(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
        ) as http:
            for _ in range(20):
                response = http.post("/api/v1/people", json=person_body())
                assert response.status_code == 201
                acknowledged.append(response.json())
    finally:
        process.kill()  # SIGKILL: no shutdown hook runs, nothing is flushed on the way out
        _, err = process.communicate(timeout=10)
    assert b"serving the platform API" in err
    ctx = Services(Settings.from_env(url))
    try:
        create_account(ctx, role="administrator", name="A", username="adm", password="correct horse")
        with ctx.db.read() as session:
            account = session.scalars(select(Account).where(Account.username == "adm")).one()
        reader = principal_for(account.id, account.public_id, account.role, account.name, None)
        for issued in acknowledged:
            assert people.get_code(ctx, reader, issued["qid"]) == issued["payload"]
    finally:
        ctx.close()
