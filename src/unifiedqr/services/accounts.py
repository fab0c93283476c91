"""Accounts, platforms and their credentials: creation, API-key rotation, password log-in.

Platforms authenticate with API keys (several may be live at once, so a platform rotates by
creating a new key, deploying it, then revoking the old one). People log in with a username or a
phone number and a password (argon2id) and receive a short-lived bearer token; changing the
password or logging out everywhere bumps ``token_version``, which voids every token issued before.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.codes.build import normalise_phone
from unifiedqr.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TooManyRequests,
    Unauthenticated,
)
from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import (
    MIN_PASSWORD,
    Permission,
    Principal,
    Role,
    issue_token,
    new_api_key,
    new_public_id,
)
from unifiedqr.services.context import Services
from unifiedqr.services.limits import Decision
from unifiedqr.store.models import Account, ApiKey, Person

_USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,63}")
MAX_PASSWORD = 1024


@dataclass(frozen=True)
class NewPlatform:
    platform_id: str
    api_key: str
    api_key_id: str


@dataclass(frozen=True)
class NewApiKey:
    api_key_id: str
    api_key: str
    platform_id: str


@dataclass(frozen=True)
class ApiKeyInfo:
    api_key_id: str
    label: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None


@dataclass(frozen=True)
class AccountRequest:
    """A person's account (any role but platform); a citizen account names the person's QID."""

    role: str
    name: str
    password: str
    username: str | None = None
    phone: str | None = None
    qid: str | None = None


@dataclass(frozen=True)
class NewAccount:
    account_id: str
    role: str
    username: str | None


@dataclass(frozen=True)
class TokenGrant:
    access_token: str
    token_type: str
    expires_in: int
    expires_at: int
    role: str
    account_id: str


@dataclass(frozen=True)
class Identity:
    account_id: str
    role: str
    name: str
    qid: str | None
    permissions: tuple[str, ...]


def create_platform(ctx: Services, principal: Principal, name: str) -> NewPlatform:
    """A new platform account with its first API key (shown once; only its keyed hash is stored)."""
    principal.require(Permission.PLATFORMS_MANAGE)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name", "must be 1 to 200 characters")
    key = new_api_key()
    with ctx.db.write() as session:
        account = Account(public_id=new_public_id("plt"), role=Role.PLATFORM.value, name=name)
        session.add(account)
        session.flush()
        key_row = ApiKey(
            public_id=new_public_id("key"),
            account_id=account.id,
            key_hash=ctx.vault.credential_hash(key),
            label="initial",
        )
        session.add(key_row)
        record(session, principal, AuditAction.PLATFORM_CREATED, detail=account.public_id)
    return NewPlatform(account.public_id, key, key_row.public_id)


def _platform_account(session: Session, principal: Principal, platform_id: str) -> Account:
    account = session.scalars(
        select(Account).where(Account.public_id == platform_id, Account.role == Role.PLATFORM.value)
    ).first()
    if account is None:
        raise NotFound("platform_id", "no such platform")
    if not principal.can(Permission.PLATFORMS_MANAGE):
        principal.require(Permission.OWN_API_KEYS_MANAGE)
        if account.id != principal.account_id:
            raise NotFound("platform_id", "no such platform")
    return account


def add_api_key(ctx: Services, principal: Principal, platform_id: str, label: str = "") -> NewApiKey:
    """Rotation step 1: a second live key. The caller deploys it, then revokes the old one."""
    key = new_api_key()
    with ctx.db.write() as session:
        account = _platform_account(session, principal, platform_id)
        row = ApiKey(
            public_id=new_public_id("key"),
            account_id=account.id,
            key_hash=ctx.vault.credential_hash(key),
            label=(label or "")[:100],
        )
        session.add(row)
        record(session, principal, AuditAction.API_KEY_ADDED, detail=f"{platform_id} {row.public_id}")
    return NewApiKey(row.public_id, key, platform_id)


def list_api_keys(ctx: Services, principal: Principal, platform_id: str) -> list[ApiKeyInfo]:
    with ctx.db.read() as session:
        account = _platform_account(session, principal, platform_id)
        rows = session.scalars(
            select(ApiKey).where(ApiKey.account_id == account.id).order_by(ApiKey.created_at)
        )
        return [ApiKeyInfo(r.public_id, r.label, r.created_at, r.revoked_at) for r in rows]


def revoke_api_key(ctx: Services, principal: Principal, platform_id: str, api_key_id: str) -> None:
    """Rotation step 2. Other processes honour it within the credential cache time (a few seconds)."""
    with ctx.db.write() as session:
        account = _platform_account(session, principal, platform_id)
        row = session.scalars(
            select(ApiKey).where(ApiKey.public_id == api_key_id, ApiKey.account_id == account.id)
        ).first()
        if row is None:
            raise NotFound("api_key_id", "no such API key")
        if row.revoked_at is None:
            row.revoked_at = ctx.now()
            record(session, principal, AuditAction.API_KEY_REVOKED, detail=f"{platform_id} {api_key_id}")
    ctx.forget_credentials()


def _checked(request: AccountRequest) -> tuple[Role, str | None, str]:
    """The request's role, normalised phone and name, or InvalidInput naming the field."""
    try:
        role = Role(request.role)
    except ValueError:
        roles = ", ".join(r.value for r in Role if r is not Role.OPERATOR)
        raise InvalidInput("role", f"must be one of {roles}") from None
    if role is Role.PLATFORM:
        raise InvalidInput("role", "platforms are created with create-platform")
    if role is Role.OPERATOR:
        raise InvalidInput(
            "role", "the operator is whoever runs commands on the server's host, not an account"
        )
    if not request.username and not request.phone:
        raise InvalidInput("username", "give a username or a phone number to log in with")
    if request.username is not None and not _USERNAME.fullmatch(request.username):
        raise InvalidInput("username", "3-64 characters: lower-case letters, digits, '.', '_', '-'")
    phone = None
    if request.phone:
        try:
            phone = normalise_phone(request.phone)
        except InvalidInput as exc:
            raise InvalidInput("phone", exc.reason) from None
    password = request.password
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput("password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    name = (request.name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name", "must be 1 to 200 characters")
    if (request.qid is not None) != (role is Role.CITIZEN):
        raise InvalidInput(
            "qid", "a citizen account needs the person's QID, and only a citizen account has one"
        )
    return role, phone, name


