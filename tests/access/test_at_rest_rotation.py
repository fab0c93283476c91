"""Rotation of the at-rest key: every encrypted value moves to the new key, readers accept both, a kill loses nothing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from tests.access.access_helpers import days_ago, vaccination
from tests.support import OPERATOR, open_test_services
from tests.venues.venue_helpers import local_time
from unifiedqr.at_rest_keys import add_key, read_keys
from unifiedqr.services import registry
from unifiedqr.services.accounts import create_platform
from unifiedqr.services.at_rest import encrypted_tables, reencrypt
from unifiedqr.store.crypto import Vault

HEALTH = {"address": {"province": "Hà Nội", "district": "Hoàn Kiếm"}}
SRC = str(Path(__file__).resolve().parents[2] / "src")


def versions(url: str) -> dict[int, int]:
    """How many stored values are under each key version (every *_enc column of every table)."""
    found: dict[int, int] = {}
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            for item in encrypted_tables():
                for column, _ in item.columns:
                    for (blob,) in conn.execute(select(column).where(column.is_not(None))):
                        found[blob[0]] = found.get(blob[0], 0) + 1
    finally:
        engine.dispose()
    return found


def readable(url: str, vault: Vault) -> int:
    """Decrypt every stored value; how many."""
    engine = create_engine(url)
    count = 0
    try:
        with engine.connect() as conn:
            for item in encrypted_tables():
                for column, aad in item.columns:
                    for (blob,) in conn.execute(select(column).where(column.is_not(None))):
                        vault.decrypt(aad, blob)
                        count += 1
    finally:
        engine.dispose()
    return count


def file_vault(path: Path) -> Vault:
    """A reader that loaded the key file before the rotation (an old server) and reloads it."""
    ring = read_keys(path)

    def load():
        fresh = read_keys(path)
        return fresh.keys, fresh.current

    return Vault(ring.root, ring.keys, ring.current, load)


@pytest.fixture
def fresh(tmp_path):
    url = f"sqlite:///{tmp_path / 'rotate.sqlite'}"
    ctx = open_test_services(url, tmp_path / "secrets")
    yield ctx
    ctx.close()


def fill(ctx, people: int) -> None:
    platform = create_platform(ctx, OPERATOR, "P")
    principal = ctx.credential(platform.api_key)
    for n in range(people):
        reg = registry.Registration(f"0{n:011d}", "Nguyen Van An", "1980-01-01", phone=f"09{n:08d}")
        registry.register(ctx, principal, reg)


def test_rotation_rewrites_every_value_while_old_readers_keep_reading(
    ctx, person, world, make_user, client_for
):
    subject = person(phone="0944713700")
    official = make_user("health_official")
    official.add_health_record(subject["qid"], vaccination(days_ago(20)))
    subject["platform"].declare_health(subject["qid"], HEALTH)
    subject["platform"].code(subject["qid"], masked=True)
    world.staff.scan(world.id, subject["payload"], at=local_time(1, 8))
    path = ctx.settings.at_rest_key_path
    old_server = file_vault(path)
    ring = add_key(path)
    ctx.vault.reload()
    result = reencrypt(ctx, OPERATOR, batch=2)
    assert result.version == ring.current and sum(result.rewritten.values()) > 0
    stored = versions(ctx.settings.database_url)
    assert set(stored) == {ring.current}, stored
    assert readable(ctx.settings.database_url, old_server) == sum(stored.values()), "reloads on a new version"
    found = official.lookup(subject["payload"], "checkpoint")
    assert found["phone"] == "0944713700" and found["health_status"]["colour"] == "green"
    assert len(found["declarations"]) == 1


def test_rotation_interrupted_midway_loses_nothing_and_resumes(fresh):
    fill(fresh, 20)
    path = fresh.settings.at_rest_key_path
    ring = add_key(path)
    fresh.vault.reload()
    calls = []

    def crash(n: int) -> None:
        calls.append(n)
        if len(calls) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reencrypt(fresh, OPERATOR, batch=4, progress=crash)
    mixed = versions(fresh.settings.database_url)
    assert set(mixed) == {1, ring.current}, mixed
    assert readable(fresh.settings.database_url, file_vault(path)) == sum(mixed.values())
    reencrypt(fresh, OPERATOR, batch=4)
    assert set(versions(fresh.settings.database_url)) == {ring.current}


def test_kill_9_during_the_rotation_command_loses_nothing(fresh):
    fill(fresh, 150)
    url = fresh.settings.database_url
    env = {**os.environ, "UNIFIEDQR_DATA_DIR": str(fresh.settings.data_dir), "PYTHONPATH": SRC}
    command = [sys.executable, "-m", "unifiedqr", "admin", "rotate-at-rest-key", "--database-url", url]
    process = subprocess.Popen(
        [*command, "--batch", "2", "--settle", "0"], env=env, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if len(versions(url)) > 1:  # some values moved, some not yet
                break
            time.sleep(0.02)
    finally:
        process.kill()
        process.wait(10)
    path = fresh.settings.at_rest_key_path
    current = read_keys(path).current
    stored = versions(url)
    assert current == 2 and set(stored) <= {1, 2}
    assert readable(url, file_vault(path)) == sum(stored.values()), "every value decrypts after the kill"
    done = subprocess.run([*command, "--resume", "--settle", "0", "--json"], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()[-500:]
    assert set(versions(url)) == {2}
    assert read_keys(path).current == 2, "--resume adds no key"
