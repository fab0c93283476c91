"""Accounts, platforms and their credentials: creation, API-key rotation, password log-in.

Platforms authenticate with API keys (several may be live at once, so a platform rotates by
creating a new key, deploying it, then revoking the old one). People log in with a username or a
phone number and a password (argon2id) and receive a short-lived bearer token; changing the
password or logging out everywhere bumps ``token_version``, which voids every token issued before.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.codes.payload import normalise_phone
from unifiedqr.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from unifiedqr.services.auth import (
    MIN_PASSWORD,
    Permission,
    Principal,
    Role,
    hash_password,
    issue_token,
    new_api_key,
    new_public_id,
    verify_password,
)
from unifiedqr.services.context import Services
from unifiedqr.store.models import Account, ApiKey, Person

_USERNAME = re.compile(r"[a-z][a-z0-9._-]{2,63}")


@dataclass(frozen=True)
class NewPlatform:
    platform_id: str
    api_key: str
    api_key_id: str


def create_platform(ctx: Services, name: str, principal: Principal | None = None) -> NewPlatform:
    """A new platform account with its first API key (shown once; only its keyed hash is stored).

    ``principal`` is None when an administrator runs the command on the server's host.
    """
    if principal is not None:
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
    return NewPlatform(account.public_id, key, key_row.public_id)


def _platform_account(session: Session, principal: Principal | None, platform_id: str) -> Account:
    account = session.scalars(
        select(Account).where(Account.public_id == platform_id, Account.role == Role.PLATFORM.value)
    ).first()
    if account is None:
        raise NotFound("platform_id", "no such platform")
    if principal is not None and not principal.can(Permission.PLATFORMS_MANAGE):
        principal.require(Permission.OWN_API_KEYS_MANAGE)
        if account.id != principal.account_id:
            raise NotFound("platform_id", "no such platform")
    return account


def add_api_key(
    ctx: Services, principal: Principal | None, platform_id: str, label: str = ""
) -> dict[str, str]:
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
    return {"api_key_id": row.public_id, "api_key": key, "platform_id": platform_id}


def list_api_keys(ctx: Services, principal: Principal | None, platform_id: str) -> list[dict[str, Any]]:
    with ctx.db.read() as session:
        account = _platform_account(session, principal, platform_id)
        rows = session.scalars(
            select(ApiKey).where(ApiKey.account_id == account.id).order_by(ApiKey.created_at)
        )
        return [
            {
                "api_key_id": r.public_id,
                "label": r.label,
                "created_at": r.created_at.isoformat(),
                "revoked_at": r.revoked_at.isoformat() if r.revoked_at else None,
            }
            for r in rows
        ]


def revoke_api_key(ctx: Services, principal: Principal | None, platform_id: str, api_key_id: str) -> None:
    """Rotation step 2. Other processes honour it within the API-key cache time (a few seconds)."""
    with ctx.db.write() as session:
        account = _platform_account(session, principal, platform_id)
        row = session.scalars(
            select(ApiKey).where(ApiKey.public_id == api_key_id, ApiKey.account_id == account.id)
        ).first()
        if row is None:
            raise NotFound("api_key_id", "no such API key")
        if row.revoked_at is None:
            row.revoked_at = ctx.now()
    ctx.forget_api_keys()


def create_account(
    ctx: Services,
    principal: Principal | None,
    *,
    role: str,
    name: str,
    password: str,
    username: str | None = None,
    phone: str | None = None,
    qid: str | None = None,
) -> dict[str, Any]:
    """A person's account (any role but platform). A citizen account is linked to a QID."""
    if principal is not None:
        principal.require(Permission.ACCOUNTS_MANAGE)
    try:
        role_value = Role(role)
    except ValueError:
        raise InvalidInput("role", f"must be one of {', '.join(r.value for r in Role)}") from None
    if role_value is Role.PLATFORM:
        raise InvalidInput("role", "platforms are created with create-platform")
    if not username and not phone:
        raise InvalidInput("username", "give a username or a phone number to log in with")
    if username is not None and not _USERNAME.fullmatch(username):
        raise InvalidInput("username", "3-64 characters: lower-case letters, digits, '.', '_', '-'")
    phone_value = None
    if phone:
        try:
            phone_value = normalise_phone(phone)
        except InvalidInput as exc:
            raise InvalidInput("phone", exc.reason) from None
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 1024:
        raise InvalidInput("password", f"must be {MIN_PASSWORD} to 1024 characters")
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise InvalidInput("name", "must be 1 to 200 characters")
    if (qid is not None) != (role_value is Role.CITIZEN):
        raise InvalidInput(
            "qid", "a citizen account needs the person's QID, and only a citizen account has one"
        )
    password_hash = hash_password(password)
    try:
        with ctx.db.write() as session:
            person_id = None
            if qid is not None:
                person = session.scalars(select(Person).where(Person.qid == qid)).first()
                if person is None:
                    raise NotFound("qid", "no such person")
                person_id = person.id
            account = Account(
                public_id=new_public_id("acc"),
                role=role_value.value,
                name=name,
                username=username,
                phone_hash=ctx.vault.lookup_hash("login-phone", phone_value) if phone_value else None,
                phone_enc=ctx.vault.encrypt_optional("accounts.phone", phone_value),
                password_hash=password_hash,
                person_id=person_id,
            )
            session.add(account)
    except IntegrityError:
        raise Conflict("username", "this username or phone number already has an account") from None
    return {"account_id": account.public_id, "role": role_value.value, "username": username}


def login(ctx: Services, login_name: str, password: str) -> dict[str, Any]:
    """Username or phone + password -> a short-lived bearer token. One vague error for every failure."""
    if not isinstance(login_name, str) or not isinstance(password, str) or len(password) > 1024:
        raise Unauthenticated("wrong login or password")
    name = login_name.strip()
    with ctx.db.read() as session:
        query = select(Account).where(Account.username == name.lower())
        if name and name[0] in "+0123456789":
            with contextlib.suppress(InvalidInput):
                query = select(Account).where(
                    Account.phone_hash == ctx.vault.lookup_hash("login-phone", normalise_phone(name))
                )
        account = session.scalars(query).first()
    stored = account.password_hash if account is not None and not account.disabled else None
    if not verify_password(stored, password) or account is None:
        raise Unauthenticated("wrong login or password")
    token, expires = issue_token(ctx.vault, account.id, account.token_version, ctx.settings.token_ttl_seconds)
    return {
        "access_token": token,
        "token_type": "bearer",
        "expires_in": ctx.settings.token_ttl_seconds,
        "expires_at": expires,
        "role": account.role,
        "account_id": account.public_id,
    }


def logout_everywhere(ctx: Services, principal: Principal) -> None:
    with ctx.db.write() as session:
        account = session.get(Account, principal.account_id)
        if account is not None:
            account.token_version += 1


def whoami(ctx: Services, principal: Principal) -> dict[str, Any]:
    qid = None
    if principal.person_id is not None:
        with ctx.db.read() as session:
            person = session.get(Person, principal.person_id)
            qid = person.qid if person else None
    return {
        "account_id": principal.public_id,
        "role": principal.role.value,
        "name": principal.name,
        "qid": qid,
        "permissions": sorted(p.value for p in principal.permissions),
    }
