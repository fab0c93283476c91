"""Venues: registration, entrances, staff accounts, the signed venue code, its poster and withdrawal.

The code is ``https://<host>/v/<venue id>/<signature>`` (``unifiedqr.codes.venue``): the venue id
is 11 random base64url characters (never a counter, so neighbours reveal nothing), the host is
``UNIFIEDQR_VENUE_BASE_URL``. Withdrawing a poster signs a new code and publishes the old
signature's revocation id in the trust list's ``revoked_codes``, so offline verifiers say
``code_revoked`` too. Owners' phones are stored encrypted with a keyed hash for look-ups, like
every phone on the platform.

Every withdrawal adds an entry to the public trust list that every verifier downloads, so it is
**limited**, not merely slowed: at most :data:`MAX_WITHDRAWALS` per venue in any
:data:`WITHDRAWAL_WINDOW`, counted in the database (so restarts and workers agree); beyond that,
429 with ``Retry-After`` (issue 10 #7). A cool-down alone would still let the list grow every day.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from unifiedqr.codes.build import normalise_phone
from unifiedqr.codes.signing import revocation_id_of
from unifiedqr.codes.venue import VenueCode, sign_venue
from unifiedqr.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from unifiedqr.services import accounts
from unifiedqr.services.audit import AuditAction, record
from unifiedqr.services.auth import Permission, Principal, Role, new_public_id
from unifiedqr.services.context import Services
from unifiedqr.services.venue_runtime import VenueInfo, venue_for
from unifiedqr.services.visits import VENUE_TYPES
from unifiedqr.store.models import Account, RevokedCode
from unifiedqr.store.venue_models import Entrance, Venue, VenueStaff

MAX_ENTRANCES = 50
MAX_WITHDRAWALS = 5
WITHDRAWAL_WINDOW = dt.timedelta(days=30)


@dataclass(frozen=True)
class Address:
    province: str
    district: str
    commune: str
    street: str


@dataclass(frozen=True)
class EntranceView:
    entrance_id: str
    name: str


@dataclass(frozen=True)
class VenueView:
    venue_id: str
    code: str
    name: str
    type: str
    address: Address
    entrances: tuple[EntranceView, ...]
    default_stay_minutes: int | None


@dataclass(frozen=True)
class RegisteredVenue(VenueView):
    """A new venue; ``owner_login``/``owner_password`` only when an owner account was created (once)."""

    owner_account_id: str = ""
    owner_login: str | None = None
    owner_password: str | None = None


@dataclass(frozen=True)
class StaffMember:
    account_id: str
    name: str
    username: str | None
    added_at: dt.datetime


@dataclass(frozen=True)
class WithdrawnCode:
    venue_id: str
    code: str
    withdrawn_revocation_id: str


def _sign(ctx: Services, public_id: str, now: dt.datetime) -> VenueCode:
    """The venue's code on the configured host (``http://`` accepted only outside production)."""
    base = ctx.settings.venues.base_url
    return sign_venue(base, public_id, ctx.keys.current(now), now, allow_http=not ctx.settings.production)


# ---------------------------------------------------------------------------------------------------
# Registration
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class VenueRegistration:
    name: str
    type: str
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
    if reg.type not in VENUE_TYPES:
        raise InvalidInput("type", f"must be one of {', '.join(VENUE_TYPES)}")
    try:
        phone = normalise_phone(reg.owner_phone, "owner_phone")
    except InvalidInput as exc:
        raise InvalidInput("owner_phone", exc.reason) from None
    names = tuple(_text("entrances", n, 100) for n in reg.entrances) or ("main",)
    if len(set(names)) != len(names) or len(names) > MAX_ENTRANCES:
        raise InvalidInput("entrances", f"at most {MAX_ENTRANCES} entrances, each name once")
    stay = reg.default_stay_minutes
    if stay is not None and not 1 <= stay <= 24 * 60:
        raise InvalidInput("default_stay_minutes", "must be 1 to 1440")
    return VenueRegistration(
        _text("name", reg.name, 200),
        reg.type,
        _text("province", reg.province, 100),
        _text("district", reg.district, 100),
        _text("commune", reg.commune, 100),
        _text("street", reg.street, 200),
        phone,
        names,
        stay,
    )


