"""The service container: settings, database, at-rest vault, issuing keys and caches, built once per process.

Everything here is loaded at start-up (keys parsed, sub-keys derived, engines created) so that no
request pays for it. Building it never changes the database: the schema is brought up to date by
an explicit step (:func:`unifiedqr.store.db.upgrade`) of ``serve``, ``demo``, ``db upgrade`` and
the host commands, before the container is built.

:meth:`Services.authenticate` turns an ``Authorization`` value into a
:class:`~unifiedqr.services.auth.Principal`. It is the one place that does, with the one cache of
resolved credentials (API keys and login tokens alike, ``api_key_cache_seconds``): checking a token
costs a database read (0.5 ms, a third of a staff scan), and an entrance sends thousands of scans
with one token. The price: a revoked key, a logout or a password change made in *another* process
takes effect there up to that many seconds later (docs/platform.md); in this process at once.
Credentials that do not check out are counted per client address (``ctx.limits``, the one rate
limiter of the process): past ``UNIFIEDQR_LIMIT_CREDENTIAL_ADDRESS`` that address gets 429.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Mapping

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from unifiedqr.at_rest_keys import read_keys
from unifiedqr.config import Settings, resolve_secrets
from unifiedqr.errors import ConfigError, Overloaded, TooManyRequests, Unauthenticated
from unifiedqr.services import limits
from unifiedqr.services.auth import (
    API_KEY_PREFIX,
    TOKEN_PREFIX,
    Passwords,
    Principal,
    principal_for,
    read_token,
)
from unifiedqr.services.keys import IssuingKeys
from unifiedqr.services.sms import Outbox, SmsGateway
from unifiedqr.services.venue_runtime import VenueRuntime
from unifiedqr.store import db as store_db
from unifiedqr.store.crypto import Vault
from unifiedqr.store.models import Account, ApiKey
from unifiedqr.store.stream import ScanStream

MAX_CREDENTIAL = 512
#: How long a cached credential, venue or trust list still serves while the database does not answer
#: (stream mode acknowledges scans through an outage from what the node knows; docs/scaling.md).
STALE_SECONDS = 3600.0
#: What "the database does not answer" looks like through SQLAlchemy (refused, reset, timed out).
DATABASE_DOWN = (OperationalError, InterfaceError)
_CACHE_LIMIT = 10_000


def _vault(settings: Settings) -> Vault:
    """The vault over the key file's ring (rotations are picked up while running), or the inline key."""
    assert settings.at_rest_key is not None
    path = settings.at_rest_key_path
    if path is None:
        return Vault(settings.at_rest_key)

    def load() -> tuple[Mapping[int, bytes], int]:
        ring = read_keys(path)
        return ring.keys, ring.current

    keys, current = load()
    return Vault(settings.at_rest_key, keys, current, load, settings.key_reload_seconds)


