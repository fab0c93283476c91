"""Closing visits without a check-out (next check-in elsewhere, default stay, end of day), configurable;
through the API, plus the pure rules directly."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from tests.venues.venue_helpers import local_day, local_time
from unifiedqr.config import Settings
from unifiedqr.errors import ConfigError
from unifiedqr.services.visits import Scan, VisitRules, derive_visits, directions


def only_visit(world, days_ago=1):
    (visit,) = world.owner.visits(world.id, local_day(days_ago))["visits"]
    return visit


def test_open_visit_closes_at_the_next_check_in_elsewhere(make_venue, person):
    shop, cafe = make_venue("office", "Văn phòng A"), make_venue("restaurant", "Quán B")
    payload = person()["payload"]
    shop.staff.scan(shop.id, payload, at=local_time(1, 9))
    cafe.staff.scan(cafe.id, payload, at=local_time(1, 12))
    visit = only_visit(shop)
    assert visit["closed_by"] == "next_check_in_elsewhere"
    assert dt.datetime.fromisoformat(visit["checked_out_at"]) == dt.datetime.fromisoformat(local_time(1, 12))


def test_open_visit_closes_after_the_venue_types_default_stay(make_venue, person):
    shop = make_venue("shop", "Tạp hoá")
    shop.staff.scan(shop.id, person()["payload"], at=local_time(1, 9))
    visit = only_visit(shop)
    assert visit["closed_by"] == "default_stay"
    assert dt.datetime.fromisoformat(visit["checked_out_at"]) == dt.datetime.fromisoformat(
        local_time(1, 9, 30)
    )


def test_per_venue_default_stay_overrides_the_type(make_venue, person):
    shop = make_venue("shop", "Tạp hoá", default_stay_minutes=45)
    shop.staff.scan(shop.id, person()["payload"], at=local_time(1, 9))
    assert (
        only_visit(shop)["checked_out_at"]
        == dt.datetime.fromisoformat(local_time(1, 9, 45)).astimezone(dt.UTC).isoformat()
    )


def test_open_visit_closes_at_the_end_of_the_day(make_venue, person):
    office = make_venue("office", "Văn phòng")
    office.staff.scan(office.id, person()["payload"], at=local_time(2, 20))
    visit = only_visit(office, 2)
    assert visit["closed_by"] == "end_of_day"
    assert dt.datetime.fromisoformat(visit["checked_out_at"]) == dt.datetime.fromisoformat(local_time(1, 0))


def test_a_scan_after_the_default_stay_is_a_new_check_in(make_venue, person):
    shop, office = make_venue("shop", "Tạp hoá"), make_venue("office", "Văn phòng")
    payload = person()["payload"]
    assert shop.staff.scan(shop.id, payload, at=local_time(1, 9))["direction"] == "in"
    assert shop.staff.scan(shop.id, payload, at=local_time(1, 15))["direction"] == "in", "closed at 09:30"
    assert office.staff.scan(office.id, payload, at=local_time(1, 9, 20))["direction"] == "in"
    assert office.staff.scan(office.id, payload, at=local_time(1, 17))["direction"] == "out", "within 9 h"
    first, second = shop.owner.visits(shop.id, local_day(1))["visits"]
    assert first["closed_by"] == "next_check_in_elsewhere", "the office check-in at 09:20 came first"
    assert (second["closed_by"], second["checked_out_at"]) == (
        "default_stay",
        dt.datetime.fromisoformat(local_time(1, 15, 30)).astimezone(dt.UTC).isoformat(),
    )


def test_re_entry_closes_the_open_visit_at_the_new_check_in(make_venue, person):
    office = make_venue("office", "Văn phòng")
    payload = person()["payload"]
    office.staff.scan(office.id, payload, at=local_time(1, 9))
    office.staff.scan(office.id, payload, direction="in", at=local_time(1, 11))
    first, _ = office.owner.visits(office.id, local_day(1))["visits"]
    assert first["closed_by"] == "reentry"
    assert dt.datetime.fromisoformat(first["checked_out_at"]) == dt.datetime.fromisoformat(local_time(1, 11))


def test_a_visit_still_running_is_open(make_venue, person):
    office = make_venue("office", "Văn phòng")
    office.staff.scan(office.id, person()["payload"])
    (visit,) = office.owner.visits(office.id)["visits"]
    assert visit["closed_by"] is None and visit["checked_out_at"] is None


def test_rules_are_configurable(make_venue, person, ctx, monkeypatch):
    rules = VisitRules(duplicate_seconds=600, close_at_next_check_in=False)
    monkeypatch.setattr(ctx, "settings", replace(ctx.settings, visit_rules=rules))
    a, b = make_venue("office", "A"), make_venue("office", "B")
    payload = person()["payload"]
    assert a.staff.scan(a.id, payload, at=local_time(1, 9))["direction"] == "in"
    assert a.staff.scan(a.id, payload, at=local_time(1, 9, 5))["direction"] == "duplicate"
    b.staff.scan(b.id, payload, at=local_time(1, 12))
    assert only_visit(a)["closed_by"] == "default_stay"


def rules_from(environ: dict[str, str]) -> VisitRules:
    return Settings.from_env("sqlite://", environ=environ).visit_rules


def test_rules_from_the_environment():
    rules = rules_from(
        {"UNIFIEDQR_VISIT_DUPLICATE_SECONDS": "30", "UNIFIEDQR_VISIT_STAY_MINUTES": "shop=15, office=600"}
    )
    assert rules.duplicate_seconds == 30
    assert rules.stay("shop") == dt.timedelta(minutes=15) and rules.stay("office") == dt.timedelta(
        minutes=600
    )
    assert rules.stay("market") == dt.timedelta(minutes=60)
    with pytest.raises(ConfigError):
        rules_from({"UNIFIEDQR_VISIT_STAY_MINUTES": "spaceship=5"})
    with pytest.raises(ConfigError):
        rules_from({"UNIFIEDQR_VISIT_DUPLICATE_SECONDS": "soon"})


# -- the pure rules ------------------------------------------------------------------------------
RULES = VisitRules()
T0 = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 09:00 in Hanoi


def at(minutes: float) -> dt.datetime:
    return T0 + dt.timedelta(minutes=minutes)


def test_toggle_duplicate_and_explicit_sequence():
    scans = [
        Scan(at(0)),
        Scan(at(0.5)),
        Scan(at(30)),
        Scan(at(30.5), "out"),
        Scan(at(60)),
        Scan(at(60.2), "out"),
    ]
    assert directions(scans, RULES) == ["in", "duplicate", "out", "duplicate", "in", "out"]


def test_day_change_resets_the_toggle():
    late, early = T0.replace(hour=16, minute=30), T0.replace(hour=17, minute=30)  # 23:30 and 00:30 local
    assert directions([Scan(late), Scan(early)], RULES) == ["in", "in"]


def test_out_without_in_is_a_visit_of_unknown_start():
    (visit,) = derive_visits([Scan(at(0), "out")], RULES, dt.timedelta(hours=1), at(600))
    assert visit.checked_in is None and visit.closed_by == "check_out"


def test_earliest_closing_rule_wins():
    stay = dt.timedelta(minutes=90)
    (by_stay,) = derive_visits([Scan(at(0))], RULES, stay, at(600), [at(120)])
    assert (by_stay.closed_at, by_stay.closed_by) == (at(90), "default_stay")
    (by_next,) = derive_visits([Scan(at(0))], RULES, stay, at(600), [at(-10), at(45)])
    assert (by_next.closed_at, by_next.closed_by) == (at(45), "next_check_in_elsewhere")
    (still_open,) = derive_visits([Scan(at(0))], RULES, stay, at(60), [])
    assert still_open.closed_at is None and still_open.closed_by is None


# -- properties over random scan sequences -------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

scan_lists = st.lists(
    st.tuples(st.integers(0, 23 * 3600), st.sampled_from([None, None, "in", "out"])), max_size=30
).map(
    lambda items: [
        Scan(T0 - dt.timedelta(hours=2) + dt.timedelta(seconds=s), e)
        for s, e in sorted(items, key=lambda i: i[0])
    ]
)


@settings(max_examples=200, deadline=None)
@given(scan_lists)
def test_visits_are_consistent_with_the_directions(scans):
    found = directions(scans, RULES, dt.timedelta(hours=1))
    visits = derive_visits(scans, RULES, dt.timedelta(hours=1), T0 + dt.timedelta(days=2))
    assert sum(v.checked_in is not None for v in visits) == found.count("in")
    assert sum(v.checked_out is not None for v in visits) == found.count("out")
    for visit in visits:
        assert visit.closed_at is not None, "two days later every visit is closed"
        if visit.checked_in is not None:
            assert visit.closed_at >= visit.checked_in.at
            assert (
                visit.closed_at - visit.checked_in.at <= dt.timedelta(hours=1)
                or visit.closed_by == "check_out"
            )
    counted = [s.at for s, d in zip(scans, found, strict=True) if d != "duplicate"]
    for scan, direction in zip(scans, found, strict=True):
        if direction == "duplicate":
            assert any(0 <= (scan.at - at).total_seconds() < RULES.duplicate_seconds for at in counted)