def register(ctx: Services, principal: Principal, reg: VenueRegistration) -> RegisteredVenue:
    """Register a venue and sign its code.

    A venue owner registers for themselves; an administrator (or the host operator) registers for
    an owner found by the phone, or created with a random password that is returned once.
    """
    principal.require(Permission.VENUES_REGISTER)
    clean = _clean(reg)
    now = ctx.now()
    public_id = secrets.token_urlsafe(8)  # 11 characters, random: never a counter
    code = _sign(ctx, public_id, now)
    with ctx.db.write() as session:
        if principal.role is Role.VENUE_OWNER:
            owner_id, owner_password = principal.account, None
        else:
            owner_id, owner_password = _owner_for(ctx, session, clean)
        venue = Venue(
            public_id=public_id,
            name=clean.name,
            kind=clean.type,
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
    shown = _view_of(ctx, public_id)
    return RegisteredVenue(
        **{f: getattr(shown, f) for f in VenueView.__dataclass_fields__},
        owner_account_id=owner_public,
        owner_login=clean.owner_phone if owner_password else None,
        owner_password=owner_password,
    )


def _owner_for(ctx: Services, session: Session, clean: VenueRegistration) -> tuple[int, str | None]:
    """The owner account with this login phone, or a new one: ``(account id, new password or None)``."""
    login_hash = ctx.vault.lookup_hash("login-phone", clean.owner_phone)
    owner = session.scalars(select(Account).where(Account.phone_hash == login_hash)).first()
    if owner is not None:
        if owner.role != Role.VENUE_OWNER.value:
            raise Conflict("owner_phone", "this phone number belongs to an account that cannot own venues")
        return owner.id, None
    password = secrets.token_urlsafe(12)
    owner = Account(
        public_id=new_public_id("acc"),
        role=Role.VENUE_OWNER.value,
        name=f"Owner of {clean.name}"[:200],
        phone_hash=login_hash,
        phone_enc=ctx.vault.encrypt("accounts.phone", clean.owner_phone),
        password_hash=ctx.passwords.hash(password),
    )
    session.add(owner)
    session.flush()
    return owner.id, password


def view(info: VenueInfo) -> VenueView:
    province, district, commune, street = info.address
    return VenueView(
        info.public_id,
        info.code,
        info.name,
        info.kind,
        Address(province, district, commune, street),
        tuple(EntranceView(pid, name) for pid, (_, name) in info.entrances.items()),
        info.default_stay_minutes,
    )


def _view_of(ctx: Services, venue_id: str) -> VenueView:
    info = ctx.venues.venue(venue_id)
    if info is None:
        raise NotFound("venue_id", "no such venue")
    return view(info)


def get(ctx: Services, principal: Principal, venue_id: str) -> VenueView:
    return view(venue_for(ctx, principal, venue_id, Permission.VENUE_READ))


def mine(ctx: Services, principal: Principal) -> list[VenueView]:
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
    infos = [ctx.venues.venue(i) for i in ids]
    return [view(i) for i in infos if i is not None]


def add_entrance(ctx: Services, principal: Principal, venue_id: str, name: str) -> EntranceView:
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
    clean = _text("name", name, 100)
    if len(info.entrances) >= MAX_ENTRANCES:
        raise Conflict("name", f"a venue has at most {MAX_ENTRANCES} entrances")
    try:
        with ctx.db.write() as session:
            row = Entrance(public_id=new_public_id("ent"), venue_id=info.id, name=clean)
            session.add(row)
    except IntegrityError:
        raise Conflict("name", "this venue already has an entrance with that name") from None
    ctx.venues.forget(venue_id)
    return EntranceView(row.public_id, clean)


# ---------------------------------------------------------------------------------------------------
# Staff
# ---------------------------------------------------------------------------------------------------
def add_staff(
    ctx: Services, principal: Principal, venue_id: str, *, name: str, username: str, password: str
) -> accounts.NewAccount:
    """A new staff account (role ``venue_staff``) that scans for this venue (owner or administrator)."""
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
    request = accounts.AccountRequest(
        role=Role.VENUE_STAFF.value, name=name, password=password, username=username
    )
    with ctx.db.write() as session:
        created, account_id = accounts.insert_account(ctx, session, principal, request)
        session.add(VenueStaff(venue_id=info.id, account_id=account_id))
    ctx.venues.forget(venue_id)
    return created


def list_staff(ctx: Services, principal: Principal, venue_id: str) -> list[StaffMember]:
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
    with ctx.db.read() as session:
        rows = session.execute(
            select(Account.public_id, Account.name, Account.username, VenueStaff.created_at)
            .join(VenueStaff, VenueStaff.account_id == Account.id)
            .where(VenueStaff.venue_id == info.id)
            .order_by(VenueStaff.created_at)
        ).all()
    return [StaffMember(r.public_id, r.name, r.username, r.created_at) for r in rows]


def remove_staff(ctx: Services, principal: Principal, venue_id: str, account_id: str) -> None:
    """Unlink a staff account; it is disabled (and its tokens voided) when it staffs nowhere else."""
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
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
    ctx.venues.forget(venue_id)
    ctx.forget_credentials()


# ---------------------------------------------------------------------------------------------------
# The code and the poster
# ---------------------------------------------------------------------------------------------------
def withdraw_code(ctx: Services, principal: Principal, venue_id: str) -> WithdrawnCode:
    """Sign a new code for the venue; the old one goes on ``revoked_codes`` (a lost or defaced poster)."""
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
    now = ctx.now()
    code = _sign(ctx, info.public_id, now)
    old = revocation_id_of(info.code_signature)
    with ctx.db.write() as session:
        _check_withdrawals(session, info.id, now)
        venue = session.get(Venue, info.id)
        assert venue is not None
        venue.code_signature, venue.code_base_url = code.signature, code.base_url
        if session.get(RevokedCode, old) is None:
            session.add(
                RevokedCode(
                    revocation_id=old,
                    person_id=None,
                    reason="poster_withdrawn",
                    venue_id=info.id,
                    created_at=now,
                )
            )
        record(session, principal, AuditAction.VENUE_CODE_WITHDRAWN, detail=f"{venue_id} {old}")
    ctx.venues.forget()
    return WithdrawnCode(venue_id, code.url, old)


def _check_withdrawals(session: Session, venue_id: int, now: dt.datetime) -> None:
    """TooManyRequests once the venue withdrew :data:`MAX_WITHDRAWALS` codes within the window."""
    times = session.scalars(
        select(RevokedCode.created_at)
        .where(RevokedCode.venue_id == venue_id, RevokedCode.created_at > now - WITHDRAWAL_WINDOW)
        .order_by(RevokedCode.created_at)
    ).all()
    if len(times) >= MAX_WITHDRAWALS:
        frees = times[len(times) - MAX_WITHDRAWALS] + WITHDRAWAL_WINDOW
        raise TooManyRequests(
            "venue_id",
            f"at most {MAX_WITHDRAWALS} withdrawals in {WITHDRAWAL_WINDOW.days} days",
            int((frees - now).total_seconds()) + 1,
        )


def poster(ctx: Services, principal: Principal, venue_id: str, fmt: str = "pdf") -> bytes:
    """The printable A4 poster (code ≥ 15 × 15 cm) as PDF or PNG."""
    from unifiedqr import imaging

    info = venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
    province, district, commune, street = info.address
    lines = [
        f"{street}, {commune}",
        f"{district}, {province}",
        "Quét mã để khai báo vào/ra · Scan to check in",
    ]
    return imaging.render_poster(info.code, title=info.name, subtitle_lines=lines, fmt=fmt)  # type: ignore[arg-type]
