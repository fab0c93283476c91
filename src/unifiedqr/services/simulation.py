"""``unifiedqr simulate``: a synthetic population written into the platform through its bulk paths.

The population model (:mod:`unifiedqr.services.population`) decides every row from the seed; this
module makes them real platform data so that look-ups, the venue views and tracing work on them:

- a **platform** ("Simulator") registers the people, through :class:`~.bulk_registry.BulkRegistry`
  (the registry's rules, signed codes, encrypted fields and keyed hashes; QIDs drawn from the seed,
  so two runs with one seed give the same QIDs). Households are registered whole, children under 14
  on a parent's behalf. The ~3 % unregistered people exist only as phone numbers at doors;
- **venues** with signed codes (one owner account holds them all) and one entrance each;
- **offline batches** and **scans** (:mod:`unifiedqr.services.simulation_scans`): columns built
  from the model's numpy chunks and written with one ``COPY`` (PostgreSQL) or ``executemany``
  (SQLite) per chunk, each chunk its own transaction, so a running server keeps scanning.

Time: the model's first day is ``start`` (a local date); by default the run ends yesterday, so the
data is inside the retention window the purge keeps. The run ends with ``ANALYZE`` (the planner's
statistics after a load decide the hot queries' plans).
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from unifiedqr.codes.venue import VenueCode, sign_venue
from unifiedqr.services import accounts
from unifiedqr.services.auth import Permission, Principal, Role, new_public_id, principal_for
from unifiedqr.services.bulk_registry import BulkPerson, BulkRegistry
from unifiedqr.services.context import Services
from unifiedqr.services.population import PersonRow, Population, PopulationSpec, VenueRow
from unifiedqr.services.simulation_scans import People, ScanWriter
from unifiedqr.services.times import parse_date
from unifiedqr.store.bulk_rows import BulkRows, Column
from unifiedqr.store.models import Account, Household, Person, PersonDocument, PersonPlatform
from unifiedqr.store.venue_models import Entrance, ScanBatch, ScanEvent, Venue

#: (phase, units done since the last call, the phase's total units)
Progress = Callable[[str, int, int], None]
PEOPLE_CHUNK = 20_000
VENUE_CHUNK = 5_000
DECLARED_UNDER = 14  # children younger than this are registered by a parent (LoaiDinhDanh 1)
SAMPLE = 100


@dataclass(frozen=True)
class SimulationRequest:
    people: int
    venues: int
    days: int
    seed: int = 0
    start: str | None = None  # YYYY-MM-DD, the first local day; default: the run ends yesterday


@dataclass(frozen=True)
class SimulationSummary:
    people: int
    registered: int
    venues: int
    scans: int
    batches: int
    days: int
    seed: int
    first_day: dt.date
    last_day: dt.date
    seconds: float
    scans_per_second: float
    platform_id: str
    sample_qids: list[str]
    phases: dict[str, float] = field(default_factory=dict)


def _first_day(ctx: Services, request: SimulationRequest) -> dt.date:
    if request.start is not None:
        return parse_date(request.start, "start")
    today = ctx.venues.rules.local_day(ctx.now())
    return today - dt.timedelta(days=request.days)


def _platform(ctx: Services, principal: Principal, seed: int) -> tuple[str, Principal]:
    created = accounts.create_platform(ctx, principal, f"Simulator (seed {seed})")
    with ctx.db.read() as session:
        account_id = session.scalars(select(Account.id).where(Account.public_id == created.platform_id)).one()
    return created.platform_id, principal_for(account_id, created.platform_id, "platform", "Simulator", None)


def _households(rows: Iterator[list[PersonRow]], size: int) -> Iterator[list[PersonRow]]:
    """The people in chunks of about ``size`` that never split a household."""
    pending: list[PersonRow] = []
    for chunk in rows:
        pending += chunk
        if len(pending) >= size:
            cut = len(pending)
            while cut > 0 and pending[cut - 1].household == pending[-1].household:
                cut -= 1
            if cut > 0:
                yield pending[:cut]
                pending = pending[cut:]
    if pending:
        yield pending


def _bulk_people(rows: list[PersonRow], first_day: dt.date) -> tuple[list[int], list[BulkPerson]]:
    """The registered people of a chunk (their row indexes) and who declares for whom."""
    picked: list[int] = []
    out: list[BulkPerson] = []
    head_at: dict[int, int] = {}  # household -> index in ``out`` of its (registered, adult) head
    for index, row in enumerate(rows):
        if not row.registered:
            continue
        age = (first_day - row.birth_date).days // 365
        first = index == 0 or rows[index - 1].household != row.household
        declarer = head_at.get(row.household) if not first and age < DECLARED_UNDER else None
        if first and age >= 18:
            head_at[row.household] = len(out)
        picked.append(index)
        out.append(
            BulkPerson(row.document_number, row.full_name, row.birth_date, row.gender, row.phone, declarer)
        )
    return picked, out


def _register_people(
    ctx: Services, registry: BulkRegistry, pop: Population, people: People, progress: Progress
) -> int:
    registered = 0
    first_day = pop.spec.first_day
    for rows in _households(pop.people(PEOPLE_CHUNK), PEOPLE_CHUNK):
        picked, bulk = _bulk_people(rows, first_day)
        done = registry.register(bulk)
        for row in rows:
            if not row.registered:
                people.add_unregistered(row)
        for index, who in zip(picked, done, strict=True):
            people.add_registered(rows[index], who)
        registered += len(done)
        progress("people", len(rows), pop.spec.people)
    return registered


def _write_venues(
    ctx: Services, principal: Principal, pop: Population, progress: Progress
) -> tuple[np.ndarray, np.ndarray, list[VenueRow]]:
    """Venues with signed codes and one entrance each; ``(venue ids, entrance ids)`` by model index."""
    principal.require(Permission.ANY_VENUES_MANAGE)
    now = ctx.now()
    key = ctx.keys.current(now)
    base = ctx.settings.venues.base_url
    with ctx.db.write() as session:
        owner = Account(
            public_id=new_public_id("acc"), role=Role.VENUE_OWNER.value, name="Simulated venues' owner"
        )
        session.add(owner)
        session.flush()
        owner_id = owner.id
    venue_ids = np.zeros(pop.spec.venues, dtype=np.int64)
    entrance_ids = np.zeros(pop.spec.venues, dtype=np.int64)
    rows = list(pop.venues())
    for first in range(0, len(rows), VENUE_CHUNK):
        part = rows[first : first + VENUE_CHUNK]
        public = [secrets.token_urlsafe(8) for _ in part]
        codes = [sign_venue(base, p, key, now) for p in public]
        with ctx.db.write() as session:
            bulk = BulkRows(session)
            bulk.insert(Venue.__table__, _venue_columns(ctx, part, public, codes, owner_id, now))
            ids = bulk.ids(Venue.__table__, "public_id", public)
            entrances = [new_public_id("ent") for _ in part]
            bulk.insert(
                Entrance.__table__,
                {
                    "public_id": entrances,
                    "venue_id": [ids[p] for p in public],
                    "name": ["main"] * len(part),
                    "created_at": [now] * len(part),
                },
            )
            door = bulk.ids(Entrance.__table__, "public_id", entrances)
        for offset, (p, e) in enumerate(zip(public, entrances, strict=True)):
            venue_ids[first + offset] = ids[p]
            entrance_ids[first + offset] = door[e]
        progress("venues", len(part), len(rows))
    return venue_ids, entrance_ids, rows


def _venue_columns(
    ctx: Services,
    part: list[VenueRow],
    public: list[str],
    codes: list[VenueCode],
    owner: int,
    now: dt.datetime,
) -> dict[str, Column]:
    vault = ctx.vault
    return {
        "public_id": public,
        "name": [v.name[:200] for v in part],
        "kind": [v.kind for v in part],
        "province": [v.province for v in part],
        "district": [v.district for v in part],
        "commune": [v.commune for v in part],
        "street": [v.street for v in part],
        "owner_account_id": [owner] * len(part),
        "owner_phone_hash": [vault.lookup_hash("phone", v.owner_phone) for v in part],
        "owner_phone_enc": [vault.encrypt("venues.owner_phone", v.owner_phone) for v in part],
        "default_stay_minutes": [None] * len(part),
        "code_signature": [c.signature for c in codes],
        "code_base_url": [c.base_url for c in codes],
        "created_at": [now] * len(part),
    }


def _sample(pop: Population, people: People, counts: np.ndarray) -> list[str]:
    """Up to 100 QIDs of registered people with scans, drawn with the seed (good random cases)."""
    candidates = np.flatnonzero((counts > 0) & people.registered_mask())
    if len(candidates) > SAMPLE:
        rng = np.random.default_rng([pop.spec.seed, 9])
        candidates = np.sort(rng.choice(candidates, size=SAMPLE, replace=False))
    return [people.qid(int(i)) for i in candidates]


def simulate(
    ctx: Services, principal: Principal, request: SimulationRequest, progress: Progress | None = None
) -> SimulationSummary:
    """Fill the database with a synthetic population; see the module docstring."""
    principal.require(Permission.PLATFORMS_MANAGE)
    report = progress or (lambda _phase, _done, _total: None)
    started = time.perf_counter()
    first_day = _first_day(ctx, request)
    pop = Population(PopulationSpec(request.people, request.venues, request.days, request.seed, first_day))
    phases: dict[str, float] = {}
    platform_id, platform = _platform(ctx, principal, request.seed)
    seeded = np.random.default_rng([request.seed, 7])
    registry = BulkRegistry(
        ctx, platform, lambda n: [str(q) for q in seeded.integers(10**17, 10**18, size=n)]
    )
    people = People(ctx, request.people)
    registered = _register_people(ctx, registry, pop, people, report)
    phases["people"] = time.perf_counter() - started
    mark = time.perf_counter()
    venue_ids, entrance_ids, _ = _write_venues(ctx, principal, pop, report)
    phases["venues"] = time.perf_counter() - mark
    mark = time.perf_counter()
    writer = ScanWriter(ctx, people, venue_ids, entrance_ids)
    for item in pop.scans():
        writer.write(item)
        report("scans", writer.last_day_done(), request.days)
    with ctx.db.write() as session:
        tables = (ScanEvent, ScanBatch, Person, PersonDocument, PersonPlatform, Household, Venue, Entrance)
        BulkRows(session).analyze([t.__table__ for t in tables])
    phases["scans"] = time.perf_counter() - mark
    seconds = time.perf_counter() - started
    return SimulationSummary(
        request.people,
        registered,
        request.venues,
        writer.scans,
        writer.batches,
        request.days,
        request.seed,
        first_day,
        first_day + dt.timedelta(days=request.days - 1),
        round(seconds, 3),
        round(writer.scans / phases["scans"], 1) if phases["scans"] > 0 else 0.0,
        platform_id,
        _sample(pop, people, writer.counts),
        {k: round(v, 3) for k, v in phases.items()},
    )
