"""The service container: settings, database, at-rest vault and issuing keys, built once per process.

Everything here is loaded at start-up (keys parsed, sub-keys derived, engines created) so that no
request pays for it. :meth:`Services.authenticate` turns an ``Authorization`` value into a
:class:`~unifiedqr.services.auth.Principal`; API-key look-ups are cached for a few seconds, which is
also how long a revoked key may still work in another process (documented in docs/platform.md).
"""

from __future__ import annotations

import datetime as dt
import threading
import time

from sqlalchemy import select

from unifiedqr.config import Settings, resolve_secrets
from unifiedqr.errors import ConfigError, Unauthenticated
from unifiedqr.services.auth import API_KEY_PREFIX, TOKEN_PREFIX, Principal, principal_for, read_token
from unifiedqr.services.keys import IssuingKeys
from unifiedqr.store import db as store_db
from unifiedqr.store.crypto import Vault
from unifiedqr.store.fastpath import FastPath
from unifiedqr.store.models import Account, ApiKey


class Services:
    """One per process; thread-safe (immutable after construction apart from small caches)."""

    def __init__(self, settings: Settings, *, migrate: bool = True) -> None:
        settings = (
            resolve_secrets(settings)
            if settings.at_rest_key is None or settings.issuing_key_path is None
            else settings
        )
        if settings.at_rest_key is None or settings.issuing_key_path is None:
            raise ConfigError("keys are not configured")
        if migrate:
            store_db.upgrade(settings.database_url)
        self.settings = settings
        self.db = store_db.Database(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
        self.vault = Vault(settings.at_rest_key)
        self.fast = FastPath(self.db.dialect)
        self.keys = IssuingKeys(settings.issuing_key_path, self.db, settings.key_reload_seconds)
        self._key_cache: dict[bytes, tuple[float, Principal]] = {}
        self._cache_lock = threading.Lock()

    def close(self) -> None:
        self.db.dispose()

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    # -- authentication -------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> Principal:
        if not authorization:
            raise Unauthenticated("send Authorization: Bearer <API key or token>")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated("use the Bearer scheme: Authorization: Bearer <API key or token>")
        if credential.startswith(API_KEY_PREFIX):
            return self._api_key_principal(credential)
        if credential.startswith(TOKEN_PREFIX):
            return self._token_principal(credential)
        raise Unauthenticated("invalid credentials")

    def _api_key_principal(self, key: str) -> Principal:
        if len(key) > 200:
            raise Unauthenticated("invalid API key")
        digest = self.vault.credential_hash(key)
        cached = self._key_cache.get(digest)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        with self.db.read() as session:
            row = session.execute(
                select(
                    Account.id,
                    Account.public_id,
                    Account.role,
                    Account.name,
                    Account.person_id,
                    Account.disabled,
                )
                .join(ApiKey, ApiKey.account_id == Account.id)
                .where(ApiKey.key_hash == digest, ApiKey.revoked_at.is_(None))
            ).first()
        if row is None or row.disabled:
            raise Unauthenticated("invalid or revoked API key")
        principal = principal_for(row.id, row.public_id, row.role, row.name, row.person_id)
        with self._cache_lock:
            if len(self._key_cache) > 10_000:
                self._key_cache.clear()
            self._key_cache[digest] = (now + self.settings.api_key_cache_seconds, principal)
        return principal

    def forget_api_keys(self) -> None:
        """Drop cached API-key look-ups (after a revocation in this process)."""
        with self._cache_lock:
            self._key_cache.clear()

    def _token_principal(self, token: str) -> Principal:
        account_id, version = read_token(self.vault, token)
        with self.db.read() as session:
            account = session.get(Account, account_id)
            if account is None or account.disabled or account.token_version != version:
                raise Unauthenticated("the bearer token is no longer valid; log in again")
            return principal_for(account.id, account.public_id, account.role, account.name, account.person_id)
