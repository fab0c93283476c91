"""The population model behind ``unifiedqr simulate``: people, venues and their scans, pure and seeded.

No database and no clock: a :class:`PopulationSpec` (sizes, seed, first day, rates) fully decides
every row, so the same spec yields identical rows on every machine (numpy's PCG64 streams, one per
purpose, day and chunk). The store's bulk paths consume what this yields.

The model (docs/tracing.md, "The simulator"):

- **People in households** (sizes 1-6, mean ≈ 3.5) sharing a home province (63 provinces weighted
  by population); a head, a spouse with their own family name and children with the head's;
  12-digit CCCD numbers (province code, century/gender digit, birth year, a serial; unique),
  Vietnamese names with diacritics, birth dates, unique mobile numbers. A share is
  **unregistered**: they check in on the public page with their phone only (``verified`` False).
- **Venues** of every visit-rule type, spread over provinces by population, with opening hours
  (restaurants until 02:00, hospitals and transport around the clock), a share with **offline**
  scanners that upload the day's scans in one batch the next morning, some with a wrong clock.
- **Daily movement**: each person has an activity rate (gamma-distributed, mean
  ``scans_per_person_day``, which must be 0.1-0.4); a day's visits are Poisson; an adult with a
  workplace (children: a school) goes there on weekdays in about half their visits, otherwise on an
  errand to a venue of their province weighted by type (2 % elsewhere in the country). Visits start
  in opening hours and last around the type's default stay; a share has **no check-out**; late
  visits cross midnight.
- **Offline uploads**: the device's time (``device_at``) is the true time plus the device's skew;
  the server measures that skew from the batch and corrects beyond 120 s (``occurred_at``), as
  ``services/scan_batches.py`` does, so a small skew stays in the stored time.

Memory is bounded by the people and venue arrays plus one day's offline buffer: scans stream in
chunks (:class:`ScanChunk`, columnar numpy), so 10 M scans never sit in memory together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, NamedTuple

import numpy as np
import numpy.typing as npt

from unifiedqr.errors import InvalidInput
from unifiedqr.services import population_data as data
from unifiedqr.services.visits import DEFAULT_STAYS

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

SOURCES: Final = ("staff", "citizen", "web", "batch")
CODE_KINDS: Final = ("personal", "person", "cccd", "phone")
EXPLICIT: Final = (None, "in", "out")
KINDS: Final = tuple(data.VENUE_KINDS)
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
# Purposes of the random streams (so that changing one part never shifts another).
_PEOPLE, _VENUES, _NAMES, _MOVES = 1, 2, 3, 4


@dataclass(frozen=True)
class PopulationSpec:
    """Everything that decides the rows; the same spec always yields the same rows."""

    people: int
    venues: int
    days: int
    seed: int = 0
    first_day: dt.date = dt.date(2021, 10, 1)  # a local (UTC+7) day
    scans_per_person_day: float = 0.25
    missing_checkout: float = 0.35  # share of visits without a check-out scan
    unregistered: float = 0.03  # people known only by phone (public check-in page)
    offline_venues: float = 0.10  # venues whose scanner uploads a batch the next morning
    skewed_devices: float = 0.30  # of those, devices with a wrong clock
    explicit: float = 0.30  # scans whose scanner said in or out
    chunk_people: int = 100_000  # people per chunk of a day's scans
    utc_offset_minutes: int = 420

    def __post_init__(self) -> None:
        limits = (("people", 1, 10**8), ("venues", 1, 10**7), ("days", 1, 3660), ("seed", 0, 2**63 - 1))
        for name, low, high in limits:
            value = getattr(self, name)
            if not isinstance(value, int) or not low <= value <= high:
                raise InvalidInput(name, f"must be a whole number {low}..{high}, not {value!r}")
        if not 0.1 <= self.scans_per_person_day <= 0.4:
            raise InvalidInput("scans_per_person_day", "must be 0.1..0.4 (spec: 0.1-0.4 scans a day)")
        for name in ("missing_checkout", "unregistered", "offline_venues", "skewed_devices", "explicit"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise InvalidInput(name, "must be a share between 0 and 1")
        if not 1_000 <= self.chunk_people <= 10_000_000:
            raise InvalidInput("chunk_people", "must be 1000..10000000")


class PersonRow(NamedTuple):
    """What registration needs; ``sim_id`` is the simulator's handle (scans' ``person`` refers to it)."""

    sim_id: int
    household: int
    document_number: str
    full_name: str
    birth_date: dt.date
    gender: str  # male | female (Gender labels)
    phone: str
    province: str
    registered: bool


class VenueRow(NamedTuple):
    """What venue registration needs, plus opening hours and scanner facts (``sim_id``: scans' ``venue``)."""

    sim_id: int
    name: str
    kind: str
    province: str
    district: str
    commune: str
    street: str
    owner_phone: str
    opens_minute: int  # local minutes after midnight
    closes_minute: int  # may exceed 1440: closes after midnight
    offline: bool
    clock_skew_seconds: int


class ScanRow(NamedTuple):
    """One scan as the store holds it (convenience form of a :class:`ScanChunk` row)."""

    scan_id: int
    person: int
    venue: int
    occurred_at: dt.datetime
    device_at: dt.datetime
    received_at: dt.datetime
    batch: int | None
    explicit: str | None
    direction: str  # in | out: what the visit was (the store's rules may call it otherwise)
    source: str
    code_kind: str
    verified: bool


class BatchRow(NamedTuple):
    """One offline upload (a venue's scans of one local day), as ``scan_batches`` holds it."""

    batch: int
    venue: int
    device_id: str
    device_sent_at: dt.datetime
    clock_skew_seconds: int
    items: int
    received_at: dt.datetime


def _at(seconds: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(seconds=int(seconds))


@dataclass(frozen=True)
class ScanChunk:
    """Scans as columns (times: UTC epoch seconds; codes index SOURCES, CODE_KINDS, EXPLICIT)."""

    scan_id: I64
    person: I64
    venue: I64
    occurred_at: I64
    device_at: I64
    received_at: I64
    batch: I64  # -1: uploaded online
    explicit: I8
    is_out: Bools
    source: I8
    code_kind: I8
    verified: Bools

    def __len__(self) -> int:
        return int(self.scan_id.shape[0])

    def rows(self) -> Iterator[ScanRow]:
        columns = zip(
            self.scan_id.tolist(),
            self.person.tolist(),
            self.venue.tolist(),
            self.occurred_at.tolist(),
            self.device_at.tolist(),
            self.received_at.tolist(),
            self.batch.tolist(),
            self.explicit.tolist(),
            self.is_out.tolist(),
            self.source.tolist(),
            self.code_kind.tolist(),
            self.verified.tolist(),
            strict=True,
        )
        for sid, person, venue, occurred, device, received, batch, explicit, out, src, kind, ok in columns:
            yield ScanRow(
                sid,
                person,
                venue,
                _at(occurred),
                _at(device),
                _at(received),
                None if batch < 0 else batch,
                EXPLICIT[explicit],
                "out" if out else "in",
                SOURCES[src],
                CODE_KINDS[kind],
                ok,
            )

    def take(self, mask: Bools | I64, first_id: int) -> ScanChunk:
        """The rows selected by ``mask``, renumbered from ``first_id``."""
        n = int(np.count_nonzero(mask)) if mask.dtype == np.bool_ else len(mask)
        return ScanChunk(
            np.arange(first_id, first_id + n, dtype=np.int64),
            self.person[mask],
            self.venue[mask],
            self.occurred_at[mask],
            self.device_at[mask],
            self.received_at[mask],
            self.batch[mask],
            self.explicit[mask],
            self.is_out[mask],
            self.source[mask],
            self.code_kind[mask],
            self.verified[mask],
        )


@dataclass(frozen=True)
class BatchChunk:
    """The day's offline uploads; yielded just before the scans that reference them."""

    batches: tuple[BatchRow, ...]


class _Chooser:
    """Weighted choice of a venue within a province, vectorised: one ``searchsorted`` per draw."""

    def __init__(self, province: I64, weight: F64, provinces: int) -> None:
        order = np.lexsort((np.arange(len(province)), province))
        order = order[weight[order] > 0]
        if not len(order):  # no venue of this kind at all (fewer venues than kinds): never picks
            self.order, self.ends, self.has = order, np.zeros(0), np.zeros(provinces, dtype=bool)
            return
        prov = province[order]
        totals = np.bincount(prov, weights=weight[order], minlength=provinces)
        cum = np.cumsum(weight[order])
        starts = np.searchsorted(prov, np.arange(provinces))
        before = np.where(starts > 0, cum[np.maximum(starts - 1, 0)], 0.0)
        ends = prov + (cum - before[prov]) / np.where(totals[prov] > 0, totals[prov], 1.0)
        last = np.r_[prov[1:] != prov[:-1], True] if len(prov) else np.zeros(0, dtype=bool)
        ends[last] = prov[last] + 1.0  # exactly the segment's end, whatever the rounding
        self.order, self.ends, self.has = order, ends, totals > 0

    def pick(self, province: I64, u: F64) -> I64:
        """A venue per draw (``u`` in [0, 1)), or -1 where the province has no such venue."""
        if not len(self.order):
            return np.full(len(province), -1, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.ends, province + u, side="right"), len(self.order) - 1)
        return np.where(self.has[province], self.order[pos], -1).astype(np.int64)


class Population:
    """A synthetic country built from a :class:`PopulationSpec`: stream its people, venues and scans."""

    def __init__(self, spec: PopulationSpec) -> None:
        self.spec = spec
        self._build_people()
        self._build_venues()
        self._assign_workplaces()

    def _rng(self, *parts: int) -> np.random.Generator:
        return np.random.default_rng([self.spec.seed, *parts])

    # ----------------------------------------------------------------------------------------------
    def _build_people(self) -> None:
        spec, rng = self.spec, self._rng(_PEOPLE)
        n = spec.people
        sizes_v = np.array([s for s, _ in data.HOUSEHOLD_SIZES])
        shares = np.array([p for _, p in data.HOUSEHOLD_SIZES])
        sizes = rng.choice(sizes_v, size=n, p=shares / shares.sum())
        sizes = sizes[: int(np.searchsorted(np.cumsum(sizes), n)) + 1]
        household = np.repeat(np.arange(len(sizes)), sizes)[:n]
        starts = np.r_[0, np.cumsum(sizes)[:-1]]
        role = np.arange(n) - starts[household]  # 0 head, 1 spouse, 2+ children
        weights = np.array([w for _, _, w in data.PROVINCES])
        home = rng.choice(len(weights), size=len(sizes), p=weights / weights.sum())
        family = rng.choice(
            len(data.FAMILY_NAMES), size=len(sizes) * 2, p=_norm([w for _, w in data.FAMILY_NAMES])
        )
        head_year = rng.integers(1950, 2001, size=len(sizes))
        head_male = rng.random(len(sizes)) < 0.5
        year = np.where(
            role == 0,
            head_year[household],
            np.where(
                role == 1,
                head_year[household] + rng.integers(-5, 6, size=n),
                np.minimum(head_year[household] + rng.integers(20, 36, size=n), 2020),
            ),
        )
        male = np.where(
            role == 0, head_male[household], np.where(role == 1, ~head_male[household], rng.random(n) < 0.5)
        )
        self.household = household.astype(np.int64)
        self.province = home[household].astype(np.int64)
        self.family = np.where(role == 1, family[household * 2 + 1], family[household * 2]).astype(np.int64)
        self.year = year.astype(np.int64)
        self.day_of_year = rng.integers(0, 365, size=n)
        self.male = male.astype(bool)
        self.registered = rng.random(n) >= spec.unregistered
        mean = spec.scans_per_person_day
        activity = rng.gamma(2.0, mean / 2.0, size=n) * np.where(spec.first_day.year - year < 6, 0.3, 1.0)
        self.activity = activity * (mean / activity.mean())  # scans a day; mean = the spec's rate
        self.middle = rng.integers(0, 1 << 16, size=n)
        self.given = rng.integers(0, 1 << 16, size=n)

    def _build_venues(self) -> None:
        spec, rng = self.spec, self._rng(_VENUES)
        m = spec.venues
        shares = _norm([v[0] for v in data.VENUE_KINDS.values()])
        kind = rng.choice(len(KINDS), size=m, p=shares)
        if m >= len(KINDS):  # every type exists at least once
            kind[: len(KINDS)] = np.arange(len(KINDS))
        weights = np.array([w for _, _, w in data.PROVINCES])
        self.venue_kind = kind.astype(np.int64)
        self.venue_province = rng.choice(len(weights), size=m, p=weights / weights.sum()).astype(np.int64)
        opens = np.array([v[1] for v in data.VENUE_KINDS.values()])[kind]
        closes = np.array([v[2] for v in data.VENUE_KINDS.values()])[kind]
        early = (kind == KINDS.index("restaurant")) & (rng.random(m) < 0.7)  # the rest close at 02:00
        self.opens = opens.astype(np.int64)
        self.closes = np.where(early, 23 * 60, closes).astype(np.int64)
        self.stay = np.array([DEFAULT_STAYS[k] for k in KINDS])[kind].astype(np.int64)
        self.offline = rng.random(m) < spec.offline_venues
        skewed = self.offline & (rng.random(m) < spec.skewed_devices)
        small = rng.random(m) < 0.3  # within the 120 s the server tolerates: stored uncorrected
        skew = np.where(
            small,
            rng.integers(-100, 101, size=m),
            rng.choice([-1, 1], size=m) * rng.integers(180, 4 * 3600, size=m),
        )
        self.skew = np.where(skewed, skew, 0).astype(np.int64)
        provinces = len(data.PROVINCES)
        errand = np.array([v[3] for v in data.VENUE_KINDS.values()])[kind].astype(np.float64)
        self._errand = _Chooser(self.venue_province, errand, provinces)
        self._anywhere = _Chooser(np.zeros(m, dtype=np.int64), errand, 1)
        has = np.bincount(self.venue_province, minlength=provinces) > 0
        # People of a province without venues run their errands in a random province that has some.
        with_venues = np.flatnonzero(has)
        fallback = self._rng(_VENUES, 1).choice(with_venues, size=provinces)
        self.activity_province = np.where(has[self.province], self.province, fallback[self.province])

    def _assign_workplaces(self) -> None:
        rng = self._rng(_PEOPLE, 1)
        provinces = len(data.PROVINCES)
        age = self.spec.first_day.year - self.year
        work = np.array([v[4] for v in data.VENUE_KINDS.values()])[self.venue_kind].astype(np.float64)
        school = (self.venue_kind == KINDS.index("school")).astype(np.float64)
        at_work = _Chooser(self.venue_province, work, provinces).pick(
            self.activity_province, rng.random(len(age))
        )
        at_school = _Chooser(self.venue_province, school, provinces).pick(
            self.activity_province, rng.random(len(age))
        )
        adult = (age >= 22) & (age <= 60) & (rng.random(len(age)) < 0.55)
        pupil = (age >= 6) & (age <= 17)
        self.workplace = np.where(adult, at_work, np.where(pupil, at_school, -1)).astype(np.int64)

    # ----------------------------------------------------------------------------------------------
    def people(self, chunk: int = 50_000) -> Iterator[list[PersonRow]]:
        """People in index order, ``chunk`` at a time (strings are built only here; any chunk size
        yields the same people)."""
        counters: dict[str, int] = {}
        for first in range(0, self.spec.people, chunk):
            stop = min(first + chunk, self.spec.people)
            middle, given = self.middle[first:stop].tolist(), self.given[first:stop].tolist()
            rows = []
            for i, mid, giv in zip(range(first, stop), middle, given, strict=True):
                male = bool(self.male[i])
                middles = data.MIDDLE_MALE if male else data.MIDDLE_FEMALE
                givens = data.GIVEN_MALE if male else data.GIVEN_FEMALE
                family = data.FAMILY_NAMES[self.family[i]][0]
                name = f"{family} {middles[mid % len(middles)]} {givens[giv % len(givens)]}"
                year = int(self.year[i])
                code, province, _ = data.PROVINCES[self.province[i]]
                century = (0 if year < 2000 else 2) + (0 if male else 1)
                prefix = f"{code}{century}{year % 100:02d}"
                count = counters.get(prefix, 0)
                if count >= 1_000_000:
                    raise InvalidInput("people", f"more than a million people share the CCCD prefix {prefix}")
                counters[prefix] = count + 1
                serial = (count * 387_281 + int(prefix) * 48_271) % 1_000_000  # a bijection per prefix
                birth = dt.date(year, 1, 1) + dt.timedelta(days=int(self.day_of_year[i]))
                rows.append(
                    PersonRow(
                        i,
                        int(self.household[i]),
                        f"{prefix}{serial:06d}",
                        name,
                        birth,
                        "male" if male else "female",
                        _phone(i),
                        province,
                        bool(self.registered[i]),
                    )
                )
            yield rows

    def venues(self) -> Iterator[VenueRow]:
        rng = self._rng(_NAMES, 1)
        for v in range(self.spec.venues):
            kind = KINDS[self.venue_kind[v]]
            province = data.PROVINCES[self.venue_province[v]][1]
            a, b, c, d = (int(x) for x in rng.integers(0, 1 << 30, size=4))
            given = (data.GIVEN_MALE + data.GIVEN_FEMALE)[a % 72]
            place, street = data.PLACES[b % len(data.PLACES)], data.STREETS[c % len(data.STREETS)]
            patterns = data.VENUE_NAMES[kind]
            name = patterns[d % len(patterns)].format(g=given, p=place, s=street, v=province)
            yield VenueRow(
                v,
                name,
                kind,
                province,
                f"Huyện {data.PLACES[(b + c) % len(data.PLACES)]}",
                f"Phường {place}",
                f"{1 + d % 299} {street}",
                _phone(self.spec.people + v),
                int(self.opens[v]),
                int(self.closes[v]),
                bool(self.offline[v]),
                int(self.skew[v]),
            )

    # ----------------------------------------------------------------------------------------------
    def _day(self, day: int, first: int, stop: int) -> ScanChunk:
        """Scans of people ``first..stop`` on ``day`` (ids are assigned by the caller)."""
        spec = self.spec
        rng = self._rng(_MOVES, day, first)
        m = spec.missing_checkout
        visits = rng.poisson(self.activity[first:stop] / (2.0 - m))
        person = np.repeat(np.arange(first, stop, dtype=np.int64), visits)
        n = len(person)
        local = spec.first_day + dt.timedelta(days=day)
        midnight = int(
            (dt.datetime(local.year, local.month, local.day, tzinfo=dt.UTC) - _EPOCH).total_seconds()
        )
        midnight -= spec.utc_offset_minutes * 60
        work = self.workplace[person]
        to_work = (work >= 0) & (local.weekday() < 5) & (rng.random(n) < 0.5)
        travel = rng.random(n) < 0.02
        errand = self._errand.pick(self.activity_province[person], rng.random(n))
        errand = np.where(travel, self._anywhere.pick(np.zeros(n, dtype=np.int64), rng.random(n)), errand)
        venue = np.where(to_work, work, errand)
        opens, closes, stay = self.opens[venue], self.closes[venue], self.stay[venue]
        length = np.where(to_work, stay * rng.uniform(0.8, 1.1, n), stay * rng.uniform(0.3, 1.5, n))
        length = np.minimum(length, closes - opens).astype(np.int64)
        latest = np.maximum(closes - length, opens + 1)
        start = np.where(
            to_work,
            opens + rng.integers(0, 60, n),
            opens + (rng.random(n) * (latest - opens)).astype(np.int64),
        )
        t_in = midnight + start * 60 + rng.integers(0, 60, n)
        t_out = t_in + np.maximum(length, 1) * 60 + rng.integers(0, 60, n)
        has_out = rng.random(n) >= m
        explicit = rng.random(n) < spec.explicit
        registered = self.registered[person]
        pick = np.r_[np.arange(n), np.flatnonzero(has_out)]
        true_at = np.r_[t_in, t_out[has_out]]
        out = np.r_[np.zeros(n, dtype=bool), np.ones(int(has_out.sum()), dtype=bool)]
        person, venue, explicit, registered = person[pick], venue[pick], explicit[pick], registered[pick]
        offline = self.offline[venue]
        skew = self.skew[venue]
        device_at = true_at + skew
        occurred = np.where(np.abs(skew) > 120, true_at, device_at)
        upload = midnight + 86_400 + 7 * 3600 + (venue * 7919 + day * 104_729) % 7200  # next morning
        received = np.where(offline, upload, true_at + rng.integers(0, 3, len(true_at)))
        staff = rng.random(len(true_at)) < 0.6
        source = np.where(offline, 3, np.where(~registered, 2, np.where(staff, 0, 1))).astype(np.int8)
        card = rng.random(len(true_at)) < 0.05
        code_kind = np.where(~registered, 3, np.where(source == 1, 1, np.where(card, 2, 0))).astype(np.int8)
        return ScanChunk(
            np.zeros(len(true_at), dtype=np.int64),
            person,
            venue,
            occurred,
            device_at,
            received,
            np.where(offline, day * spec.venues + venue, -1).astype(np.int64),
            np.where(explicit, np.where(out, 2, 1), 0).astype(np.int8),
            out,
            source,
            code_kind,
            registered,
        )

    def scans(self) -> Iterator[ScanChunk | BatchChunk]:
        """Day by day: online scans in people chunks, then the day's batches and their offline scans.

        Batch ids are ``day × venues + venue``; a :class:`BatchChunk` always precedes the scans
        that refer to it, so a consumer can insert in order under foreign keys.
        """
        spec = self.spec
        next_id = 0
        for day in range(spec.days):
            buffered: list[ScanChunk] = []
            for first in range(0, spec.people, spec.chunk_people):
                chunk = self._day(day, first, min(first + spec.chunk_people, spec.people))
                online = chunk.batch < 0
                part = chunk.take(online, next_id)
                next_id += len(part)
                if len(part):
                    yield part
                if not online.all():
                    buffered.append(chunk.take(~online, 0))
            if not buffered:
                continue
            late = _concat(buffered)
            order = np.lexsort((late.occurred_at, late.venue))
            late = late.take(order, next_id)
            next_id += len(late)
            ids, counts = np.unique(late.batch, return_counts=True)
            batches = []
            for batch, count in zip(ids.tolist(), counts.tolist(), strict=True):
                venue = batch - day * spec.venues
                received = int(late.received_at[np.searchsorted(late.batch, batch)])
                skew = int(self.skew[venue])
                batches.append(
                    BatchRow(batch, venue, f"sim-{venue}", _at(received + skew), skew, count, _at(received))
                )
            yield BatchChunk(tuple(batches))
            yield late


def _concat(chunks: list[ScanChunk]) -> ScanChunk:
    return ScanChunk(
        *(np.concatenate([getattr(c, f) for c in chunks]) for f in ScanChunk.__dataclass_fields__)
    )


def _norm(weights: list[float]) -> F64:
    values = np.array(weights, dtype=np.float64)
    shares: F64 = values / values.sum()
    return shares


def _phone(index: int) -> str:
    """A unique mobile number per index (a bijection on the 7-digit serial for each prefix)."""
    prefixes = data.PHONE_PREFIXES
    which, rank = index % len(prefixes), index // len(prefixes)
    if rank >= 10_000_000:
        raise InvalidInput("people", "too many people for unique phone numbers")
    return f"{prefixes[which]}{(rank * 3_141_593 + (which + 1) * 2_718_281) % 10_000_000:07d}"


__all__ = [
    "CODE_KINDS",
    "EXPLICIT",
    "KINDS",
    "SOURCES",
    "BatchChunk",
    "BatchRow",
    "PersonRow",
    "Population",
    "PopulationSpec",
    "ScanChunk",
    "ScanRow",
    "VenueRow",
]
