"""Contact-tracing rules, pure: hand-built scenarios with known answers, and properties (issue 12)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unifiedqr.errors import InvalidInput
from unifiedqr.services.tracing_rings import expand_rings, next_ring, ring_ranges, source_window
from unifiedqr.services.tracing_rules import (
    DEFAULT_VENUE_WEIGHTS,
    NATIONAL,
    OVERLAP,
    Candidate,
    CaseScan,
    ContactScan,
    TracingRule,
    VenueFacts,
    VenueRange,
    Window,
    contact_ranges,
    default_window,
    make_window,
    rule_named,
    trace,
)
from unifiedqr.services.tracing_venues import venue_hours
from unifiedqr.services.visits import VENUE_TYPES

VN = dt.timezone(dt.timedelta(hours=7))
CASE = "case-person"


def at(day: int, hour: int, minute: int = 0, second: int = 0) -> dt.datetime:
    """Local (UTC+7) time on October ``day``, 2021."""
    return dt.datetime(2021, 10, day, hour, minute, second, tzinfo=VN)


WEEK = make_window(at(1, 0), at(8, 0))


def people(candidates: list[Candidate]) -> list[object]:
    return [c.person for c in candidates]


def national(case_scans, contacts, window=WEEK, **kw):
    return trace(case_scans, contacts, window, NATIONAL, case={CASE}, **kw)


# --------------------------------------------------------------------------------------------------
# national: the ±60 minutes edges
# --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "inside"),
    [
        (dt.timedelta(minutes=60), True),
        (dt.timedelta(minutes=-60), True),
        (dt.timedelta(minutes=61), False),
        (dt.timedelta(minutes=-61), False),
        (dt.timedelta(minutes=60, seconds=1), False),
        (-dt.timedelta(minutes=60, seconds=1), False),
        (dt.timedelta(minutes=60, microseconds=1), False),
        (dt.timedelta(minutes=59, seconds=59), True),
        (dt.timedelta(0), True),
    ],
)
def test_national_rule_is_plus_minus_60_minutes_inclusive(offset: dt.timedelta, inside: bool) -> None:
    case_at = at(5, 10)
    found = national([CaseScan("A", case_at)], [ContactScan("p", "A", case_at + offset)])
    assert people(found) == (["p"] if inside else [])


def test_minutes_apart_is_exact_and_overlap_is_60_minus_it() -> None:
    case_at = at(5, 10)
    found = national(
        [CaseScan("A", case_at)],
        [
            ContactScan("edge", "A", case_at + dt.timedelta(minutes=60)),
            ContactScan("half", "A", case_at - dt.timedelta(seconds=30)),
            ContactScan("same", "A", case_at),
        ],
    )
    by = {c.person: c for c in found}
    assert (by["edge"].minutes_apart, by["edge"].overlap_minutes) == (60.0, 0.0)
    assert (by["half"].minutes_apart, by["half"].overlap_minutes) == (0.5, 59.5)
    assert (by["same"].minutes_apart, by["same"].overlap_minutes) == (0.0, 60.0)
    for c in found:
        assert c.overlap_minutes == 60 - c.minutes_apart
    # 60 min + 1 s would be 60.0166…: above 60 as a float too, so a consumer's re-check agrees.
    assert (dt.timedelta(minutes=60, seconds=1) / dt.timedelta(minutes=1)) > 60


def test_window_edges_are_inclusive_and_only_the_case_scan_must_be_inside() -> None:
    window = make_window(at(3, 8), at(6, 20))
    case_scans = [
        CaseScan("start", window.start),
        CaseScan("end", window.end),
        CaseScan("before", window.start - dt.timedelta(seconds=1)),
        CaseScan("after", window.end + dt.timedelta(seconds=1)),
    ]
    contacts = [
        ContactScan("p-start", "start", window.start - dt.timedelta(minutes=30)),  # contact outside: fine
        ContactScan("p-end", "end", window.end + dt.timedelta(minutes=59)),
        ContactScan("p-before", "before", window.start - dt.timedelta(seconds=1)),
        ContactScan("p-after", "after", window.end + dt.timedelta(seconds=1)),
    ]
    assert sorted(people(national(case_scans, contacts, window))) == ["p-end", "p-start"]


def test_another_venue_at_the_same_time_is_not_a_contact() -> None:
    assert national([CaseScan("A", at(5, 10))], [ContactScan("p", "B", at(5, 10))]) == []


def test_the_same_venue_the_day_before_is_not_a_contact() -> None:
    assert national([CaseScan("A", at(5, 10))], [ContactScan("p", "A", at(4, 10))]) == []


def test_a_case_visiting_the_same_venue_twice_gives_one_candidate_with_two_exposures() -> None:
    case_scans = [CaseScan("A", at(5, 10)), CaseScan("A", at(5, 10, 40))]
    (only,) = national(case_scans, [ContactScan("p", "A", at(5, 10, 30))])
    assert [(e.case_scan_at, e.minutes_apart) for e in only.exposures] == [
        (at(5, 10), 30.0),
        (at(5, 10, 40), 10.0),
    ]
    assert (only.venue_id, only.case_scan_at, only.scan_at) == ("A", at(5, 10, 40), at(5, 10, 30))
    assert (only.minutes_apart, only.overlap_minutes) == (10.0, 50.0)


def test_midnight_crossing_and_mixed_time_zones() -> None:
    case_at = at(5, 23, 40)
    contact_at = (at(6, 0, 20)).astimezone(dt.UTC)  # the next local day, written in UTC
    (only,) = national([CaseScan("A", case_at)], [ContactScan("p", "A", contact_at)])
    assert only.minutes_apart == 40.0


def test_every_scan_counts_whatever_its_direction_and_duplicates_collapse() -> None:
    case_at = at(5, 10)
    contacts = [
        ContactScan("p", "A", at(5, 10, 5), explicit="out"),
        ContactScan("p", "A", at(5, 10, 5)),  # the same scan stored twice (a duplicate)
        ContactScan("p", "A", at(5, 10, 5, 30)),  # a duplicate by the visit rules, still a scan
    ]
    (only,) = national([CaseScan("A", case_at)], contacts)
    assert [e.scan_at for e in only.exposures] == [at(5, 10, 5), at(5, 10, 5, 30)]


def test_unverified_visitors_count_and_are_marked() -> None:
    case_at = at(5, 10)
    contacts = [
        ContactScan("phone-only", "A", at(5, 10, 1), verified=False),
        ContactScan("registered", "A", at(5, 10, 1)),
        ContactScan("both", "A", at(5, 10, 2), verified=False),
        ContactScan("both", "A", at(5, 10, 3), verified=True),
    ]
    by = {c.person: c.unverified for c in national([CaseScan("A", case_at)], contacts)}
    assert by == {"phone-only": True, "registered": False, "both": False}


def test_the_case_is_never_a_candidate_under_any_of_its_identities() -> None:
    case_at = at(5, 10)
    contacts = [
        ContactScan(CASE, "A", case_at),
        ContactScan(b"case-key", "A", case_at),
        ContactScan(7, "A", case_at),
    ]
    found = trace([CaseScan("A", case_at)], contacts, WEEK, case={CASE, b"case-key"})
    assert people(found) == [7]


def test_clock_skewed_offline_upload_counts_by_its_corrected_time() -> None:
    # The store keeps the device's time and the corrected occurred_at; the rules read occurred_at.
    device_at = at(5, 12, 30)  # the device was 2 h fast
    occurred_at = device_at - dt.timedelta(hours=2)
    found = national([CaseScan("A", at(5, 10))], [ContactScan("p", "A", occurred_at)])
    assert people(found) == ["p"]
    assert national([CaseScan("A", at(5, 10))], [ContactScan("p", "A", device_at)]) == []


# --------------------------------------------------------------------------------------------------
# Scoring and ranking
# --------------------------------------------------------------------------------------------------


def test_ranking_by_overlap_and_venue_type() -> None:
    venues = {"H": VenueFacts("hospital"), "S": VenueFacts("shop"), "O": VenueFacts("office")}
    case_scans = [CaseScan("H", at(5, 8)), CaseScan("S", at(5, 12)), CaseScan("O", at(5, 15))]
    contacts = [
        ContactScan("shop-close", "S", at(5, 12)),
        ContactScan("hospital-close", "H", at(5, 8)),
        ContactScan("hospital-far", "H", at(5, 8, 50)),
        ContactScan("office-mid", "O", at(5, 15, 30)),
    ]
    found = national(case_scans, contacts, venues=venues)
    assert people(found) == ["hospital-close", "hospital-far", "office-mid", "shop-close"]
    assert [c.score for c in found] == [6.0, 3.5, 3.0, 2.0]  # weight × (1 + overlap / 60)


def test_score_adds_a_quarter_of_each_further_occasion() -> None:
    case_scans = [CaseScan("A", at(5, 10)), CaseScan("A", at(5, 11)), CaseScan("B", at(6, 9))]
    contacts = [ContactScan("p", "A", at(5, 10, 30)), ContactScan("p", "B", at(6, 9))]
    (only,) = national(case_scans, contacts)
    # occasions: B 09:00 (2.0), A 10:00 (1.5), A 11:00 (1.5) -> 2.0 + 0.25 × 3.0
    assert only.score == 2.75
    assert only.venue_id == "B"


def test_ties_are_broken_deterministically() -> None:
    contacts = [ContactScan(p, "A", at(5, 10, 10)) for p in ("b", "c", "a")]
    first = people(national([CaseScan("A", at(5, 10))], contacts))
    again = people(national([CaseScan("A", at(5, 10))], list(reversed(contacts))))
    assert first == again == ["a", "b", "c"]


def test_verified_ranks_before_unverified_at_equal_score() -> None:
    contacts = [ContactScan("a", "A", at(5, 10, 10), verified=False), ContactScan("b", "A", at(5, 10, 10))]
    assert people(national([CaseScan("A", at(5, 10))], contacts)) == ["b", "a"]


def test_every_venue_type_has_a_ranking_weight_and_hospital_outweighs_shop() -> None:
    assert set(VENUE_TYPES) == set(DEFAULT_VENUE_WEIGHTS)
    assert NATIONAL.weight("hospital") > NATIONAL.weight("office") > NATIONAL.weight("shop")
    assert NATIONAL.weight("unknown-kind") == 1.0


# --------------------------------------------------------------------------------------------------
# Query shapes
# --------------------------------------------------------------------------------------------------


def test_contact_ranges_are_the_case_scans_plus_minus_60_merged_per_venue() -> None:
    case_scans = [
        CaseScan("A", at(5, 10)),
        CaseScan("A", at(5, 11, 30)),  # overlaps the first range: merged
        CaseScan("A", at(5, 18)),
        CaseScan("B", at(5, 10)),
        CaseScan("B", at(9, 10)),  # outside the window: no range
    ]
    assert contact_ranges(case_scans, WEEK) == [
        VenueRange("A", at(5, 9), at(5, 12, 30)),
        VenueRange("B", at(5, 9), at(5, 11)),
        VenueRange("A", at(5, 17), at(5, 19)),
    ]


def test_trace_ignores_rows_outside_the_ranges() -> None:
    """Over-fetching is harmless: what no rule matches is ignored."""
    case_scans = [CaseScan("A", at(5, 10))]
    contacts = [ContactScan(f"p{i}", "A", at(5, 10) + dt.timedelta(minutes=i)) for i in range(-200, 200, 7)]
    ranges = contact_ranges(case_scans, WEEK)
    fetched = [
        c for c in contacts if any(r.venue_id == c.venue_id and r.start <= c.at <= r.end for r in ranges)
    ]
    assert national(case_scans, contacts) == national(case_scans, fetched)


# --------------------------------------------------------------------------------------------------
# Property: brute force agrees, never a stranger, unique and sorted
# --------------------------------------------------------------------------------------------------

BASE = at(5, 0)
minutes = st.integers(min_value=0, max_value=3 * 24 * 60)
case_scan = st.builds(
    lambda v, m, s: CaseScan(v, BASE + dt.timedelta(minutes=m, seconds=s)),
    st.sampled_from("ABC"),
    minutes,
    st.integers(0, 59),
)
contact_scan = st.builds(
    lambda p, v, m, s, ok: ContactScan(p, v, BASE + dt.timedelta(minutes=m, seconds=s), ok),
    st.integers(0, 12),
    st.sampled_from("ABCDE"),
    minutes,
    st.sampled_from([0, 59, 0, 1]),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(case_scan, max_size=8), st.lists(contact_scan, max_size=40), minutes, minutes)
def test_property_candidates_match_a_brute_force_of_the_rule(case_scans, contacts, a, b) -> None:
    window = make_window(BASE + dt.timedelta(minutes=min(a, b)), BASE + dt.timedelta(minutes=max(a, b)))
    found = trace(case_scans, contacts, window, case={0})
    span = dt.timedelta(minutes=60)
    expected = {
        c.person
        for c in contacts
        for s in case_scans
        if c.person != 0 and c.venue_id == s.venue_id and window.contains(s.at) and abs(c.at - s.at) <= span
    }
    assert {c.person for c in found} == expected
    # a person who never shares a venue with the case is never a candidate
    case_venues = {s.venue_id for s in case_scans}
    strangers = {c.person for c in contacts} - {c.person for c in contacts if c.venue_id in case_venues}
    assert not strangers & {c.person for c in found}
    assert len(found) == len({c.person for c in found})
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    for c in found:
        assert c.closest in c.exposures
        assert c.minutes_apart == min(e.minutes_apart for e in c.exposures) <= 60
        assert all(0 <= e.overlap_minutes <= 60 for e in c.exposures)


# --------------------------------------------------------------------------------------------------
# overlap rule
# --------------------------------------------------------------------------------------------------

WIDE = TracingRule(name="test-overlap", method="visits", widen_minutes=15, min_overlap_minutes=10)


def overlapping(case_scans, contacts, rule=WIDE, **kw):
    return trace(case_scans, contacts, WEEK, rule, case={CASE}, **kw)


@pytest.mark.parametrize(("contact_in", "inside"), [((11, 5), True), ((11, 6), False)])
def test_overlap_minimum_is_inclusive(contact_in: tuple[int, int], inside: bool) -> None:
    # case 10:00-11:00 widened to 09:45-11:15; contact from 11:05 shares exactly 10 min, from 11:06 only 9
    case_scans = [CaseScan("A", at(5, 10), "in"), CaseScan("A", at(5, 11), "out")]
    contacts = [
        ContactScan("p", "A", at(5, *contact_in), explicit="in"),
        ContactScan("p", "A", at(5, 12), explicit="out"),
    ]
    found = overlapping(case_scans, contacts)
    assert people(found) == (["p"] if inside else [])
    if inside:
        assert found[0].overlap_minutes == 10.0
        assert found[0].minutes_apart == 65.0  # check-in to check-in


@pytest.mark.parametrize(("gap", "inside"), [(30, True), (31, False)])
def test_widening_bridges_a_gap_of_twice_n_minutes_with_no_minimum(gap: int, inside: bool) -> None:
    rule = TracingRule(name="touch", method="visits", widen_minutes=15, min_overlap_minutes=0)
    case_scans = [CaseScan("A", at(5, 10), "in"), CaseScan("A", at(5, 11), "out")]
    leave = at(5, 10) - dt.timedelta(minutes=gap - 15)  # contact left `gap` minutes before … widened by 15
    contacts = [
        ContactScan("p", "A", leave - dt.timedelta(minutes=30), explicit="in"),
        ContactScan("p", "A", leave, explicit="out"),
    ]
    assert people(overlapping(case_scans, contacts, rule)) == (["p"] if gap <= 30 else [])


def test_missing_check_out_closes_at_the_venue_types_default_stay() -> None:
    case_scans = [CaseScan("S", at(5, 10))]  # a shop: 30 min stay -> 10:00-10:30, widened to 10:45
    contacts = [ContactScan("p", "S", at(5, 10, 35))]  # 10:35-11:05: 10 min shared
    (only,) = overlapping(case_scans, contacts, venues={"S": VenueFacts("shop")})
    assert only.overlap_minutes == 10.0
    # the venue's own default stay overrides the type's: 20 min -> 10:00-10:20, widened to 10:35
    assert overlapping(case_scans, contacts, venues={"S": VenueFacts("shop", 20)}) == []


def test_next_check_in_elsewhere_closes_an_open_visit() -> None:
    venues = {"O": VenueFacts("office"), "S": VenueFacts("shop")}
    contacts = [ContactScan("p", "O", at(5, 12))]  # at the office from noon
    alone = [CaseScan("O", at(5, 9))]  # office: 9 h stay -> until 18:00
    moved_on = [*alone, CaseScan("S", at(5, 11))]  # checked in at a shop at 11:00: office visit ends
    assert people(overlapping(alone, contacts, venues=venues)) == ["p"]
    assert overlapping(moved_on, contacts, venues=venues) == []
    # the contact's own check-ins elsewhere (from the caller) close their visits too
    late = [ContactScan("q", "O", at(5, 7))]
    assert people(overlapping(alone, late, venues=venues)) == ["q"]
    elsewhere = {"q": [("X", at(5, 8))]}
    assert overlapping(alone, late, venues=venues, elsewhere=elsewhere) == []


def test_the_case_visit_is_clipped_to_the_window() -> None:
    window = make_window(at(5, 10, 30), at(8, 0))
    case_scans = [CaseScan("A", at(5, 9), "in"), CaseScan("A", at(5, 11), "out")]
    early = [ContactScan("p", "A", at(5, 9), "in"), ContactScan("p", "A", at(5, 10), "out")]
    late = [ContactScan("q", "A", at(5, 10, 20), "in"), ContactScan("q", "A", at(5, 10, 40), "out")]
    assert people(trace(case_scans, early + late, window, WIDE)) == ["q"]


def test_a_lone_check_out_counts_as_a_default_stay_before_it() -> None:
    case_scans = [CaseScan("A", at(5, 10), "in"), CaseScan("A", at(5, 10, 30), "out")]
    contacts = [ContactScan("p", "A", at(5, 11, 30), explicit="out")]  # other: 120 min -> 09:30-11:30
    (only,) = overlapping(case_scans, contacts)
    assert only.overlap_minutes == 60.0
    assert only.scan_at == at(5, 11, 30)


def test_a_visit_still_open_ends_at_now() -> None:
    case_scans = [CaseScan("A", at(5, 10), "in"), CaseScan("A", at(5, 12), "out")]
    contacts = [ContactScan("p", "A", at(5, 11, 50))]
    assert people(overlapping(case_scans, contacts, now=at(5, 11, 55))) == []  # 5 min so far
    assert people(overlapping(case_scans, contacts)) == ["p"]


def test_overlap_rule_keeps_one_entry_per_person_and_excludes_the_case() -> None:
    case_scans = [
        CaseScan("A", at(5, 10), "in"),
        CaseScan("A", at(5, 11), "out"),
        CaseScan("A", at(5, 15), "in"),
    ]
    contacts = [
        ContactScan("p", "A", at(5, 10)),
        ContactScan("p", "A", at(5, 15, 10)),
        ContactScan(CASE, "A", at(5, 10)),
    ]
    (only,) = overlapping(case_scans, contacts)
    assert len(only.exposures) == 2


def test_overlap_contact_ranges_cover_the_local_days_of_the_widened_visits() -> None:
    case_scans = [
        CaseScan("A", at(5, 23, 50))
    ]  # other: closed at the end of the day (00:00), widened to 00:15
    assert contact_ranges(case_scans, WEEK, WIDE) == [VenueRange("A", at(5, 0), at(7, 0))]


def test_overlap_rule_finds_a_visit_after_midnight_through_widening() -> None:
    case_scans = [CaseScan("A", at(5, 23, 30))]
    contacts = [ContactScan("p", "A", at(6, 0, 5))]
    (only,) = overlapping(
        case_scans, contacts, TracingRule(name="w", method="visits", widen_minutes=15, min_overlap_minutes=5)
    )
    assert only.overlap_minutes == 10.0


# --------------------------------------------------------------------------------------------------
# Configuration and windows
# --------------------------------------------------------------------------------------------------


def test_rules_by_name_and_from_configuration() -> None:
    assert rule_named("national") is NATIONAL and rule_named("overlap") is OVERLAP
    with pytest.raises(InvalidInput) as caught:
        rule_named("f0")
    assert caught.value.field == "rule"
    strict = TracingRule.from_mapping(
        {"name": "strict", "min_overlap_minutes": 15, "venue_weights": {"shop": 0.5}}, OVERLAP
    )
    assert (strict.name, strict.method, strict.min_overlap_minutes, strict.widen_minutes) == (
        "strict",
        "visits",
        15,
        15,
    )
    assert strict.weight("shop") == 0.5 and strict.weight("hospital") == 3.0
    fresh = TracingRule.from_mapping({"name": "n30", "method": "scans", "distance_minutes": 30})
    assert fresh.distance_minutes == 30 and fresh.weight("office") == 2.0


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "x", "method": "scans", "radius": 5}, "radius"),
        ({"name": "x", "method": "guess"}, "method"),
        ({"name": "x", "method": "scans", "distance_minutes": -1}, "distance_minutes"),
        ({"name": "x", "method": "scans", "distance_minutes": "60"}, "distance_minutes"),
        ({"name": "x", "method": "scans", "repeat_weight": 2}, "repeat_weight"),
        ({"name": "x", "method": "scans", "venue_weights": {"shop": -1}}, "venue_weights"),
        ({"name": "x", "method": "scans", "saturation_minutes": 0}, "saturation_minutes"),
        ({"method": "scans"}, "name"),
        ({"name": "x"}, "method"),
    ],
)
def test_bad_rule_configuration_names_the_field(data: dict, field: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        TracingRule.from_mapping(data)
    assert caught.value.field == field


def test_default_window_is_two_days_before_onset_to_isolation() -> None:
    onset = at(5, 14, 30)
    assert default_window(onset, at(8, 9)) == Window(at(3, 14, 30), at(8, 9))
    # an onset day starts at local midnight
    assert default_window(dt.date(2021, 10, 5), at(8, 9)) == Window(at(3, 0), at(8, 9))


def test_windows_must_be_aware_and_in_order() -> None:
    with pytest.raises(InvalidInput) as caught:
        make_window(dt.datetime(2021, 10, 1), at(2, 0))
    assert caught.value.field == "window_start"
    with pytest.raises(InvalidInput) as caught:
        make_window(at(2, 0), at(1, 0))
    assert caught.value.field == "window_end"


# --------------------------------------------------------------------------------------------------
# Second ring
# --------------------------------------------------------------------------------------------------


class World:
    """Scans of a small town, answering the ring callbacks as the SQL layer would (and counting calls)."""

    def __init__(self, scans: list[ContactScan]) -> None:
        self.scans = scans
        self.calls: list[str] = []

    def scans_of(self, persons):
        self.calls.append("scans_of")
        wanted = set(persons)
        out: dict[object, list[CaseScan]] = {p: [] for p in persons}
        for s in self.scans:
            if s.person in wanted:
                out[s.person].append(CaseScan(s.venue_id, s.at, s.explicit))
        return out

    def scans_near(self, ranges):
        self.calls.append("scans_near")
        return [
            s
            for s in self.scans
            if any(r.venue_id == s.venue_id and r.start <= s.at <= r.end for r in ranges)
        ]


def town() -> tuple[list[CaseScan], World]:
    case_scans = [CaseScan("A", at(5, 10)), CaseScan("B", at(5, 16))]
    return case_scans, World(
        [
            ContactScan(CASE, "A", at(5, 10)),
            ContactScan(CASE, "B", at(5, 16)),
            ContactScan("x", "A", at(5, 10, 30)),  # ring 1
            ContactScan("x", "B", at(5, 15, 30)),  # x meets the case again at B, and y there
            ContactScan("x", "C", at(6, 9)),  # x later at C
            ContactScan("y", "B", at(5, 15, 10)),  # ring 1 too (near the case at B)
            ContactScan("z", "C", at(6, 9, 20)),  # ring 2 through x
            ContactScan("w", "C", at(4, 9, 20)),  # at C before x was exposed: not ring 2
            ContactScan("v", "D", at(6, 12)),
            ContactScan("z", "D", at(6, 12, 30)),  # z meets v at D: ring 3
        ]
    )


def test_second_ring_from_a_confirmed_contact() -> None:
    case_scans, world = town()
    ring1 = trace(case_scans, world.scans, WEEK, case={CASE})
    assert sorted(people(ring1)) == ["x", "y"]
    x = next(c for c in ring1 if c.person == "x")
    assert source_window(x, WEEK.end).start == at(5, 10)
    (ring2,) = expand_rings(
        [x],
        scans_of=world.scans_of,
        scans_near=world.scans_near,
        end=WEEK.end,
        exclude={CASE, *people(ring1)},
    )
    assert (ring2.depth, ring2.sources, people(list(ring2.candidates)), ring2.truncated) == (
        2,
        ("x",),
        ["z"],
        False,
    )
    assert ring2.candidates[0].closest.via == "x"
    assert world.calls == ["scans_of", "scans_near"]  # one batched query of each kind per hop


def test_rings_are_bounded_by_depth_and_size() -> None:
    case_scans, world = town()
    ring1 = trace(case_scans, world.scans, WEEK, case={CASE})
    x = next(c for c in ring1 if c.person == "x")
    kw = dict(scans_of=world.scans_of, scans_near=world.scans_near, end=WEEK.end, exclude={CASE, "y"})
    two = expand_rings([x], max_depth=2, **kw)
    assert [(r.depth, people(list(r.candidates))) for r in two] == [(2, ["z"]), (3, ["v"])]
    assert expand_rings([x], max_depth=0, **kw) == []
    assert expand_rings([x], max_depth=3, max_people=0, **kw) == []
    stopped = expand_rings([x], max_depth=3, follow=lambda c: False, **kw)
    assert [r.depth for r in stopped] == [2]
    with pytest.raises(InvalidInput):
        expand_rings([x], max_depth=-1, **kw)


def test_a_ring_cut_by_the_size_bound_keeps_the_best_and_says_so() -> None:
    world = World(
        [ContactScan("x", "C", at(6, 9))] + [ContactScan(f"p{i}", "C", at(6, 9, i)) for i in range(10)]
    )
    x = trace([CaseScan("A", at(6, 8))], [ContactScan("x", "A", at(6, 8))], WEEK)[0]
    rings = expand_rings(
        [x], scans_of=world.scans_of, scans_near=world.scans_near, end=WEEK.end, max_people=3, max_depth=3
    )
    assert len(rings) == 1
    assert rings[0].truncated and people(list(rings[0].candidates)) == ["p0", "p1", "p2"]


def test_next_ring_merges_sources_into_one_entry_per_person() -> None:
    a = trace([CaseScan("A", at(5, 8))], [ContactScan("a", "A", at(5, 8))], WEEK)[0]
    b = trace([CaseScan("A", at(5, 8))], [ContactScan("b", "A", at(5, 8))], WEEK)[0]
    scans = {"a": [CaseScan("C", at(6, 9))], "b": [CaseScan("D", at(6, 14))]}
    contacts = [
        ContactScan("z", "C", at(6, 9, 5)),
        ContactScan("z", "D", at(6, 14, 5)),
        ContactScan("b", "C", at(6, 9)),
    ]
    (z,) = next_ring([a, b], scans, contacts, WEEK.end)
    assert {e.via for e in z.exposures} == {"a", "b"}
    assert ring_ranges([a, b], scans, WEEK.end) == [
        VenueRange("C", at(6, 8), at(6, 10)),
        VenueRange("D", at(6, 13), at(6, 15)),
    ]


# --------------------------------------------------------------------------------------------------
# Venue view
# --------------------------------------------------------------------------------------------------


def test_venue_hours_are_whole_local_hours_merged_per_venue() -> None:
    case_scans = [
        CaseScan("A", at(5, 10, 5)),
        CaseScan("A", at(5, 10, 50)),
        CaseScan("A", at(5, 11, 10)),
        CaseScan("A", at(5, 15, 0)),
        CaseScan("B", at(5, 23, 30)),
        CaseScan("B", at(6, 0, 10)),  # across midnight
        CaseScan("C", at(9, 9)),  # outside the window
    ]
    hours = venue_hours(case_scans, WEEK)
    assert [(h.venue_id, h.start, h.end, h.case_scans) for h in hours] == [
        ("A", at(5, 10), at(5, 12), 3),
        ("A", at(5, 15), at(5, 16), 1),
        ("B", at(5, 23), at(6, 1), 2),
    ]
    assert all(h.start.utcoffset() == dt.timedelta(hours=7) for h in hours)


def test_venue_hours_with_visits_cover_the_visit() -> None:
    case_scans = [CaseScan("A", at(5, 9, 30), "in"), CaseScan("A", at(5, 11), "out")]
    (only,) = venue_hours(case_scans, WEEK, WIDE)
    assert (only.start, only.end, only.case_scans) == (at(5, 9), at(5, 11), 2)
