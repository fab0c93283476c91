"""Storage: migrations match the models, SQLite pragmas, indexes, no plaintext, key rotation."""

from __future__ import annotations

import datetime as dt
import os
import stat
import time
from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from platform_helpers import person_body
from sqlalchemy import inspect, select, text
from tests.support import OPERATOR

from unifiedqr.codes.signing import Status, verify_payload
from unifiedqr.codes.trust import TrustList
from unifiedqr.services import keys, people, registry
from unifiedqr.store.db import include_name
from unifiedqr.store.models import Base, Person

PERSONAL_TABLES = [
    "people",
    "person_documents",
    "person_platforms",
    "declarations",
    "accounts",
    "households",
    "revoked_codes",
    "audit_events",
    "api_keys",
]


def test_migrations_create_exactly_the_models(ctx):
    with ctx.db.read_engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_name": include_name})
        diff = compare_metadata(context, Base.metadata)
    assert diff == []


def test_personal_tables_index_created_at(ctx):
    inspector = inspect(ctx.db.read_engine)
    for table in PERSONAL_TABLES:
        indexed = {ix["column_names"][0] for ix in inspector.get_indexes(table)}
        assert "created_at" in indexed, table


def test_sqlite_pragmas(ctx, backend):
    if backend != "sqlite":
        return
    with ctx.db.write_engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL


def test_synchronous_full_is_a_setting(tmp_path):
    from dataclasses import replace

    from unifiedqr.config import Settings
    from unifiedqr.services.context import Services
    from unifiedqr.store.db import upgrade

    base = Settings.from_env(
        f"sqlite:///{tmp_path / 'full.sqlite'}",
        environ={"UNIFIEDQR_SQLITE_SYNCHRONOUS": "full", "UNIFIEDQR_DATA_DIR": str(tmp_path / "s")},
    )
    assert base.sqlite_synchronous == "FULL"
    upgrade(base.database_url)
    ctx = Services(replace(base))
    try:
        with ctx.db.write_engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2
    finally:
        ctx.close()


def test_no_document_phone_or_code_text_in_any_column(ctx, make_platform):
    platform = make_platform()
    issued = platform.register(
        **person_body(document_number="001093029317", phone="0944713700", insurance_number="HS4010120878821")
    )
    platform.register(
        **person_body(document_number="012345678901", old_document_number="123456789", full_name="Tran Van B")
    )
    secrets_ = [
        "001093029317",
        "0944713700",
        "HS4010120878821",
        "012345678901",
        "123456789",
        issued["payload"].rsplit("<", 1)[-1][:30],
    ]
    with ctx.db.read_engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name not in inspect(connection).get_table_names():
                continue
            for row in connection.execute(select(table)):
                for value in row:
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    for secret in secrets_:
                        assert secret.encode() not in blob, (table.name, secret)
    if ctx.db.is_sqlite:  # the file a thief would copy, with its write-ahead log
        path = ctx.db.read_engine.url.database
        assert path is not None
        raw = b"".join(Path(p).read_bytes() for p in (path, path + "-wal") if os.path.exists(p))
        for secret in secrets_:
            assert secret.encode() not in raw


def test_generated_secrets_are_private(ctx):
    assert ctx.settings.at_rest_key_path is not None and ctx.settings.issuing_key_path is not None
    assert stat.S_IMODE(os.stat(ctx.settings.at_rest_key_path).st_mode) == 0o600
    for key_file in ctx.settings.issuing_key_path.glob("*.json"):
        assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600


def test_key_rotation_without_restart_and_reissue(ctx, make_platform, anon, tmp_path):
    """A copy of the key directory, so the rotation does not leak into the other tests."""
    import shutil
    from dataclasses import replace

    from unifiedqr.services.context import Services

    key_dir = tmp_path / "keys"
    shutil.copytree(ctx.settings.issuing_key_path, key_dir)
    rotated = Services(replace(ctx.settings, issuing_key_path=key_dir, key_reload_seconds=0))
    serving = Services(replace(ctx.settings, issuing_key_path=key_dir, key_reload_seconds=0))
    try:
        platform = make_platform()
        principal = rotated.authenticate(f"Bearer {platform.token}")
        before = registry.register(rotated, principal, registry.Registration(**person_body()))
        old_key = before.payload.rsplit("<", 1)[1].split(".")[0]
        assert anon.ready()["issuing_key_id"] != "", "readiness names the signing key"
        newest = max(k.valid_from for k in rotated.keys.keys)
        while dt.datetime.now(dt.UTC) < newest + dt.timedelta(seconds=1):  # a strictly newer key
            time.sleep(0.05)
        new = rotated.keys.rotate("Rotation test", 30)
        # the other (serving) process notices the new file without a restart
        serving = Services(replace(ctx.settings, issuing_key_path=key_dir, key_reload_seconds=0))
        after = registry.register(serving, principal, registry.Registration(**person_body()))
        assert after.payload.rsplit("<", 1)[1].startswith(new.key_id + ".")
        trust = TrustList.from_json(anon.trust_list())
        now = dt.datetime.now(dt.UTC)
        assert {old_key, new.key_id} <= set(trust.keys)
        assert verify_payload(before.payload, trust, now).status is Status.VALID, "old codes stay valid"
        assert people.reissue_old_codes(serving, OPERATOR) >= 1
        reissued = platform.code(before.qid)
        assert reissued.rsplit("<", 1)[1].startswith(new.key_id + ".")
        assert verify_payload(reissued, trust, now).status is Status.VALID
    finally:
        serving.close()
        rotated.close()
        with ctx.db.write() as session:  # the other tests sign with the session's key again
            for person in session.scalars(select(Person)):
                session.delete(person)
            session.execute(text("DELETE FROM trust_keys WHERE key_id = :k"), {"k": new.key_id})


