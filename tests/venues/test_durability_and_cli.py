"""A real server process: kill -9 during a sustained batch upload loses nothing acknowledged and
duplicates nothing after the client's retries; and the command line (venue register/poster/staff,
checkin from stdin) against it."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from tests.support import OPERATOR, open_test_services
from tests.venues.venue_helpers import local_time
from unifiedqr.codes.build import build
from unifiedqr.codes.signing import sign_code
from unifiedqr.selfcheck.server import ServerProcess as Server
from unifiedqr.serialize import jsonable
from unifiedqr.services import venues
from unifiedqr.services.context import Services
from unifiedqr.store.venue_models import ScanEvent

PG_ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh database with a venue and a staff account, and a server process over it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    else:
        import psycopg

        base = request.getfixturevalue("pg_database")
        name = f"uqr_live_{secrets.token_hex(4)}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        url = base.rsplit("/", 1)[0] + "/" + name
    data = tmp_path / "secrets"
    ctx = open_test_services(url, data)
    venue = jsonable(
        venues.register(
            ctx,
            OPERATOR,
            venues.VenueRegistration("Siêu thị", "market", "HN", "HK", "HB", "1 Phố", "0911111111"),
        )
    )
    password = secrets.token_urlsafe(12)
    venues.add_staff(ctx, OPERATOR, venue["venue_id"], name="Gate", username="gate1", password=password)
    server = Server(url, data)
    server.start()
    token = httpx.post(
        server.url + "/api/v1/auth/token", json={"login": "gate1", "password": password}
    ).json()
    yield {"ctx": ctx, "server": server, "venue": venue, "token": token["access_token"], "url": url}
    server.stop()
    ctx.close()
    if request.param == "postgresql":
        import psycopg

        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def signed_codes(ctx: Services, n: int) -> list[str]:
    key = ctx.keys.current(ctx.now())
    codes = []
    for i in range(n):
        qid = str(10**17 + secrets.randbelow(9 * 10**17))
        code = build(
            document_number=f"{i + 10**11:012d}", full_name="TRAN VAN AN", birth_date="1990-01-01", qid=qid
        )
        codes.append(sign_code(code, key, ctx.now()).to_text())
    return codes


def test_kill_9_during_sustained_batch_upload_loses_and_duplicates_nothing(live):
    ctx, server = live["ctx"], live["server"]
    batches, per_batch = 24, 150
    codes = signed_codes(ctx, batches * per_batch // 2)
    headers = {"Authorization": f"Bearer {live['token']}"}
    acknowledged: set[str] = set()
    sent: set[str] = set()
    errors = 0

    def upload() -> None:
        nonlocal errors
        with httpx.Client(timeout=10) as http:
            for b in range(batches):
                scans = [
                    {
                        "idempotency_key": f"b{b}-{j}",
                        "at": local_time(1, 8 + j % 10, b % 60),
                        "text": codes[(b * per_batch + j) // 2],
                    }
                    for j in range(per_batch)
                ]
                sent.update(s["idempotency_key"] for s in scans)
                body = {"venue_id": live["venue"]["venue_id"], "device_id": "gate-1", "scans": scans}
                while True:  # the device's retry loop: same batch, same keys, until acknowledged
                    try:
                        response = http.post(server.url + "/api/v1/scan-batches", json=body, headers=headers)
                        if response.status_code == 200:
                            acknowledged.update(r["idempotency_key"] for r in response.json()["results"])
                            break
                    except httpx.TransportError:
                        pass
                    errors += 1
                    time.sleep(0.2)

    sender = threading.Thread(target=upload)
    sender.start()
    while len(acknowledged) < 5 * per_batch and sender.is_alive():
        time.sleep(0.005)
    server.kill()
    time.sleep(0.5)  # the device keeps trying against a dead server
    server.start()
    sender.join(120)
    assert not sender.is_alive()
    assert errors >= 1, "the kill must have interrupted the upload"
    assert acknowledged == sent
    with ctx.db.read() as session:
        rows = session.execute(select(ScanEvent.idempotency_key)).scalars().all()
        total = session.scalar(select(func.count()).select_from(ScanEvent))
    assert total == len(sent), "no acknowledged item lost, none duplicated"
    assert set(rows) == sent


def run_cli(
    server: Server, *args: str, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = server.env() | (env or {})
    return subprocess.run(
        [sys.executable, "-m", "unifiedqr", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=60,
    )


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_checkin_reads_stdin_line_by_line_with_a_live_count(live):
    ctx, server = live["ctx"], live["server"]
    (code,) = signed_codes(ctx, 1)
    lines = f"{code}\n\n0987654321\nnot a code\n{code}\n"
    result = run_cli(
        server,
        "checkin",
        "--venue",
        live["venue"]["venue_id"],
        "--url",
        server.url,
        "--json",
        stdin=lines,
        env={"UNIFIEDQR_TOKEN": live["token"]},
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o.get("direction", o["status"]) for o in out] == ["in", "in", "rejected", "duplicate"]
    assert out[0]["verification"] == "valid" and out[1]["visitor"]["phone"] == "098****321"
    assert "4 scanned: 2 in, 0 out, 1 duplicate, 1 rejected" in result.stderr
    assert "malformed" in result.stderr


@pytest.mark.parametrize("live", ["sqlite"], indirect=True)
def test_venue_commands_on_the_host(live, tmp_path):
    server, venue_id = live["server"], live["venue"]["venue_id"]
    db = ["--database-url", live["url"]]
    added = run_cli(
        server,
        "venue",
        "staff",
        "add",
        venue_id,
        "--name",
        "Door 2",
        "--username",
        "door2",
        "--password-stdin",
        *db,
        stdin="correct horse\n",
    )
    assert added.returncode == 0, added.stderr
    account = json.loads(added.stdout)["account_id"]
    listed = json.loads(run_cli(server, "venue", "staff", "list", venue_id, *db).stdout)
    assert {s["username"] for s in listed} == {"gate1", "door2"}
    assert run_cli(server, "venue", "staff", "remove", venue_id, account, *db).returncode == 0
    entrance = json.loads(run_cli(server, "venue", "entrance", "add", venue_id, "Cổng sau", *db).stdout)
    assert entrance["name"] == "Cổng sau"
    poster = tmp_path / "poster.pdf"
    made = run_cli(server, "venue", "poster", venue_id, "--out", str(poster), "--withdraw", *db)
    assert made.returncode == 0 and poster.read_bytes().startswith(b"%PDF"), made.stderr
    shown = json.loads(run_cli(server, "venue", "show", venue_id, *db).stdout)
    assert shown["code"] != live["venue"]["code"], "--withdraw signed a new code"
    trust = tmp_path / "trust.json"
    trust.write_text(run_cli(server, "trust", "export", *db).stdout)
    for code, status in ((shown["code"], "valid"), (live["venue"]["code"], "code_revoked")):
        checked = run_cli(server, "verify", "--trust", str(trust), "--json", code)
        assert json.loads(checked.stdout)["status"] == status


def test_register_on_a_fresh_database_creates_schema_and_keys(tmp_path):
    url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    env = dict(os.environ, UNIFIEDQR_DATA_DIR=str(tmp_path / "keys"))
    env["PYTHONPATH"] = (
        str(Path(__file__).resolve().parents[2] / "src") + os.pathsep + env.get("PYTHONPATH", "")
    )
    args = [
        "--name",
        "Quán Phở",
        "--type",
        "restaurant",
        "--province",
        "Hà Nội",
        "--district",
        "Hoàn Kiếm",
        "--commune",
        "Hàng Bạc",
        "--street",
        "1 Hàng Bạc",
        "--owner-phone",
        "0912345678",
    ]
    out = subprocess.run(
        [sys.executable, "-m", "unifiedqr", "venue", "register", *args, "--database-url", url, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert (
        result["code"].startswith("https://")
        and len(result["code"]) <= 160
        and result["venue_id"] in result["code"]
    )
    kind = subprocess.run(
        [sys.executable, "-m", "unifiedqr", "classify", result["code"]],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert kind.stdout.strip() == "venue"
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "unifiedqr",
            "venue",
            "register",
            *args[:-1],
            "12",
            "--database-url",
            url,
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert bad.returncode == 1 and bad.stderr.startswith("error: owner_phone")
