"""Venues: registration, entrances, staff accounts, the signed venue code, its poster and withdrawal.

The code is ``https://<host>/v/<venue id>/<signature>`` (``unifiedqr.codes.venue``): the venue id
is 11 random base64url characters (never a counter, so neighbours reveal nothing), the host is
``UNIFIEDQR_VENUE_BASE_URL``. Withdrawing a poster signs a new code and publishes the old
signature's revocation id in the trust list's ``revoked_codes``, so offline verifiers say
``code_revoked`` too. Owners' phones are stored encrypted with a keyed hash for look-ups, like
every phone on the platform.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from unifiedqr.codes.payload import normalise_phone
from unifiedqr.codes.signing import revocation_id_of
from unifiedqr.codes.venue import sign_venue
from unifiedqr.errors import Conflict, InvalidInput, NotFound
from unifiedqr.services.auth import Permission, Principal, Role, hash_password, new_public_id
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import VenueInfo, runtime, venue_for
from unifiedqr.services.visits import VENUE_TYPES
from unifiedqr.store.models import Account, RevokedCode
from unifiedqr.store.venue_models import Entrance, Venue, VenueStaff


# ---------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VenueRegistration:
    name: str
    kind: str
    province: str
    district: str
    commune: str
    street: str
    owner_phone: str
    entrances: tuple[str, ...] = ("main",)
    default_stay_minutes: int | None = None


def _text(field: str, value: object, limit: int) -> str:
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text or len(text) > limit:
        raise InvalidInput(field, f"must be 1 to {limit} characters")
    return text


def _clean(reg: VenueRegistration) -> VenueRegistration:
    if reg.kind not in VENUE_TYPES:
        raise InvalidInput("type", f"must be one of {', '.join(VENUE_TYPES)}")
    try:
        phone = normalise_phone(reg.owner_phone, "owner_phone")
    except InvalidInput as exc:
        raise InvalidInput("owner_phone", exc.reason) from None
    names = tuple(_text("entrances", n, 100) for n in reg.entrances) or ("main",)
    if len(set(names)) != len(names) or len(names) > 50:
        raise InvalidInput("entrances", "at most 50 entrances, each name once")
    stay = reg.default_stay_minutes
    if stay is not None and not 1 <= stay <= 24 * 60:
        raise InvalidInput("default_stay_minutes", "must be 1 to 1440")
    return VenueRegistration(
        _text("name", reg.name, 200),
        reg.kind,
        _text("province", reg.province, 100),
        _text("district", reg.district, 100),
        _text("commune", reg.commune, 100),
        _text("street", reg.street, 200),
        phone,
        names,
        stay,
    )


def register(ctx: Services, principal: Principal | None, reg: VenueRegistration) -> dict[str, Any]:
    """Register a venue and sign its code.

    ``principal`` None is an administrator on the server's host (the CLI). A venue owner registers
    for themselves; otherwise the owner's account is found by the phone, or created with a random
    password that is returned once (``owner_password``).
    """
    if principal is not None:
        principal.require(Permission.VENUES_REGISTER)
    clean = _clean(reg)
    config = runtime(ctx).config
    now = ctx.now()
    public_id = secrets.token_urlsafe(8)  # 11 characters, random: never a counter
    code = sign_venue(config.base_url, public_id, ctx.keys.current(now), now)
    login_hash = ctx.vault.lookup_hash("login-phone", clean.owner_phone)
    owner_password = None
    with ctx.db.write() as session:
        if principal is not None and principal.role is Role.VENUE_OWNER:
            owner_id = principal.account_id
        else:
            owner = session.scalars(select(Account).where(Account.phone_hash == login_hash)).first()
            if owner is not None and owner.role != Role.VENUE_OWNER.value:
                raise Conflict(
                    "owner_phone", "this phone number belongs to an account that cannot own venues"
                )
            if owner is None:
                owner_password = secrets.token_urlsafe(12)
                owner = Account(
                    public_id=new_public_id("acc"),
                    role=Role.VENUE_OWNER.value,
                    name=f"Owner of {clean.name}"[:200],
                    phone_hash=login_hash,
                    phone_enc=ctx.vault.encrypt("accounts.phone", clean.owner_phone),
                    password_hash=hash_password(owner_password),
                )
                session.add(owner)
                session.flush()
            owner_id = owner.id
        venue = Venue(
            public_id=public_id,
            name=clean.name,
            kind=clean.kind,
            province=clean.province,
            district=clean.district,
            commune=clean.commune,
            street=clean.street,
            owner_account_id=owner_id,
            owner_phone_hash=ctx.vault.lookup_hash("phone", clean.owner_phone),
            owner_phone_enc=ctx.vault.encrypt("venues.owner_phone", clean.owner_phone),
            default_stay_minutes=clean.default_stay_minutes,
            code_signature=code.signature,
            code_base_url=code.base_url,
            created_at=now,
        )
        session.add(venue)
        session.flush()
        for name in clean.entrances:
            session.add(
                Entrance(public_id=new_public_id("ent"), venue_id=venue.id, name=name, created_at=now)
            )
        owner_public = session.scalars(select(Account.public_id).where(Account.id == owner_id)).one()
    info = runtime(ctx).venue(public_id)
    assert info is not None
    result = describe(info)
    result["owner_account_id"] = owner_public
    if owner_password is not None:
        result.update({"owner_login": clean.owner_phone, "owner_password": owner_password})
    return result


def describe(info: VenueInfo) -> dict[str, Any]:
    province, district, commune, street = info.address
    return {
        "venue_id": info.public_id,
        "code": info.code,
        "name": info.name,
        "type": info.kind,
        "address": {"province": province, "district": district, "commune": commune, "street": street},
        "entrances": [{"entrance_id": pid, "name": name} for pid, (_, name) in info.entrances.items()],
        "default_stay_minutes": info.default_stay_minutes,
    }


def get(ctx: Services, principal: Principal, venue_id: str) -> dict[str, Any]:
    return describe(venue_for(ctx, principal, venue_id, Permission.VENUE_READ))


def mine(ctx: Services, principal: Principal) -> list[dict[str, Any]]:
    """The venues the caller owns or staffs."""
    principal.require(Permission.VENUE_READ, Permission.ANY_VENUES_MANAGE)
    with ctx.db.read() as session:
        owned = session.scalars(select(Venue.public_id).where(Venue.owner_account_id == principal.account_id))
        staffed = session.scalars(
            select(Venue.public_id)
            .join(VenueStaff, VenueStaff.venue_id == Venue.id)
            .where(VenueStaff.account_id == principal.account_id)
        )
        ids = sorted(set(owned) | set(staffed))
    infos = [runtime(ctx).venue(i) for i in ids]
    return [describe(i) for i in infos if i is not None]


def add_entrance(ctx: Services, principal: Principal | None, venue_id: str, name: str) -> dict[str, str]:
    info = _managed(ctx, principal, venue_id)
    clean = _text("name", name, 100)
    try:
        with ctx.db.write() as session:
            row = Entrance(public_id=new_public_id("ent"), venue_id=info.id, name=clean)
            session.add(row)
    except IntegrityError:
        raise Conflict("name", "this venue already has an entrance with that name") from None
    runtime(ctx).forget(venue_id)
    return {"entrance_id": row.public_id, "name": clean}


# ---------------------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------------------
def add_staff(
    ctx: Services, principal: Principal | None, venue_id: str, *, name: str, username: str, password: str
) -> dict[str, Any]:
    """A new staff account (role ``venue_staff``) that scans for this venue."""
    from unifiedqr.services import accounts

    info = _managed(ctx, principal, venue_id)
    created = accounts.create_account(
        ctx, None, role=Role.VENUE_STAFF.value, name=name, password=password, username=username
    )
    with ctx.db.write() as session:
        account_id = session.scalars(
            select(Account.id).where(Account.public_id == created["account_id"])
        ).one()
        session.add(VenueStaff(venue_id=info.id, account_id=account_id))
    runtime(ctx).forget(venue_id)
    return {"account_id": created["account_id"], "username": username, "venue_id": venue_id}


def list_staff(ctx: Services, principal: Principal | None, venue_id: str) -> list[dict[str, Any]]:
    info = _managed(ctx, principal, venue_id)
    with ctx.db.read() as session:
        rows = session.execute(
            select(Account.public_id, Account.name, Account.username, VenueStaff.created_at)
            .join(VenueStaff, VenueStaff.account_id == Account.id)
            .where(VenueStaff.venue_id == info.id)
            .order_by(VenueStaff.created_at)
        ).all()
    return [
        {
            "account_id": r.public_id,
            "name": r.name,
            "username": r.username,
            "added_at": r.created_at.isoformat(),
        }
        for r in rows
    ]


def remove_staff(ctx: Services, principal: Principal | None, venue_id: str, account_id: str) -> None:
    """Unlink a staff account; it is disabled (and its tokens voided) when it staffs nowhere else."""
    info = _managed(ctx, principal, venue_id)
    with ctx.db.write() as session:
        account = session.scalars(select(Account).where(Account.public_id == account_id)).first()
        if account is None or account.id not in info.staff:
            raise NotFound("account_id", "no such staff member at this venue")
        session.execute(
            delete(VenueStaff).where(VenueStaff.venue_id == info.id, VenueStaff.account_id == account.id)
        )
        elsewhere = session.scalars(
            select(VenueStaff.venue_id).where(VenueStaff.account_id == account.id)
        ).first()
        if elsewhere is None:
            account.disabled = True
            account.token_version += 1
    runtime(ctx).forget(venue_id)


def _managed(ctx: Services, principal: Principal | None, venue_id: str) -> VenueInfo:
    if principal is not None:
        return venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
    info = runtime(ctx).venue(venue_id)
    if info is None:
        raise NotFound("venue_id", "no such venue")
    return info


# ---------------------------------------------------------------------------------------------------
# The code and the poster
# ---------------------------------------------------------------------------------------------------
def withdraw_code(ctx: Services, principal: Principal | None, venue_id: str) -> dict[str, Any]:
    """Sign a new code for the venue; the old one goes on ``revoked_codes`` (a lost or defaced poster)."""
    info = _managed(ctx, principal, venue_id)
    now = ctx.now()
    config = runtime(ctx).config
    code = sign_venue(config.base_url, info.public_id, ctx.keys.current(now), now)
    old = revocation_id_of(info.code_signature)
    with ctx.db.write() as session:
        venue = session.get(Venue, info.id)
        assert venue is not None
        venue.code_signature, venue.code_base_url = code.signature, code.base_url
        if session.get(RevokedCode, old) is None:
            session.add(RevokedCode(revocation_id=old, person_id=None, reason="poster_withdrawn"))
    runtime(ctx).forget()
    return {"venue_id": venue_id, "code": code.url, "withdrawn_revocation_id": old}


def poster(ctx: Services, principal: Principal | None, venue_id: str, fmt: str = "pdf") -> bytes:
    """The printable A4 poster (code ≥ 15 × 15 cm) as PDF or PNG."""
    from unifiedqr import imaging

    info = (
        _managed(ctx, principal, venue_id)
        if principal is None
        else venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
    )
    province, district, commune, street = info.address
    lines = [
        f"{street}, {commune}",
        f"{district}, {province}",
        "Quét mã để khai báo vào/ra · Scan to check in",
    ]
    return imaging.render_poster(info.code, title=info.name, subtitle_lines=lines, fmt=fmt)  # type: ignore[arg-type]
