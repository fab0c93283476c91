"""Venues: registration, entrances, staff, the signed venue code and its poster, and who may do what.

Why a per-process cache of venues (:class:`VenueRuntime`): every scan needs the venue, its
entrances and "is this account staff here?"; at thousands of scans a second that must not be three
queries. Entries live ``cache_seconds`` (5 s, like API keys): a removed staff account keeps
scanning in *another* process for at most that long; in this process changes apply at once. The
trust list used to check venue codes is cached the same way for ``key_reload_seconds``; a
withdrawn poster is refused at once anyway, because the venue row holds its current signature.

Scope: the owner and staff of a venue see it; anyone else gets 404 (not 403), so a venue's
existence is never revealed. Administrators manage every venue but do not read visits.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from unifiedqr.codes.classify import classify
from unifiedqr.codes.payload import normalise_phone
from unifiedqr.codes.signing import Status, revocation_id_of
from unifiedqr.codes.trust import TrustList
from unifiedqr.codes.venue import is_venue_url, parse_venue_url, sign_venue, verify_venue
from unifiedqr.errors import ConfigError, Conflict, InvalidInput, NotFound
from unifiedqr.services.auth import Permission, Principal, Role, hash_password, new_public_id
from unifiedqr.services.context import Services
from unifiedqr.services.keys import trust_list
from unifiedqr.services.visits import VENUE_TYPES, VisitRules
from unifiedqr.store.models import Account, RevokedCode
from unifiedqr.store.venue_models import Entrance, Venue, VenueStaff

DEFAULT_BASE_URL = "https://checkin.unifiedqr.vn"
BATCH_CAP = 5000


class ScanRejected(InvalidInput):
    """A scan or code refused for a named reason (``name``: ``code_revoked``, ``wrong_kind`` ...)."""

    def __init__(self, field: str, name: str, explanation: str) -> None:
        super().__init__(field, f"{name}: {explanation}")
        self.name = name


@dataclass(frozen=True)
class VenueConfig:
    """``UNIFIEDQR_VENUE_BASE_URL`` (the host printed on posters), the batch cap, the visit rules."""

    base_url: str = DEFAULT_BASE_URL
    batch_cap: int = BATCH_CAP
    cache_seconds: float = 5.0
    rules: VisitRules = field(default_factory=VisitRules)

    @classmethod
    def from_env(cls) -> VenueConfig:
        base = (os.environ.get("UNIFIEDQR_VENUE_BASE_URL") or DEFAULT_BASE_URL).strip().rstrip("/")
        if not base.startswith("https://") or len(base) > 47:
            raise ConfigError("UNIFIEDQR_VENUE_BASE_URL must be https://<host> of at most 47 characters")
        return cls(base_url=base, rules=VisitRules.from_env())


@dataclass(frozen=True)
class VenueInfo:
    """What a scan needs to know about a venue, cached per process."""

    id: int
    public_id: str
    name: str
    kind: str
    address: tuple[str, str, str, str]
    owner_account_id: int
    staff: frozenset[int]
    entrances: dict[str, tuple[int, str]]  # public id -> (row id, name), first = default
    default_stay_minutes: int | None
    code_signature: str
    code_base_url: str

    @property
    def code(self) -> str:
        return f"{self.code_base_url}/v/{self.public_id}/{self.code_signature}"

    @property
    def entrance_names(self) -> dict[int, tuple[str, str]]:
        return {row_id: (public_id, name) for public_id, (row_id, name) in self.entrances.items()}

    def stay(self, rules: VisitRules) -> dt.timedelta:
        return rules.stay(self.kind, self.default_stay_minutes)


class VenueRuntime:
    """The per-process caches (venues, trust list) and configuration of the venue services."""

    def __init__(self, ctx: Services, config: VenueConfig) -> None:
        self.ctx = ctx
        self.config = config
        self._venues: dict[str, tuple[float, VenueInfo]] = {}
        self._trust: tuple[float, TrustList] | None = None
        self._lock = threading.Lock()

    def trust(self) -> TrustList:
        cached = self._trust
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        trust = trust_list(self.ctx.db)
        self._trust = (time.monotonic() + self.ctx.settings.key_reload_seconds, trust)
        return trust

    def forget(self, public_id: str | None = None) -> None:
        with self._lock:
            if public_id is None:
                self._venues.clear()
                self._trust = None
            else:
                self._venues.pop(public_id, None)

    def venue(self, public_id: str) -> VenueInfo | None:
        cached = self._venues.get(public_id)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        if not isinstance(public_id, str) or not 6 <= len(public_id) <= 32:
            return None
        with self.ctx.db.read() as session:
            row = session.scalars(select(Venue).where(Venue.public_id == public_id)).first()
            if row is None:
                return None
            staff = frozenset(
                session.scalars(select(VenueStaff.account_id).where(VenueStaff.venue_id == row.id))
            )
            entrances = session.execute(
                select(Entrance.public_id, Entrance.id, Entrance.name)
                .where(Entrance.venue_id == row.id)
                .order_by(Entrance.id)
            ).all()
        info = VenueInfo(
            row.id,
            row.public_id,
            row.name,
            row.kind,
            (row.province, row.district, row.commune, row.street),
            row.owner_account_id,
            staff,
            {e.public_id: (e.id, e.name) for e in entrances},
            row.default_stay_minutes,
            row.code_signature,
            row.code_base_url,
        )
        with self._lock:
            if len(self._venues) > 50_000:
                self._venues.clear()
            self._venues[public_id] = (time.monotonic() + self.config.cache_seconds, info)
        return info


_RUNTIMES: weakref.WeakKeyDictionary[Services, VenueRuntime] = weakref.WeakKeyDictionary()
_RUNTIME_LOCK = threading.Lock()


def runtime(ctx: Services, config: VenueConfig | None = None) -> VenueRuntime:
    """The venue runtime of ``ctx`` (created on first use; pass ``config`` to replace it: tests)."""
    current = _RUNTIMES.get(ctx)
    if current is not None and config is None:
        return current
    with _RUNTIME_LOCK:
        current = _RUNTIMES.get(ctx)
        if current is None or config is not None:
            current = VenueRuntime(ctx, config or VenueConfig.from_env())
            _RUNTIMES[ctx] = current
        return current


# ---------------------------------------------------------------------------------------------------
# Scope
# ---------------------------------------------------------------------------------------------------
_STAFF_OK = (Permission.VENUE_READ, Permission.VENUE_SCANS_SUBMIT)


def venue_for(ctx: Services, principal: Principal, venue_id: str, need: Permission) -> VenueInfo:
    """The venue if ``principal`` may do ``need`` there; 403 without the permission, else 404."""
    if principal.can(Permission.ANY_VENUES_MANAGE) and need in (
        Permission.VENUE_MANAGE,
        Permission.VENUE_READ,
    ):
        info = runtime(ctx).venue(venue_id)
        if info is None:
            raise NotFound("venue_id", "no such venue")
        return info
    principal.require(need)
    info = runtime(ctx).venue(venue_id)
    if info is None:
        raise NotFound("venue_id", "no such venue")
    if principal.account_id == info.owner_account_id:
        return info
    if need in _STAFF_OK and principal.role is Role.VENUE_STAFF and principal.account_id in info.staff:
        return info
    raise NotFound("venue_id", "no such venue")


def entrance_of(info: VenueInfo, entrance_id: str | None, field: str = "entrance_id") -> int:
    if entrance_id is None:
        return next(iter(info.entrances.values()))[0]
    found = info.entrances.get(entrance_id)
    if found is None:
        raise NotFound(field, "no such entrance at this venue")
    return found[0]


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


def add_entrance(ctx: Services, principal: Principal, venue_id: str, name: str) -> dict[str, str]:
    info = venue_for(ctx, principal, venue_id, Permission.VENUE_MANAGE)
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


def resolve_code(ctx: Services, text: object, now: dt.datetime, field: str = "venue_code") -> VenueInfo:
    """The venue of a scanned venue code, or a ScanRejected naming why not (same names as offline)."""
    value = text.strip() if isinstance(text, str) else ""
    if not is_venue_url(value):
        kind = classify(value).kind
        if kind in ("personal", "cccd", "eu_dcc"):
            raise ScanRejected(field, "wrong_kind", f"a {kind} code is scanned by venue staff, not here")
        raise ScanRejected(field, "malformed", "not a venue code (https://<host>/v/<venue id>/<signature>)")
    rt = runtime(ctx)
    verification = verify_venue(value, rt.trust(), now)
    if verification.status is Status.UNKNOWN_KEY:
        rt.forget()  # a key published since the cache was filled
        verification = verify_venue(value, rt.trust(), now)
    if not verification.valid:
        raise ScanRejected(field, verification.status.value, verification.reason or "not a valid venue code")
    code = parse_venue_url(value)
    info = rt.venue(code.venue_id)
    if info is None:
        raise ScanRejected(field, "unknown_venue", "no venue is registered with this code")
    if code.signature != info.code_signature:
        raise ScanRejected(field, Status.CODE_REVOKED.value, "this poster was withdrawn")
    return info
