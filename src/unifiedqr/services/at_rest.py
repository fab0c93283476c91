"""Rotation of the at-rest key without downtime: every encrypted column re-encrypted, in batches.

Steps (``unifiedqr admin rotate-at-rest-key``): a new key version is added to the key file and
made current (:func:`unifiedqr.at_rest_keys.add_key`, an atomic replace); every process reads both
versions from then on (a ciphertext names its version, and an unknown one makes the reader reload
the file) and writes the new one within its reload time. Then :func:`reencrypt` walks every
``*_enc`` column of every table in primary-key order, one batch per transaction, and rewrites each
value not under the current version, compare-and-swap: a value changed meanwhile by the service is
left alone (it was just written, under either key, and the next pass sees it). A kill at any point
loses nothing: each value is under the old key or the new one, both in the file; running the
command again with ``--resume`` finishes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, bindparam, func, select, true, update

from unifiedqr.errors import ConfigError
from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.store.crypto import Vault
from unifiedqr.store.models import Base


@dataclass(frozen=True)
class Encrypted:
    """One table's encrypted columns: ``(column, associated data)``, and its key to walk by."""

    table: Table
    key: Column[Any]
    columns: tuple[tuple[Column[Any], str], ...]


@dataclass(frozen=True)
class RotationResult:
    version: int
    rewritten: dict[str, int]
    seconds: float


def encrypted_tables() -> Iterator[Encrypted]:
    """Every table with ``*_enc`` columns (the associated data is ``<table>.<column without _enc>``)."""
    for table in Base.metadata.sorted_tables:
        columns = tuple((c, f"{table.name}.{c.name[:-4]}") for c in table.columns if c.name.endswith("_enc"))
        if columns:
            keys = list(table.primary_key.columns)
            if len(keys) != 1:
                raise ConfigError(table.name, "re-encryption walks tables by a one-column primary key")
            yield Encrypted(table, keys[0], columns)


def rows_to_visit(ctx: Services) -> int:
    """Rows of every encrypted table (the progress bar's length)."""
    with ctx.db.read() as session:
        return sum(
            int(session.scalar(select(func.count()).select_from(t.table)) or 0) for t in encrypted_tables()
        )


def reencrypt(
    ctx: Services, principal: Principal, batch: int = 500, progress: Callable[[int], None] = lambda _n: None
) -> RotationResult:
    """Rewrite every value not under the vault's current key version (see the module docstring)."""
    principal.require(Permission.DATA_PURGE)
    started = time.monotonic()
    vault = ctx.vault
    rewritten: dict[str, int] = {}
    for item in encrypted_tables():
        rewritten[item.table.name] = _table(ctx, vault, item, batch, progress)
    with ctx.db.write() as session:
        detail = f"version {vault.current_version}: {sum(rewritten.values())} values"
        record(session, principal, AuditAction.AT_REST_KEY_ROTATED, detail=detail)
    return RotationResult(vault.current_version, rewritten, round(time.monotonic() - started, 3))


def _table(ctx: Services, vault: Vault, item: Encrypted, batch: int, progress: Callable[[int], None]) -> int:
    done = 0
    last: Any = None
    columns = [c for c, _ in item.columns]
    while True:
        after = item.key > last if last is not None else true()
        with ctx.db.read() as session:
            rows = session.execute(
                select(item.key, *columns).where(after).order_by(item.key).limit(batch)
            ).all()
        if not rows:
            return done
        for index, (column, aad) in enumerate(item.columns, start=1):
            changes = [
                {
                    "b_key": row[0],
                    "b_old": row[index],
                    "b_new": vault.encrypt(aad, vault.decrypt(aad, row[index])),
                }
                for row in rows
                if row[index] is not None and vault.version_of(row[index]) != vault.current_version
            ]
            if changes:
                swap = (
                    update(item.table)
                    .where(item.key == bindparam("b_key"), column == bindparam("b_old"))
                    .values({column.name: bindparam("b_new")})
                )
                with ctx.db.write() as session:
                    session.connection().execute(swap, changes)
                done += len(changes)
        last = rows[-1][0]
        progress(len(rows))
