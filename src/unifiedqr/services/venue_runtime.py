"""Per-process venue state (a cache of venues and of the trust list), scope, and venue-code checks.

Why a cache (:class:`VenueRuntime`, ``ctx.venues``): every scan needs the venue, its entrances and
"is this account staff here?"; at thousands of scans a second that must not be three queries.
Entries live ``settings.venues.cache_seconds`` (5 s, like credentials): a removed staff account
keeps scanning in *another* process for at most that long (its tokens are voided at once, though);
in this process changes apply at once. The trust list for venue codes is cached for
``key_reload_seconds``; a withdrawn poster is refused at once anyway, because the venue row holds
its current signature.

Scope: the owner and staff of a venue see it; anyone else gets 404 (not 403), so a venue's
existence is never revealed. Administrators manage every venue but neither scan nor read visits.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from unifiedqr.codes.classify import classify
from unifiedqr.codes.signing import Status
from unifiedqr.codes.trust import TrustList
from unifiedqr.codes.venue import is_venue_url, parse_venue_url, verify_venue
from unifiedqr.errors import Code, NotFound, ScanRejected
from unifiedqr.services.auth import Permission, Principal, Role
from unifiedqr.services.keys import trust_list
from unifiedqr.services.visits import VisitRules
from unifiedqr.store.venue_models import Entrance, Venue, VenueStaff

if TYPE_CHECKING:
    from unifiedqr.services.context import Services


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
    """The per-process caches of the venue services (``ctx.venues``)."""

    def __init__(self, ctx: Services) -> None:
        self.ctx = ctx
        self._venues: dict[str, tuple[float, VenueInfo]] = {}
        self._trust: tuple[float, TrustList] | None = None
        self._lock = threading.Lock()

    @property
    def rules(self) -> VisitRules:
        return self.ctx.settings.visit_rules

    def trust(self) -> TrustList:
        cached = self._trust
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            trust = trust_list(self.ctx.db)
        except (OperationalError, InterfaceError):  # stale-if-error (see Services.credential)
            if cached is not None:
                return cached[1]
            raise
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
        try:
            return self._load(public_id)
        except (OperationalError, InterfaceError):  # stale-if-error (see Services.credential)
            if cached is not None:
                return cached[1]
            raise

    def _load(self, public_id: str) -> VenueInfo | None:
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
            self._venues[public_id] = (time.monotonic() + self.ctx.settings.venues.cache_seconds, info)
        return info


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
        info = ctx.venues.venue(venue_id)
        if info is None:
            raise NotFound("venue_id", "no such venue")
        return info
    principal.require(need)
    info = ctx.venues.venue(venue_id)
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


def resolve_code(ctx: Services, text: object, now: dt.datetime, field: str = "venue_code") -> VenueInfo:
    """The venue of a scanned venue code, or a ScanRejected naming why not (same names as offline)."""
    value = text.strip() if isinstance(text, str) else ""
    dev = not ctx.settings.production  # http:// codes (the demo's own address) only in development
    if not is_venue_url(value, allow_http=dev):
        kind = classify(value).kind
        if kind in ("personal", "cccd", "eu_dcc"):
            raise ScanRejected(field, Code.WRONG_KIND, f"a {kind} code is scanned by venue staff, not here")
        raise ScanRejected(
            field, Code.MALFORMED, "not a venue code (https://<host>/v/<venue id>/<signature>)"
        )
    rt = ctx.venues
    verification = verify_venue(value, rt.trust(), now, allow_http=dev)
    if verification.status is Status.UNKNOWN_KEY:
        rt.forget()  # a key published since the cache was filled
        verification = verify_venue(value, rt.trust(), now, allow_http=dev)
    if not verification.valid:
        raise ScanRejected(field, verification.status.value, verification.reason or "not a valid venue code")
    code = parse_venue_url(value, allow_http=dev)
    info = rt.venue(code.venue_id)
    if info is None:
        raise ScanRejected(field, Code.UNKNOWN_VENUE, "no venue is registered with this code")
    if code.signature != info.code_signature:
        raise ScanRejected(field, Status.CODE_REVOKED.value, "this poster was withdrawn")
    return info