def insert_account(
    ctx: Services, session: Session, principal: Principal, request: AccountRequest
) -> tuple[NewAccount, int]:
    """Add the account to ``session`` (the caller checked who may create it); ``(account, row id)``."""
    role, phone, name = _checked(request)
    person_id = None
    if request.qid is not None:
        person = session.scalars(select(Person).where(Person.qid == request.qid)).first()
        if person is None:
            raise NotFound("qid", "no such person")
        person_id = person.id
    account = Account(
        public_id=new_public_id("acc"),
        role=role.value,
        name=name,
        username=request.username,
        phone_hash=ctx.vault.lookup_hash("login-phone", phone) if phone else None,
        phone_enc=ctx.vault.encrypt_optional("accounts.phone", phone),
        password_hash=ctx.passwords.hash(request.password),
        person_id=person_id,
    )
    session.add(account)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("username", "this username or phone number already has an account") from None
    record(session, principal, AuditAction.ACCOUNT_CREATED, detail=f"{role.value} {account.public_id}")
    return NewAccount(account.public_id, role.value, request.username), account.id


def create_account(ctx: Services, principal: Principal, request: AccountRequest) -> NewAccount:
    """A person's account (administrators; venue staff are created by their venue's owner)."""
    principal.require(Permission.ACCOUNTS_MANAGE)
    _checked(request)  # refuse bad input before the password hash is paid for
    with ctx.db.write() as session:
        created, _ = insert_account(ctx, session, principal, request)
    return created


def login(ctx: Services, login_name: str, password: str, address: str = "local") -> TokenGrant:
    """Username or phone + password -> a short-lived bearer token. One vague error for every failure.

    Throttled (issue 10 #2): after ``UNIFIEDQR_LIMIT_LOGIN`` failures for one login from one
    ``address`` (10 in 15 minutes), or ``UNIFIEDQR_LIMIT_LOGIN_ADDRESS`` from the address for any
    login (100), the answer is 429 with ``Retry-After``, right password or wrong, until the window
    passes. Each attempt is counted *before* the hash (so a crowd of concurrent guesses cannot all
    slip in) and un-counted when it succeeds.
    """
    if not isinstance(login_name, str) or not isinstance(password, str) or len(password) > MAX_PASSWORD:
        raise Unauthenticated("wrong login or password")
    name = login_name.strip()
    phone = None
    if name and name[0] in "+0123456789":
        with contextlib.suppress(InvalidInput):
            phone = normalise_phone(name)
    attempts = _count_attempt(ctx, phone or name.lower(), address)
    try:
        grant = _check_password(ctx, name, phone, password)
    except Unauthenticated:
        raise  # stays counted
    except BaseException:
        for decision in attempts:  # busy (503) or broken: not a guess
            ctx.limits.release(decision)
        raise
    for decision in attempts:
        ctx.limits.release(decision)
    return grant