def test_revoked_key_is_published_and_not_used(ctx, anon, tmp_path):
    from dataclasses import replace

    from unifiedqr.codes.trust import SigningKey

    key = SigningKey.generate("Throwaway", dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1), 1)
    key_file = tmp_path / "throwaway.json"
    import json

    key_file.write_text(json.dumps(key.to_json()))
    from unifiedqr.services.context import Services

    other = Services(replace(ctx.settings, issuing_key_path=key_file))
    try:
        keys.revoke_key(ctx, OPERATOR, key.key_id)
        published = TrustList.from_json(anon.trust_list())
        assert published.keys[key.key_id].revoked
        other.keys._revoked_cache = (0.0, frozenset())
        import pytest

        from unifiedqr.errors import ConfigError, NotFound

        with pytest.raises(ConfigError):
            other.keys.current(dt.datetime.now(dt.UTC))
        with pytest.raises(NotFound):
            keys.revoke_key(ctx, OPERATOR, "nope")
    finally:
        other.close()
        with ctx.db.write() as session:
            session.execute(text("DELETE FROM trust_keys WHERE key_id = :k"), {"k": key.key_id})


def test_the_wal_stays_bounded_under_sustained_writes(tmp_path):
    """Issue 10, finding 5: the WAL grew without bound under continuous writes (861 MB in 60 s)."""
    import os
    import threading

    from tests.support import OPERATOR, open_test_services

    from unifiedqr.services import accounts

    url = f"sqlite:///{tmp_path / 'busy.sqlite'}"
    ctx = open_test_services(url, tmp_path / "s", sqlite_wal_limit_mb=1, sqlite_checkpoint_seconds=0.1)
    wal = tmp_path / "busy.sqlite-wal"
    try:
        platform = ctx.authenticate("Bearer " + accounts.create_platform(ctx, OPERATOR, "P").api_key)
        writes = 2 * 1200  # ~160 MiB of WAL without the bound (68 KiB a registration)

        def write() -> None:
            for _ in range(writes // 2):
                registry.register(ctx, platform, registry.Registration(**person_body()))

        threads = [threading.Thread(target=write) for _ in range(2)]
        for thread in threads:
            thread.start()
        largest = 0
        while any(thread.is_alive() for thread in threads):
            time.sleep(0.02)
            largest = max(largest, os.path.getsize(wal) if wal.exists() else 0)
        unbounded = writes * 68 * 1024
        assert largest < unbounded / 4, f"the WAL reached {largest / 2**20:.1f} MiB after {writes} writes"
    finally:
        ctx.close()


def test_signing_inside_a_transaction_takes_no_second_connection(ctx, monkeypatch):
    """``keys.current`` runs inside write transactions: once ``refresh`` (called before them) has
    read the revoked keys, it must not open another session, even when the set is older than the
    reload interval; with every pooled connection held by such a request, that would starve the pool
    (16 concurrent registrations on PostgreSQL timed out in CI)."""
    import time

    ctx.keys._revoked_cache = (0.0, frozenset())
    ctx.keys.refresh()
    stamp, ids = ctx.keys._revoked_cache
    assert stamp > 0
    ctx.keys._revoked_cache = (time.monotonic() - 1.5 * ctx.keys.reload_seconds, ids)

    def no_session() -> None:
        raise AssertionError("a second connection inside the transaction")

    monkeypatch.setattr(ctx.keys.db, "read", no_session)
    with ctx.db.write():
        assert ctx.keys.current(dt.datetime.now(dt.UTC)).key_id
    monkeypatch.undo()
    ctx.keys._revoked_cache = (0.0, frozenset())  # a process that never refreshes still reads them
    assert ctx.keys.current(dt.datetime.now(dt.UTC)).key_id
