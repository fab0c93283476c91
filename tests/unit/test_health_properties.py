"""Hypothesis properties of the colour engine: it agrees with issue 11's words read literally, and
``valid_until`` is exactly the next instant at which the colour changes."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from unifiedqr.services.health_status import (
    DEFAULT_RULES,
    Record,
    Recovery,
    RuleSet,
    Test,
    Vaccination,
    boundaries,
    evaluate,
    load_rules,
)

RULES = load_rules(DEFAULT_RULES)
NEUTRAL = load_rules("none")
VIETNAM = dt.timezone(dt.timedelta(hours=7))
MICRO = dt.timedelta(microseconds=1)
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)

zones = st.sampled_from(
    [dt.UTC, VIETNAM, dt.timezone(dt.timedelta(hours=-5)), dt.timezone(dt.timedelta(hours=14))]
)
nows = st.builds(
    lambda base, zone: base.replace(tzinfo=dt.UTC).astimezone(zone),
    st.datetimes(min_value=dt.datetime(2020, 6, 1), max_value=dt.datetime(2023, 6, 1)),
    zones,
)
# Offsets from now, biased to the edges the rules have.
instant_offsets = st.one_of(
    st.timedeltas(min_value=-30 * DAY, max_value=3 * DAY),
    st.sampled_from(
        [dt.timedelta(0), -72 * HOUR, -72 * HOUR - MICRO, -240 * HOUR, -240 * HOUR - MICRO, MICRO]
    ),
)
day_offsets = st.one_of(
    st.integers(min_value=-400, max_value=20), st.sampled_from([0, -13, -14, -15, -180, -181, 1])
)


@st.composite
def records(draw: st.DrawFn, now: dt.datetime) -> list[Record]:
    today = now.astimezone(VIETNAM).date()
    found: list[Record] = []
    for _ in range(draw(st.integers(min_value=0, max_value=5))):
        kind = draw(st.sampled_from(["vaccination", "test", "recovery"]))
        if kind == "test":
            at = now + draw(instant_offsets)
            zone = draw(zones)
            method = draw(st.sampled_from(["pcr", "rapid_antigen"]))
            result = draw(st.sampled_from(["negative", "positive"]))
            found.append(Test(at.astimezone(zone), method, result))
        else:
            day = today + dt.timedelta(days=draw(day_offsets))
            if kind == "recovery":
                found.append(Recovery(day))
            else:
                series = draw(st.integers(min_value=1, max_value=3))
                dose = draw(st.integers(min_value=1, max_value=4))
                found.append(
                    Vaccination(day, dose, series, draw(st.sampled_from(["Comirnaty", "Vero Cell"])))
                )
    return found


cases = nows.flatmap(lambda now: st.tuples(st.just(now), records(now)))


def literal_reading(held: list[Record], now: dt.datetime) -> tuple[str, str]:
    """Issue 11 read word by word, with the edges docs/health-status.md chose (future records do not count)."""
    today = now.astimezone(VIETNAM).date()

    def past(record: Record) -> bool:
        if isinstance(record, Test):
            return record.taken_at <= now
        return record.date <= today

    tests = [r for r in held if isinstance(r, Test) and past(r)]
    shots = [r for r in held if isinstance(r, Vaccination) and past(r)]
    recoveries = [r for r in held if isinstance(r, Recovery) and past(r)]
    if any(t.result == "positive" and t.taken_at >= now - dt.timedelta(days=10) for t in tests):
        return "red", "positive_test_in_isolation"
    if any(v.dose >= v.doses_in_series and v.date <= today - dt.timedelta(days=14) for v in shots):
        return "green", "fully_vaccinated"
    if any(r.date >= today - dt.timedelta(days=180) for r in recoveries):
        return "green", "recovered"
    if any(v.date <= today - dt.timedelta(days=14) for v in shots):
        return "yellow", "partially_vaccinated"
    if any(
        t.method == "pcr" and t.result == "negative" and t.taken_at >= now - dt.timedelta(hours=72)
        for t in tests
    ):
        return "yellow", "negative_pcr_72h"
    return "red", "no_qualifying_record"


def colour(held: list[Record], rules: RuleSet, at: dt.datetime) -> str:
    return evaluate(held, rules, at).colour


@given(cases)
def test_agrees_with_the_issue_read_literally(case: tuple[dt.datetime, list[Record]]) -> None:
    now, held = case
    status = evaluate(held, RULES, now)
    assert (status.colour, status.reason) == literal_reading(held, now)


@given(cases, st.floats(min_value=0, max_value=1, exclude_max=True))
@settings(max_examples=200)
def test_valid_until_is_the_next_change_of_colour(
    case: tuple[dt.datetime, list[Record]], where: float
) -> None:
    now, held = case
    status = evaluate(held, RULES, now)
    if status.valid_until is None:
        for later in [*boundaries(held, RULES, now), now + 400 * DAY]:
            assert colour(held, RULES, later) == status.colour
        return
    until = status.valid_until
    assert until > now
    assert until.utcoffset() == dt.timedelta(hours=7)  # written in the rule file's zone
    assert colour(held, RULES, until - MICRO) == status.colour
    assert colour(held, RULES, until) != status.colour
    inside = now + (until - now) * where
    assert colour(held, RULES, min(inside, until - MICRO)) == status.colour


@given(cases)
def test_record_order_and_duplicates_do_not_matter(case: tuple[dt.datetime, list[Record]]) -> None:
    now, held = case
    status = evaluate(held, RULES, now)
    assert evaluate(list(reversed(held)), RULES, now) == status
    assert evaluate(held + held, RULES, now) == status


@given(cases)
def test_the_same_instant_in_any_zone_gives_the_same_status(case: tuple[dt.datetime, list[Record]]) -> None:
    now, held = case
    status = evaluate(held, RULES, now)
    for zone in (dt.UTC, VIETNAM, dt.timezone(dt.timedelta(hours=-11))):
        assert evaluate(held, RULES, now.astimezone(zone)) == status


@given(cases)
def test_province_without_rules_is_always_neutral(case: tuple[dt.datetime, list[Record]]) -> None:
    now, held = case
    assert evaluate(held, NEUTRAL, now).to_json() == {
        "colour": "neutral",
        "reason": "no_rules",
        "valid_until": None,
    }


@given(cases)
def test_status_json_names_the_same_instant(case: tuple[dt.datetime, list[Record]]) -> None:
    now, held = case
    body = evaluate(held, RULES, now).to_json()
    assert set(body) == {"colour", "reason", "valid_until"}
    if body["valid_until"] is not None:
        assert dt.datetime.fromisoformat(body["valid_until"]) == evaluate(held, RULES, now).valid_until


extreme_dates = st.one_of(st.dates(), st.sampled_from([dt.date.min, dt.date.max]))
extreme_instants = st.one_of(
    st.datetimes(timezones=st.just(dt.UTC)),
    st.sampled_from(
        [dt.datetime.min.replace(tzinfo=dt.UTC), dt.datetime.max.replace(tzinfo=dt.UTC)],
    ),
)
any_record = st.one_of(
    st.builds(
        Vaccination,
        extreme_dates,
        st.integers(min_value=1, max_value=100),
        st.integers(min_value=1, max_value=100),
        st.just("x"),
    ),
    st.builds(
        Test,
        extreme_instants,
        st.sampled_from(["pcr", "rapid_antigen"]),
        st.sampled_from(["negative", "positive"]),
    ),
    st.builds(Recovery, extreme_dates),
)


@given(st.lists(any_record, max_size=6), extreme_instants)
def test_never_raises_on_valid_records_even_at_the_ends_of_the_calendar(
    held: list[Record], now: dt.datetime
) -> None:
    status = evaluate(held, RULES, now)
    assert status.colour in ("green", "yellow", "red")
    assert status.reason in RULES.reasons
    assert status.valid_until is None or status.valid_until > now