def _count_attempt(ctx: Services, login_key: str, address: str) -> list[Decision]:
    """Count one failed attempt in advance on both limits; TooManyRequests if either is reached."""
    rates = ctx.settings.limits
    one = ctx.limits.acquire("login", f"{address}|{login_key}", rates.login)
    if one.allowed:
        wide = ctx.limits.acquire("login_address", address, rates.login_address)
        if wide.allowed:
            return [one, wide]
        ctx.limits.release(one)
        one = wide
    raise TooManyRequests(
        "login", f"too many failed log-ins; try again in {one.retry_after} s", one.retry_after
    )


def _check_password(ctx: Services, name: str, phone: str | None, password: str) -> TokenGrant:
    with ctx.db.read() as session:
        if phone is not None:
            query = select(Account).where(Account.phone_hash == ctx.vault.lookup_hash("login-phone", phone))
        else:
            query = select(Account).where(Account.username == name.lower())
        account = session.scalars(query).first()
    stored = account.password_hash if account is not None and not account.disabled else None
    if not ctx.passwords.verify(stored, password) or account is None:
        raise Unauthenticated("wrong login or password")
    return _grant(ctx, account.id, account.token_version, account.role, account.public_id)


def _grant(ctx: Services, account_id: int, version: int, role: str, public_id: str) -> TokenGrant:
    """A bearer token for the account at its ``token_version`` (log-in, and after a password change)."""
    ttl = ctx.settings.token_ttl_seconds
    token, expires = issue_token(ctx.vault, account_id, version, ttl)
    return TokenGrant(token, "bearer", ttl, expires, role, public_id)


def logout_everywhere(ctx: Services, principal: Principal) -> None:
    with ctx.db.write() as session:
        account = session.get(Account, principal.account)
        if account is not None:
            account.token_version += 1
    ctx.forget_credentials()


@dataclass(frozen=True)
class PasswordChange:
    current_password: str
    new_password: str


def change_password(
    ctx: Services, principal: Principal, change: PasswordChange, address: str = "local"
) -> TokenGrant:
    """The signed-in person's own password, given the current one; every other session and token of
    the account ends (``token_version`` moves on) and the answer is a fresh token for this one.

    A wrong current password is 422 naming ``current_password`` (the caller is signed in: it is a
    form error, not a failed log-in), and counts against the log-in throttle of this account from
    this address, so a stolen session cannot guess its way to the password. Hashing runs outside the
    write transaction; a password changed meanwhile by another request is 409.
    """
    if principal.role in (Role.PLATFORM, Role.OPERATOR) or principal.account_id is None:
        raise PermissionDenied("password", "platforms use API keys; the host operator has no password")
    current, new = change.current_password, change.new_password
    if not isinstance(current, str) or not current or len(current) > MAX_PASSWORD:
        raise InvalidInput("current_password", "is required")
    if not isinstance(new, str) or not MIN_PASSWORD <= len(new) <= MAX_PASSWORD:
        raise InvalidInput("new_password", f"must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if new == current:
        raise InvalidInput("new_password", "must differ from the current password")
    attempts = _count_attempt(ctx, f"account:{principal.public_id}", address)
    with ctx.db.read() as session:
        account = session.get(Account, principal.account)
        stored = account.password_hash if account is not None and not account.disabled else None
    if not ctx.passwords.verify(stored, current):
        raise InvalidInput("current_password", "is not this account's password")  # stays counted
    for decision in attempts:
        ctx.limits.release(decision)
    fresh = ctx.passwords.hash(new)
    with ctx.db.write() as session:
        account = session.get(Account, principal.account)
        if account is None or account.password_hash != stored:
            raise Conflict("password", "the password was changed meanwhile; sign in again")
        account.password_hash = fresh
        account.token_version += 1
        version = account.token_version
        record(session, principal, AuditAction.PASSWORD_CHANGED, detail=account.public_id)
    ctx.forget_credentials()
    return _grant(ctx, principal.account, version, principal.role.value, principal.public_id)


def whoami(ctx: Services, principal: Principal) -> Identity:
    qid = None
    if principal.person_id is not None:
        with ctx.db.read() as session:
            person = session.get(Person, principal.person_id)
            qid = person.qid if person else None
    return Identity(
        principal.public_id,
        principal.role.value,
        principal.name,
        qid,
        tuple(sorted(p.value for p in principal.permissions)),
    )
