"""Issuing keys, rotation without downtime, and the published trust list.

Private keys live in files (``UNIFIEDQR_ISSUING_KEY``: one key file, or a directory of them); the
database holds only their public halves, which *are* the trust list. Rotation: put a new key file
in the directory (``unifiedqr admin rotate-key`` does it). Every server process re-reads the
directory when its modification time changes (checked at most every ``key_reload_seconds``), puts
the new public key on the trust list, and from then on signs new codes with the newest key valid
now. Old keys stay on the list until they expire; ``unifiedqr admin reissue`` re-signs the codes of
older keys before that. No process restarts, so no downtime.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from unifiedqr.codes.trust import SigningKey, TrustedKey, TrustList
from unifiedqr.errors import ConfigError, KeyFileError, NotFound
from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.store.db import Database
from unifiedqr.store.models import RevokedCode, TrustKeyRow

if TYPE_CHECKING:
    from unifiedqr.services.context import Services


def read_key_files(path: Path) -> list[SigningKey]:
    files = sorted(path.glob("*.json")) if path.is_dir() else [path]
    keys = []
    for file in files:
        try:
            keys.append(SigningKey.from_bytes(file.read_bytes()))
        except KeyFileError as exc:
            raise ConfigError(str(file), exc.reason) from None
    return keys


class IssuingKeys:
    """The private issuing keys of this process, loaded once and re-read only when the files change."""

    def __init__(self, path: Path, db: Database, reload_seconds: float = 30.0) -> None:
        self.path = path
        self.db = db
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._keys: list[SigningKey] = []
        self._stamp: float | None = None
        self._checked = 0.0
        self.load()

    def _mtime(self) -> float:
        try:
            stamp = self.path.stat().st_mtime
            if self.path.is_dir():
                stamp = max([stamp, *(f.stat().st_mtime for f in self.path.glob("*.json"))])
            return stamp
        except OSError:
            return -1.0

    def load(self) -> None:
        with self._lock:
            keys = read_key_files(self.path)
            if not keys:
                raise ConfigError("UNIFIEDQR_ISSUING_KEY", f"no issuing key in {self.path}")
            self._publish(keys)
            self._keys = sorted(keys, key=lambda k: k.valid_from)
            self._stamp = self._mtime()
            self._checked = time.monotonic()

    def _publish(self, keys: list[SigningKey]) -> None:
        """Put every loaded key's public half on the trust list (idempotent across processes)."""
        with self.db.read() as session:
            known = set(session.scalars(select(TrustKeyRow.key_id)))
        for key in keys:
            if key.key_id in known:
                continue
            public = key.public()
            try:
                with self.db.write() as session:
                    session.add(
                        TrustKeyRow(
                            key_id=public.key_id,
                            issuer=public.issuer,
                            public_key=base64.b64encode(public.public_key_der).decode("ascii"),
                            valid_from=public.valid_from,
                            valid_until=public.valid_until,
                            revoked=False,
                        )
                    )
            except IntegrityError:
                pass  # another process published it first

    def refresh(self) -> None:
        """Re-read the key files if they changed (at most every ``reload_seconds``).

        Call it *outside* a write transaction: publishing a new key writes to the database, and
        SQLite writers in this process queue on one lock. :meth:`current` never writes.
        """
        now = time.monotonic()
        if now - self._revoked_cache[0] >= self.reload_seconds:
            self._load_revoked()  # here, outside the caller's transaction (see _revoked_ids)
        if now - self._checked < self.reload_seconds:
            return
        self._checked = now
        if self._mtime() != self._stamp:
            self.load()

    def current(self, at: dt.datetime) -> SigningKey:
        """The key new codes are signed with: the newest one valid at ``at``, never a revoked one."""
        revoked = self._revoked_ids()
        for key in reversed(self._keys):
            if key.is_valid_at(at) and key.key_id not in revoked:
                return key
        raise ConfigError(
            "UNIFIEDQR_ISSUING_KEY", "no issuing key is valid now: rotate (unifiedqr admin rotate-key)"
        )

    _revoked_cache: tuple[float, frozenset[str]] = (0.0, frozenset())

    def _revoked_ids(self) -> frozenset[str]:
        """The revoked key ids, as :meth:`refresh` last read them.

        :meth:`current` runs inside write transactions, so it must not take a second connection
        from the pool: with every connection held by a request waiting for one more, the pool
        starves (seen with 16 concurrent registrations on PostgreSQL). :meth:`refresh`, called
        before the transaction, renews the set every ``reload_seconds``; only a set twice that old
        (a process that never refreshes, like a one-off command) is read again here.
        """
        stamp, ids = self._revoked_cache
        if time.monotonic() - stamp < 2 * self.reload_seconds:
            return ids
        return self._load_revoked()

    def _load_revoked(self) -> frozenset[str]:
        with self.db.read() as session:
            ids = frozenset(session.scalars(select(TrustKeyRow.key_id).where(TrustKeyRow.revoked.is_(True))))
        self._revoked_cache = (time.monotonic(), ids)
        return ids

    @property
    def keys(self) -> list[SigningKey]:
        return list(self._keys)

    def rotate(self, issuer: str, valid_days: int, valid_from: dt.datetime | None = None) -> SigningKey:
        """Write a new key file into the key directory and start signing with it in this process."""
        if not self.path.is_dir():
            raise ConfigError(
                "UNIFIEDQR_ISSUING_KEY",
                f"{self.path} is a single key file; point it at a directory to rotate",
            )
        start = valid_from or dt.datetime.now(dt.UTC)
        key = SigningKey.generate(issuer, start, valid_days)
        target = self.path / f"{key.key_id}.json"
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(key.to_json(), indent=2))
            handle.flush()
            os.fsync(handle.fileno())
        self.load()
        return key


def trust_list(db: Database) -> TrustList:
    """The published trust list, straight from the database (so every process publishes the same)."""
    with db.read() as session:
        rows = list(session.scalars(select(TrustKeyRow)))
        revoked = list(session.scalars(select(RevokedCode.revocation_id)))
    keys = {
        row.key_id: TrustedKey(
            row.key_id,
            row.issuer,
            base64.b64decode(row.public_key),
            row.valid_from,
            row.valid_until,
            row.revoked,
        )
        for row in rows
    }
    return TrustList(keys, frozenset(revoked))


def rotate_key(ctx: Services, principal: Principal, valid_days: int | None = None) -> SigningKey:
    """Start a new issuing key (running servers pick it up without a restart)."""
    principal.require(Permission.KEYS_MANAGE)
    key = ctx.keys.rotate(ctx.settings.issuer, valid_days or ctx.settings.key_valid_days)
    with ctx.db.write() as session:
        record(session, principal, AuditAction.ISSUING_KEY_ROTATED, detail=key.key_id)
    return key


def revoke_key(ctx: Services, principal: Principal, key_id: str) -> None:
    """Withdraw a compromised key as a whole (every code it signed then verifies as key_revoked)."""
    principal.require(Permission.KEYS_MANAGE)
    with ctx.db.write() as session:
        row = session.get(TrustKeyRow, key_id)
        if row is None:
            raise NotFound("key_id", f"{key_id!r} is not on the trust list")
        row.revoked = True
        record(session, principal, AuditAction.ISSUING_KEY_REVOKED, detail=key_id)
