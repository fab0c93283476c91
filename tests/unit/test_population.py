"""The simulator's population model: reproducible, realistic enough, valid for registration, streamed."""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import itertools
import types

import numpy as np
import pytest

from unifiedqr.codes.build import normalise_phone
from unifiedqr.codes.names import fold_name
from unifiedqr.codes.payload import Gender
from unifiedqr.errors import InvalidInput
from unifiedqr.services import population_data as data
from unifiedqr.services.population import (
    BatchChunk,
    Population,
    PopulationSpec,
    ScanChunk,
    ScanRow,
)
from unifiedqr.services.visits import VENUE_TYPES

SPEC = PopulationSpec(people=4000, venues=120, days=7, seed=11, chunk_people=1000)
VN = dt.timezone(dt.timedelta(hours=7))


@pytest.fixture(scope="module")
def pop() -> Population:
    return Population(SPEC)


@pytest.fixture(scope="module")
def stream(pop: Population) -> list[ScanChunk | BatchChunk]:
    return list(pop.scans())


@pytest.fixture(scope="module")
def rows(stream) -> list[ScanRow]:
    return [r for c in stream if isinstance(c, ScanChunk) for r in c.rows()]


def columns(chunks) -> dict[str, np.ndarray]:
    scans = [c for c in chunks if isinstance(c, ScanChunk)]
    return {
        f.name: np.concatenate([getattr(c, f.name) for c in scans]) for f in dataclasses.fields(ScanChunk)
    }


def test_same_seed_same_rows_and_another_seed_other_rows(stream) -> None:
    again = Population(SPEC)
    assert list(itertools.chain.from_iterable(again.people())) == list(
        itertools.chain.from_iterable(Population(SPEC).people())
    )
    assert list(again.venues()) == list(Population(SPEC).venues())
    for a, b in zip(stream, again.scans(), strict=True):
        if isinstance(a, BatchChunk):
            assert a == b
        else:
            assert isinstance(b, ScanChunk)
            for f in dataclasses.fields(ScanChunk):
                assert np.array_equal(getattr(a, f.name), getattr(b, f.name)), f.name
    other = Population(dataclasses.replace(SPEC, seed=12))
    assert next(other.people()) != next(again.people())
    assert not np.array_equal(columns(other.scans())["venue"][:100], columns(stream)["venue"][:100])


def test_people_do_not_depend_on_the_chunk_size(pop: Population) -> None:
    assert list(itertools.chain.from_iterable(pop.people(chunk=333))) == list(
        itertools.chain.from_iterable(pop.people())
    )


@pytest.mark.parametrize("rate", [0.1, 0.25, 0.4])
def test_scans_per_person_per_day_follow_the_spec(rate: float) -> None:
    spec = PopulationSpec(people=20_000, venues=300, days=5, seed=3, scans_per_person_day=rate)
    n = sum(len(c) for c in Population(spec).scans() if isinstance(c, ScanChunk))
    measured = n / spec.people / spec.days
    assert 0.1 * 0.9 <= measured <= 0.4 * 1.1
    assert abs(measured - rate) / rate < 0.08


def test_people_are_valid_for_registration(pop: Population) -> None:
    people = list(itertools.chain.from_iterable(pop.people()))
    assert [p.sim_id for p in people] == list(range(SPEC.people))
    documents = [p.document_number for p in people]
    assert len(set(documents)) == len(documents), "CCCD numbers are unique"
    phones = [p.phone for p in people]
    assert len(set(phones)) == len(phones), "phones are unique"
    codes = {name: code for code, name, _ in data.PROVINCES}
    for p in people:
        assert len(p.document_number) == 12 and p.document_number.isdigit()
        assert p.document_number[:3] == codes[p.province]
        century = int(p.document_number[3])
        assert century == (0 if p.birth_date.year < 2000 else 2) + (0 if p.gender == "male" else 1)
        assert p.document_number[4:6] == f"{p.birth_date.year % 100:02d}"
        assert normalise_phone(p.phone) == p.phone
        assert fold_name(p.full_name)
        assert Gender.from_label(p.gender) in (Gender.MALE, Gender.FEMALE)
        assert dt.date(1944, 1, 1) <= p.birth_date <= dt.date(2020, 12, 31)
    assert any(not n.isascii() for n in (p.full_name for p in people)), "names carry diacritics"
    assert 0.01 < sum(not p.registered for p in people) / len(people) < 0.06


def test_households_share_a_province_and_the_head_s_family_name_passes_to_children(pop: Population) -> None:
    people = list(itertools.chain.from_iterable(pop.people()))
    households = collections.defaultdict(list)
    for p in people:
        households[p.household].append(p)
    sizes = [len(h) for h in households.values()]
    assert max(sizes) <= 6 and 3.0 < sum(sizes) / len(sizes) < 4.0
    for members in households.values():
        assert len({m.province for m in members}) == 1
        head, *rest = members
        for child in rest[1:]:
            assert child.full_name.split()[0] == head.full_name.split()[0]
            assert child.birth_date.year >= head.birth_date.year + 20 or child.birth_date.year == 2020


