"""Crash drills: ``kill -9`` a real server (or a host command) mid-work, restart, count what survived.

The promise under test: what the server acknowledged is durable, and a client retrying with the same
idempotency key lands once. Each drill reports items acknowledged, stored, lost (acknowledged but not
stored) and duplicated (stored more than once); the last two must be zero.
"""

from __future__ import annotations

import datetime as dt
import secrets
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

import httpx
from sqlalchemy import func, select

from unifiedqr.selfcheck.server import ServerProcess
from unifiedqr.selfcheck.world import OPERATOR, World, build_world
from unifiedqr.services import accounts, registry
from unifiedqr.store.models import Person
from unifiedqr.store.venue_models import ScanEvent


@dataclass(frozen=True)
class DrillReport:
    name: str
    acknowledged: int
    stored: int
    lost: int
    duplicated: int
    kills: int


def _document() -> str:
    return "0" + "".join(secrets.choice("0123456789") for _ in range(11))


def registration_drill(world: World, registrations: int = 60) -> DrillReport:
    """Registrations through HTTP; the server is killed once mid-stream and restarted."""
    key = accounts.create_platform(world.ctx, OPERATOR, "Drill platform").api_key
    server = ServerProcess(world.database_url, world.ctx.settings.data_dir)
    server.start()
    acknowledged: dict[str, str] = {}
    kills = 0
    try:
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10
        ) as http:
            for index in range(registrations):
                body = {
                    "document_number": _document(),
                    "full_name": "Phạm Thu Hà",
                    "birth_date": "1995-05-05",
                }
                while True:
                    try:
                        response = http.post("/api/v1/people", json=body)
                        if response.status_code in (200, 201):
                            acknowledged[response.json()["qid"]] = response.json()["payload"]
                            break
                    except httpx.TransportError:
                        time.sleep(0.1)
                if index == registrations // 2:
                    server.kill()
                    kills += 1
                    server.start()
    finally:
        server.stop()
    with world.ctx.db.read() as session:
        stored = {
            qid for (qid,) in session.execute(select(Person.qid).where(Person.qid.in_(list(acknowledged))))
        }
        total = session.scalar(select(func.count()).select_from(Person)) or 0
    lost = len(set(acknowledged) - stored)
    duplicated = max(0, total - 1 - len(acknowledged))  # the world's own person is the 1
    return DrillReport("registration", len(acknowledged), len(stored), lost, duplicated, kills)


def batch_drill(world: World, batches: int = 12, per_batch: int = 100) -> DrillReport:
    """An offline device uploading day batches, retrying each until acknowledged; one kill mid-way."""
    staff_token = world.credentials["venue_staff"]
    server = ServerProcess(world.database_url, world.ctx.settings.data_dir)
    server.start()
    sent: set[str] = set()
    acknowledged: set[str] = set()
    local = dt.timezone(dt.timedelta(hours=7))
    day = dt.datetime.now(local).date() - dt.timedelta(days=1)

    def upload() -> None:
        with httpx.Client(timeout=10) as http:
            for b in range(batches):
                scans = [
                    {
                        "idempotency_key": f"drill-{b}-{j}",
                        "at": dt.datetime(
                            day.year, day.month, day.day, 8 + j % 10, b % 60, tzinfo=local
                        ).isoformat(),
                        "phone": f"09{(b * per_batch + j) % 10**8:08d}",
                    }
                    for j in range(per_batch)
                ]
                sent.update(s["idempotency_key"] for s in scans)
                body = {"venue_id": world.venue_id, "device_id": "drill-gate", "scans": scans}
                while True:
                    try:
                        response = http.post(
                            server.url + "/api/v1/scan-batches",
                            json=body,
                            headers={"Authorization": f"Bearer {staff_token}"},
                        )
                        if response.status_code == 200:
                            acknowledged.update(r["idempotency_key"] for r in response.json()["results"])
                            break
                    except httpx.TransportError:
                        pass
                    time.sleep(0.2)

    sender = threading.Thread(target=upload)
    sender.start()
    while len(acknowledged) < 3 * per_batch and sender.is_alive():
        time.sleep(0.005)
    server.kill()
    time.sleep(0.3)
    server.start()
    sender.join(300)
    server.stop()
    with world.ctx.db.read() as session:
        keys = (
            session.execute(
                select(ScanEvent.idempotency_key).where(ScanEvent.idempotency_key.like("drill-%"))
            )
            .scalars()
            .all()
        )
    stored = set(keys)
    return DrillReport(
        "batch upload", len(acknowledged), len(keys), len(acknowledged - stored), len(keys) - len(stored), 1
    )


def rotation_drill(world: World, people: int = 1200) -> DrillReport:
    """Key rotation, then ``admin reissue`` killed mid-way and run again: every code still verifies."""
    from unifiedqr.codes.signing import Status, verify_payload
    from unifiedqr.services.keys import trust_list

    ctx = world.ctx
    platform = ctx.credential(accounts.create_platform(ctx, OPERATOR, "Rotation drill").api_key)
    for _ in range(people):
        registry.register(ctx, platform, registry.Registration(_document(), "Lê Thị Mai", "1950-03-09"))
    command = [sys.executable, "-m", "unifiedqr"]
    options = ["--database-url", world.database_url]
    env = ServerProcess(world.database_url, ctx.settings.data_dir).env()
    subprocess.run([*command, "admin", "rotate-key", *options], env=env, check=True, capture_output=True)
    reissue = subprocess.Popen(
        [*command, "admin", "reissue", *options], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    time.sleep(1.5)  # the command loads, then re-signs in batches of 500 committed one by one
    kills = 0
    if reissue.poll() is None:
        reissue.kill()
        kills = 1
    reissue.communicate(timeout=30)
    subprocess.run([*command, "admin", "reissue", *options], env=env, check=True, capture_output=True)
    trust = trust_list(ctx.db)
    now = dt.datetime.now(dt.UTC)
    with ctx.db.read() as session:
        codes = [
            ctx.vault.decrypt("people.code", blob) for (blob,) in session.execute(select(Person.code_enc))
        ]
    valid = sum(1 for code in codes if verify_payload(code, trust, now).status is Status.VALID)
    return DrillReport("key rotation", len(codes), valid, len(codes) - valid, 0, kills)


def run_drills() -> list[DrillReport]:
    """Every drill, each on its own fresh world."""
    reports = []
    for drill in (registration_drill, batch_drill, rotation_drill):
        world = build_world()
        try:
            reports.append(drill(world))
        finally:
            world.close()
    return reports