class Services:
    """One per process; thread-safe (immutable after construction apart from small caches)."""

    def __init__(self, settings: Settings) -> None:
        if settings.at_rest_key is None or settings.issuing_key_path is None:
            settings = resolve_secrets(settings)
        if settings.at_rest_key is None or settings.issuing_key_path is None:
            raise ConfigError("UNIFIEDQR_AT_REST_KEY_FILE", "keys are not configured")
        self.settings = settings
        if settings.data_dir.exists():  # the generated keys live there: owner only (issue 10 #7)
            store_db.private_directory(settings.data_dir)
        self.db = store_db.Database(
            settings.database_url,
            sqlite_synchronous=settings.sqlite_synchronous,
            wal_limit_bytes=settings.sqlite_wal_limit_mb * 1024 * 1024,
            checkpoint_seconds=settings.sqlite_checkpoint_seconds,
            replica_url=settings.replica_url,
            replica_max_lag_seconds=settings.replica_max_lag_seconds,
        )
        self.vault = _vault(settings)
        hashing = settings.passwords
        self.passwords = Passwords(
            hashing.time_cost,
            hashing.memory_kib,
            hashing.parallelism,
            concurrency=hashing.concurrency,
            queue_seconds=hashing.queue_seconds,
        )
        self.sms: SmsGateway = Outbox(self.vault)
        self.limits = limits.build(
            settings.redis_url, lambda text: self.vault.lookup_hash("rate-limit", text)
        )
        self.keys = IssuingKeys(settings.issuing_key_path, self.db, settings.key_reload_seconds)
        self.venues = VenueRuntime(self)
        #: Stream mode's connection (``UNIFIEDQR_INGEST``): opened by the app's start-up, async.
        self.stream: ScanStream | None = ScanStream(settings.ingest) if settings.ingest else None
        self._credentials: dict[str, tuple[float, Principal]] = {}
        self._sessions: dict[str, tuple[float, Principal]] = {}
        self._cache_lock = threading.Lock()

    def close(self) -> None:
        self.db.dispose()
        self.limits.close()

    @staticmethod
    def now() -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    # -- authentication -------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> Principal:
        """The principal of an ``Authorization: Bearer <API key or token>`` value (cached)."""
        if not authorization:
            raise Unauthenticated("send Authorization: Bearer <API key or token>")
        scheme, _, credential = authorization.strip().partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            raise Unauthenticated("use the Bearer scheme: Authorization: Bearer <API key or token>")
        return self.credential(credential)

    def cached_credential(self, credential: str) -> Principal | None:
        """The principal of a credential resolved within the cache time, without touching the database."""
        cached = self._credentials.get(credential)
        return cached[1] if cached is not None and cached[0] > time.monotonic() else None

    def credential(self, credential: str, address: str | None = None) -> Principal:
        """The principal of a bare API key or login token; Unauthenticated when it does not check out.

        With the client's ``address`` (the API passes it), failures are counted per address and,
        past the limit, every credential not already cached from that address gets 429.
        """
        cached = self.cached_credential(credential)
        if cached is not None:
            return cached
        try:
            return self._checked(credential, address)
        except DATABASE_DOWN:  # stale-if-error: a node keeps accepting scans through an outage
            stale = self._credentials.get(credential)
            if stale is not None and stale[0] + STALE_SECONDS > time.monotonic():
                return stale[1]
            raise Overloaded("database", "the database does not answer; try again", 5) from None

    def _checked(self, credential: str, address: str | None) -> Principal:
        if address is None:
            return self._resolve(credential)
        rate = self.settings.limits.credential_address
        open_ = self.limits.check("credential_address", address, rate)
        if not open_.allowed:
            raise TooManyRequests(
                "Authorization", "too many invalid credentials from this address", open_.retry_after
            )
        try:
            return self._resolve(credential)
        except Unauthenticated:
            self.limits.acquire("credential_address", address, rate)
            raise

    def _resolve(self, credential: str) -> Principal:
        if len(credential) > MAX_CREDENTIAL:
            raise Unauthenticated("invalid credentials")
        if credential.startswith(API_KEY_PREFIX):
            principal = self._api_key_principal(credential)
        elif credential.startswith(TOKEN_PREFIX):
            principal = self._token_principal(credential)
        else:
            raise Unauthenticated("invalid credentials")
        with self._cache_lock:
            if len(self._credentials) > _CACHE_LIMIT:
                self._credentials.clear()
            self._credentials[credential] = (
                time.monotonic() + self.settings.api_key_cache_seconds,
                principal,
            )
        return principal

    def forget_credentials(self) -> None:
        """Drop cached credentials (after a revocation, logout or disabled account in this process)."""
        with self._cache_lock:
            self._credentials.clear()
            self._sessions.clear()

    def _api_key_principal(self, key: str) -> Principal:
        digest = self.vault.credential_hash(key)
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
        return principal_for(row.id, row.public_id, row.role, row.name, row.person_id)

    def _token_principal(self, token: str) -> Principal:
        account_id, version = read_token(self.vault, token)
        return self._account_principal(account_id, version)

    def _account_principal(self, account_id: int, version: int) -> Principal:
        with self.db.read() as session:
            account = session.get(Account, account_id)
            if account is None or account.disabled or account.token_version != version:
                raise Unauthenticated("the bearer token is no longer valid; log in again")
            return principal_for(account.id, account.public_id, account.role, account.name, account.person_id)

    def session_principal(self, session_id: str, account_id: int, token_version: int) -> Principal:
        """The principal of a web page session (``web/sessions.py`` checked its cookie's MAC and
        expiry): the account must still exist, be enabled and have this ``token_version``, so a
        password change or "log out everywhere" voids sessions as it voids tokens. Cached like
        credentials, in a dict of its own: a session is never a bearer credential."""
        cached = self._sessions.get(session_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        principal = self._account_principal(account_id, token_version)
        with self._cache_lock:
            if len(self._sessions) > _CACHE_LIMIT:
                self._sessions.clear()
            self._sessions[session_id] = (time.monotonic() + self.settings.api_key_cache_seconds, principal)
        return principal