def test_venues_have_every_type_real_provinces_and_opening_hours(pop: Population) -> None:
    venues = list(pop.venues())
    assert len(venues) == SPEC.venues
    assert {v.kind for v in venues} == set(VENUE_TYPES)
    provinces = {name for _, name, _ in data.PROVINCES}
    for v in venues:
        assert v.province in provinces and v.name and v.street and normalise_phone(v.owner_phone)
        assert 0 <= v.opens_minute < v.closes_minute <= 26 * 60
    people_phones = {p.phone for p in itertools.chain.from_iterable(pop.people())}
    assert not people_phones & {v.owner_phone for v in venues}
    assert any(v.offline for v in venues)


def test_check_ins_fall_in_opening_hours_and_some_visits_cross_midnight(pop: Population, rows) -> None:
    venues = list(pop.venues())
    crossing = 0
    for r in rows:
        v = venues[r.venue]
        local = (r.device_at - dt.timedelta(seconds=v.clock_skew_seconds)).astimezone(VN)  # the true time
        minute = local.hour * 60 + local.minute
        if r.direction == "in":
            assert v.opens_minute <= minute < v.closes_minute or minute < v.closes_minute - 1440, (r, v)
        elif minute < 3 * 60:
            crossing += 1
    assert crossing > 0


def test_missing_check_outs_and_explicit_directions(rows) -> None:
    ins = sum(r.direction == "in" for r in rows)
    outs = sum(r.direction == "out" for r in rows)
    assert abs(outs / ins - (1 - SPEC.missing_checkout)) < 0.05
    explicit = [r for r in rows if r.explicit is not None]
    assert all(r.explicit == r.direction for r in explicit)
    assert abs(len(explicit) / len(rows) - SPEC.explicit) < 0.05


def test_offline_batches_precede_their_scans_and_count_them(stream, rows) -> None:
    seen: set[int] = set()
    counts: collections.Counter[int] = collections.Counter()
    declared: dict[int, int] = {}
    for chunk in stream:
        if isinstance(chunk, BatchChunk):
            for b in chunk.batches:
                seen.add(b.batch)
                declared[b.batch] = b.items
                assert b.received_at < b.device_sent_at + dt.timedelta(days=1)
        else:
            for batch in chunk.batch.tolist():
                if batch >= 0:
                    assert batch in seen, "a batch row comes before the scans that refer to it"
                    counts[batch] += 1
    assert counts == declared and declared
    offline = [r for r in rows if r.batch is not None]
    assert all(r.source == "batch" and r.received_at > r.occurred_at for r in offline)
    online = [r for r in rows if r.batch is None]
    assert all(r.device_at == r.occurred_at for r in online)


def test_clock_skew_is_corrected_beyond_120_seconds_as_the_server_does() -> None:
    spec = PopulationSpec(people=3000, venues=40, days=3, seed=5, offline_venues=1.0, skewed_devices=1.0)
    pop = Population(spec)
    skews = {v.sim_id: v.clock_skew_seconds for v in pop.venues()}
    assert any(abs(s) > 120 for s in skews.values()) and any(0 < abs(s) <= 120 for s in skews.values())
    for chunk in pop.scans():
        if isinstance(chunk, ScanChunk):
            for r in itertools.islice(chunk.rows(), 200):
                skew = dt.timedelta(seconds=skews[r.venue])
                if abs(skews[r.venue]) > 120:
                    assert r.occurred_at == r.device_at - skew
                else:
                    assert r.occurred_at == r.device_at


def test_sources_and_code_kinds(rows) -> None:
    by_source = collections.Counter(r.source for r in rows)
    assert set(by_source) == {"staff", "citizen", "web", "batch"}
    for r in rows:
        if not r.verified:
            assert r.code_kind == "phone" and r.source in ("web", "batch")
        else:
            assert r.code_kind != "phone"


def test_scan_ids_are_consecutive_and_scans_stream_lazily() -> None:
    ids = columns(Population(SPEC).scans())["scan_id"]
    assert np.array_equal(ids, np.arange(len(ids)))
    huge = Population(PopulationSpec(people=2000, venues=50, days=3650, seed=1))
    scans = huge.scans()
    assert isinstance(scans, types.GeneratorType)
    first = next(scans)
    assert isinstance(first, ScanChunk) and 0 < len(first) < 2000


def test_workplaces_bring_colleagues_together(stream) -> None:
    """Tracing needs co-presence: weekday visits concentrate on workplaces, not only random errands."""
    cols = columns(stream)
    counts = np.bincount(cols["venue"], minlength=SPEC.venues)
    assert counts.max() > 4 * counts.mean()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"people": 0}, "people"),
        ({"days": 0}, "days"),
        ({"scans_per_person_day": 0.5}, "scans_per_person_day"),
        ({"scans_per_person_day": 0.05}, "scans_per_person_day"),
        ({"missing_checkout": 1.5}, "missing_checkout"),
        ({"seed": -1}, "seed"),
        ({"chunk_people": 10}, "chunk_people"),
    ],
)
def test_bad_specs_name_the_field(change: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        dataclasses.replace(SPEC, **change)
    assert caught.value.field == field
