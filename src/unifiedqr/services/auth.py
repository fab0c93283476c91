"""Roles, the closed set of permissions, and who a request is (API key or bearer token).

Why a closed enum of ``scope:resource:action`` strings: every permission check in the services names
one member, so a typo is an AttributeError at import time rather than a silently open door, and the
authorisation matrix test can enumerate them all. The scope part says *whose* data: ``self`` (the
person's own record and household), ``platform`` (people the platform obtained), ``any``
(everyone; administrators and health officials). Lacking the permission is 403; holding it but
asking about something outside one's scope is 404, so existence is never revealed.

To extend (venues issue): add members here, grant them in :data:`ROLE_PERMISSIONS`, check them with
``principal.require(Permission.X)`` in the service, and add the endpoint to the matrix test.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from unifiedqr.errors import Overloaded, PermissionDenied, Unauthenticated

if TYPE_CHECKING:
    from unifiedqr.store.crypto import Vault


class Role(enum.StrEnum):
    ADMINISTRATOR = "administrator"
    PLATFORM = "platform"
    VENUE_OWNER = "venue_owner"
    VENUE_STAFF = "venue_staff"
    HEALTH_OFFICIAL = "health_official"
    TRACER = "tracer"  # contact tracing only (issue 12): no look-ups, no exports
    CITIZEN = "citizen"
    ASSESSOR = "assessor"  # the conformance assessment centre's staff (issue 14)
    OPERATOR = "operator"  # the host's command line; never an account (see host_operator)


class Permission(enum.StrEnum):
    # administration
    ACCOUNTS_MANAGE = "any:accounts:manage"
    PLATFORMS_MANAGE = "any:platforms:manage"
    KEYS_MANAGE = "any:keys:manage"
    # a platform's own credentials
    OWN_API_KEYS_MANAGE = "self:api_keys:manage"
    # registry
    PEOPLE_REGISTER = "platform:people:register"
    PLATFORM_PEOPLE_READ = "platform:people:read"
    PLATFORM_PEOPLE_CORRECT = "platform:people:correct"
    ANY_PEOPLE_READ = "any:people:read"
    ANY_PEOPLE_CORRECT = "any:people:correct"
    SELF_PEOPLE_READ = "self:people:read"
    # declarations
    SELF_DECLARATIONS_SUBMIT = "self:declarations:submit"
    SELF_DECLARATIONS_READ = "self:declarations:read"
    PLATFORM_DECLARATIONS_SUBMIT = "platform:declarations:submit"
    PLATFORM_DECLARATIONS_READ = "platform:declarations:read"
    ANY_DECLARATIONS_READ = "any:declarations:read"
    # venues (issue 6): "venue" scope = the venues the account owns or staffs
    VENUES_REGISTER = "self:venues:register"
    ANY_VENUES_MANAGE = "any:venues:manage"
    VENUE_MANAGE = "venue:venues:manage"
    VENUE_READ = "venue:venues:read"
    VENUE_SCANS_SUBMIT = "venue:scans:submit"
    VENUE_VISITS_READ = "venue:visits:read"
    SELF_CHECKINS_SUBMIT = "self:checkins:submit"
    PLATFORM_CHECKINS_SUBMIT = "platform:checkins:submit"
    # holder consent (issue 10): a platform completes its own requests, the holder decides
    PLATFORM_CONSENTS_USE = "platform:consents:use"
    SELF_CONSENTS_DECIDE = "self:consents:decide"
    # the development SMS outbox (the host's ``admin outbox``)
    OUTBOX_READ = "any:outbox:read"
    # conformance assessment (issue 14): submit, decide, withdraw, list every app's assessments
    ASSESSMENTS_MANAGE = "any:assessments:manage"
    # look-ups, health records, the holder's access log, retention (issue 11)
    ANY_LOOKUP = "any:lookups:read"  # officials, administrators: anyone, full view
    PLATFORM_LOOKUP = "platform:lookups:read"  # a platform: people in its scope, full view
    SCANNED_LOOKUP = "scanned:lookups:read"  # venue staff and owners: a scanned code, masked view
    HEALTH_RECORDS_WRITE = "any:health_records:write"  # health officials record and import
    SELF_ACCESS_LOG_READ = "self:access_log:read"  # who read my data, and why
    DATA_PURGE = "any:data:purge"  # retention and at-rest key rotation (the host operator)
    # contact tracing (issue 12): cases, candidates, decisions, pictures, notifications
    TRACING_MANAGE = "any:tracing:manage"
    TRACING_EXPORT = "any:tracing:export"
    PLATFORM_NOTICES_READ = "platform:notices:read"
    # the officials' dashboard (issue 16): counts per hour, province and open cases, never a person
    STATS_READ = "any:stats:read"


P = Permission
ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMINISTRATOR: frozenset(
        {
            P.ACCOUNTS_MANAGE,
            P.PLATFORMS_MANAGE,
            P.KEYS_MANAGE,
            P.ANY_PEOPLE_READ,
            P.ANY_PEOPLE_CORRECT,
            P.VENUES_REGISTER,
            P.ANY_VENUES_MANAGE,
            P.OUTBOX_READ,
            P.ASSESSMENTS_MANAGE,
            P.ANY_LOOKUP,
            P.STATS_READ,
        }
    ),
    Role.PLATFORM: frozenset(
        {
            P.OWN_API_KEYS_MANAGE,
            P.PEOPLE_REGISTER,
            P.PLATFORM_PEOPLE_READ,
            P.PLATFORM_PEOPLE_CORRECT,
            P.PLATFORM_DECLARATIONS_SUBMIT,
            P.PLATFORM_DECLARATIONS_READ,
            P.PLATFORM_CHECKINS_SUBMIT,
            P.PLATFORM_CONSENTS_USE,
            P.PLATFORM_LOOKUP,
            P.PLATFORM_NOTICES_READ,
        }
    ),
    Role.VENUE_OWNER: frozenset(
        {
            P.VENUES_REGISTER,
            P.VENUE_MANAGE,
            P.VENUE_READ,
            P.VENUE_SCANS_SUBMIT,
            P.VENUE_VISITS_READ,
            P.SCANNED_LOOKUP,
        }
    ),
    Role.VENUE_STAFF: frozenset({P.VENUE_READ, P.VENUE_SCANS_SUBMIT, P.SCANNED_LOOKUP}),
    Role.HEALTH_OFFICIAL: frozenset(
        {
            P.ANY_PEOPLE_READ,
            P.ANY_DECLARATIONS_READ,
            P.ANY_LOOKUP,
            P.HEALTH_RECORDS_WRITE,
            P.TRACING_MANAGE,
            P.TRACING_EXPORT,
            P.STATS_READ,
        }
    ),
    #: Contact tracers (issue 12) work cases and nothing else; exporting a list is an official's.
    Role.TRACER: frozenset({P.TRACING_MANAGE, P.STATS_READ}),
    Role.CITIZEN: frozenset(
        {
            P.SELF_PEOPLE_READ,
            P.SELF_DECLARATIONS_SUBMIT,
            P.SELF_DECLARATIONS_READ,
            P.SELF_CHECKINS_SUBMIT,
            P.SELF_CONSENTS_DECIDE,
            P.SELF_ACCESS_LOG_READ,
        }
    ),
    #: The assessment centre decides which apps go on the public list, and nothing else: no one's
    #: personal data, no accounts, no keys (an administrator may decide too).
    Role.ASSESSOR: frozenset({P.ASSESSMENTS_MANAGE}),
}


#: The operator on the server's host (the admin CLI) holds what an administrator holds, plus the two
#: host-only acts (issue 11): importing the health authority's record files and the retention purge
#: (with the at-rest key rotation). No API role holds those.
ROLE_PERMISSIONS[Role.OPERATOR] = ROLE_PERMISSIONS[Role.ADMINISTRATOR] | {
    P.HEALTH_RECORDS_WRITE,
    P.DATA_PURGE,
}


@dataclass(frozen=True)
class Principal:
    """Who is asking: resolved once per request (or once per host command), passed to every service.

    ``account_id`` is None only for the host operator, who has no account: the audit log names them
    by ``name`` (``operator:<user>@<host>``).
    """

    account_id: int | None
    public_id: str
    role: Role
    name: str
    person_id: int | None = None
    permissions: frozenset[Permission] = field(default_factory=frozenset)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, *any_of: Permission) -> Permission:
        """The first of ``any_of`` this principal holds; PermissionDenied (403) when none."""
        for permission in any_of:
            if permission in self.permissions:
                return permission
        raise PermissionDenied(any_of[0].value, f"the {self.role.value} role may not do this")

    @property
    def account(self) -> int:
        """The account id of a principal that has one (every API caller); the operator has none."""
        if self.account_id is None:
            raise PermissionDenied("account", "this needs an account, not the host operator")
        return self.account_id


def principal_for(account_id: int, public_id: str, role: str, name: str, person_id: int | None) -> Principal:
    role_value = Role(role)
    return Principal(account_id, public_id, role_value, name, person_id, ROLE_PERMISSIONS[role_value])


def host_operator(name: str) -> Principal:
    """The operator running a command on the server's host (``name``: who, e.g. ``root@db1``).

    Host commands (``unifiedqr admin ...``, ``venue ...``) act with this principal: it passes the
    same permission checks as an administrator and is audited by name, so no service call is ever
    made on nobody's authority.
    """
    return Principal(
        None, "operator", Role.OPERATOR, f"operator:{name}"[:200], None, ROLE_PERMISSIONS[Role.OPERATOR]
    )


# ---------------------------------------------------------------------------------------------------
# Passwords (argon2id) and credentials
# ---------------------------------------------------------------------------------------------------
MIN_PASSWORD = 8
API_KEY_PREFIX = "uqr_"
TOKEN_PREFIX = "uqt_"  # noqa: S105 (a prefix, not a secret)


class Passwords:
    """argon2id hashing with the configured cost; verification takes constant work per attempt.

    At most ``concurrency`` hashes run at once in the process (each takes ``memory_kib``): 40
    simultaneous log-ins once took a server from 139 MiB to 2.4 GiB (issue 10 #3). A caller waits up
    to ``queue_seconds`` for a turn, then gets :class:`Overloaded` (503 with ``Retry-After``).
    The API takes its turn before it takes a worker thread (``api.deps.offload_hashing``), so
    waiting log-ins hold no thread; this semaphore is the bound for every other caller too.
    """

    def __init__(
        self,
        time_cost: int = 3,
        memory_kib: int = 64 * 1024,
        parallelism: int = 4,
        *,
        concurrency: int = 2,
        queue_seconds: float = 5.0,
    ) -> None:
        self._hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        self.concurrency = max(1, concurrency)
        self.queue_seconds = max(0.0, queue_seconds)
        self.turns = threading.BoundedSemaphore(self.concurrency)

    @contextlib.contextmanager
    def turn(self) -> Iterator[None]:
        """One of the ``concurrency`` hashing slots, waited for up to ``queue_seconds``."""
        if not self.turns.acquire(timeout=self.queue_seconds):
            raise Overloaded("password", "too many log-ins at once; try again in a moment", 1)
        try:
            yield
        finally:
            self.turns.release()

    def hash(self, password: str) -> str:
        with self.turn():
            return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Constant work whether or not the account exists (a dummy hash is checked when it does not)."""
        with self.turn():
            try:
                return self._hasher.verify(stored or self._dummy, password) and stored is not None
            except (VerificationError, InvalidHashError):
                return False


def new_api_key() -> str:
    """256 bits from the OS CSPRNG, prefixed so that leaked keys are recognisable by scanners."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def new_public_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_urlsafe(12)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_token(vault: Vault, account_id: int, token_version: int, ttl_seconds: int) -> tuple[str, int]:
    """A short-lived bearer token: ``uqt_<claims>.<HMAC>``; stateless, checked against the account."""
    expires = int(time.time()) + ttl_seconds
    claims = json.dumps({"a": account_id, "v": token_version, "e": expires}, separators=(",", ":")).encode()
    body = _b64(claims)
    return f"{TOKEN_PREFIX}{body}.{_b64(vault.sign_token(body.encode('ascii')))}", expires


def read_token(vault: Vault, token: str) -> tuple[int, int]:
    """``(account id, token version)`` of a genuine, unexpired token; Unauthenticated otherwise."""
    body, sep, mac = token[len(TOKEN_PREFIX) :].partition(".")
    if not sep or len(token) > 512:
        raise Unauthenticated("malformed bearer token")
    try:
        expected = vault.sign_token(body.encode("ascii"))
        if not secrets.compare_digest(_unb64(mac), expected):
            raise Unauthenticated("invalid bearer token")
        claims = json.loads(_unb64(body))
        account_id, version, expires = int(claims["a"]), int(claims["v"]), int(claims["e"])
    except Unauthenticated:
        raise
    except (ValueError, KeyError, TypeError, UnicodeError):
        raise Unauthenticated("invalid bearer token") from None
    if expires < time.time():
        raise Unauthenticated("the bearer token has expired; log in again")
    return account_id, version
