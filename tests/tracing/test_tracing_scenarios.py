"""Hand-built scenarios with known answers, through the API, on SQLite and PostgreSQL (issue 12).

Every scan goes in the way a door sends it (staff scans, an offline batch with a wrong clock, the
public check-in page); every answer comes from ``GET /tracing/cases/{id}/candidates``. Times are
local (UTC+7) on past days inside retention.
"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.tracing.tracing_helpers import instant, local, rfc

WINDOW = (local(6, 0), local(1, 0))


def by_qid(found: list[dict]) -> dict:
    return {c["qid"]: c for c in found}


# --------------------------------------------------------------------------------------------------
# national: the ±60 minutes edges
# --------------------------------------------------------------------------------------------------


def test_exactly_60_minutes_either_side_counts_and_61_does_not(tw):
    case = tw.person()
    people = {name: tw.person() for name in ("plus60", "minus60", "plus61", "minus61", "plus60s1")}
    at = local(3, 12)
    tw.scan("A", case, at)
    tw.scan("A", people["plus60"], at + dt.timedelta(minutes=60))
    tw.scan("A", people["minus60"], at - dt.timedelta(minutes=60))
    tw.scan("A", people["plus61"], at + dt.timedelta(minutes=61))
    tw.scan("A", people["minus61"], at - dt.timedelta(minutes=61))
    tw.scan("A", people["plus60s1"], at + dt.timedelta(minutes=60, seconds=1))
    found = by_qid(tw.candidates(tw.open_case(case, *WINDOW)))
    assert set(found) == {people["plus60"]["qid"], people["minus60"]["qid"]}
    for c in found.values():
        assert c["minutes_apart"] == 60.0 and c["overlap_minutes"] == 0.0
        assert c["exposures"] == [
            {
                "venue_id": tw.venue("A").id,
                "case_scan_at": c["case_scan_at"],
                "scan_at": c["scan_at"],
                "minutes_apart": 60.0,
            }
        ]
        assert instant(c["case_scan_at"]) == at


def test_the_window_edges_are_inclusive_and_only_the_case_scan_must_be_inside(tw):
    case = tw.person()
    start, end = local(4, 8), local(2, 20)
    tw.scan("START", case, start)
    tw.scan("END", case, end)
    tw.scan("BEFORE", case, start - dt.timedelta(seconds=1))
    tw.scan("AFTER", case, end + dt.timedelta(seconds=1))
    at_start, at_end, before, after = (tw.person() for _ in range(4))
    tw.scan("START", at_start, start - dt.timedelta(minutes=30))  # outside the window itself: fine
    tw.scan("END", at_end, end + dt.timedelta(minutes=59))
    tw.scan("BEFORE", before, start - dt.timedelta(seconds=1))
    tw.scan("AFTER", after, end + dt.timedelta(seconds=1))
    opened = tw.open_case(case, start, end)
    assert (opened["case_scans"], opened["venues"]) == (2, 2)
    assert set(tw.qids(opened)) == {at_start["qid"], at_end["qid"]}


def test_another_venue_at_the_same_time_and_the_same_venue_the_day_before_are_not_contacts(tw):
    case, elsewhere, day_before, real = tw.person(), tw.person(), tw.person(), tw.person()
    at = local(3, 10)
    tw.scan("A", case, at)
    tw.scan("B", elsewhere, at)
    tw.scan("A", day_before, at - dt.timedelta(days=1))
    tw.scan("A", real, at + dt.timedelta(minutes=5))
    assert tw.qids(tw.open_case(case, *WINDOW)) == [real["qid"]]


def test_a_case_visiting_the_same_venue_twice_gives_one_entry_with_two_exposures(tw):
    case, contact = tw.person(), tw.person()
    tw.scan("A", case, local(3, 10), direction="in")
    tw.scan("A", case, local(3, 10, 40), direction="in")
    tw.scan("A", contact, local(3, 10, 30))
    (only,) = tw.candidates(tw.open_case(case, *WINDOW))
    assert [(instant(e["case_scan_at"]), e["minutes_apart"]) for e in only["exposures"]] == [
        (local(3, 10), 30.0),
        (local(3, 10, 40), 10.0),
    ]
    assert instant(only["case_scan_at"]) == local(3, 10, 40), "the closest exposure is copied out"
    assert (only["minutes_apart"], only["overlap_minutes"]) == (10.0, 50.0)
    assert only["venue_id"] == tw.venue("A").id


def test_midnight_crossing_counts_across_local_days_and_time_zones(tw):
    case, contact = tw.person(), tw.person()
    tw.scan("NIGHT", case, local(3, 23, 40))
    contact_at = local(2, 0, 20).astimezone(dt.UTC)  # the next local day, sent in UTC
    tw.scan("NIGHT", contact, contact_at)
    (only,) = tw.candidates(tw.open_case(case, *WINDOW))
    assert only["qid"] == contact["qid"] and only["minutes_apart"] == 40.0
    assert instant(only["scan_at"]) == contact_at


def test_a_clock_skewed_offline_upload_counts_by_its_corrected_time(tw):
    case, near, far = tw.person(), tw.person(), tw.person()
    now = dt.datetime.now(dt.UTC)
    case_at = now - dt.timedelta(hours=3)
    tw.scan("A", case, case_at)
    venue = tw.venue("A")
    skew = dt.timedelta(hours=2)  # the device's clock is two hours fast
    scans = [
        {
            "idempotency_key": "near",
            "at": rfc(case_at + dt.timedelta(minutes=20) + skew),
            "text": near["payload"],
        },
        {"idempotency_key": "far", "at": rfc(case_at + dt.timedelta(minutes=20)), "text": far["payload"]},
    ]
    result = venue.staff.upload_scans(venue.id, "fast-clock", scans, sent_at=rfc(now + skew))
    assert result["skew_corrected"] is True
    found = by_qid(tw.candidates(tw.open_case(case, now - dt.timedelta(days=1), now)))
    assert near["qid"] in found, "the corrected time is 20 minutes after the case"
    assert abs(found[near["qid"]]["minutes_apart"] - 20) < 0.2
    assert far["qid"] not in found, "its device time was right, so the correction moved it 2 h back"


# --------------------------------------------------------------------------------------------------
# Who counts and how they are shown
# --------------------------------------------------------------------------------------------------


def test_every_scan_counts_whatever_its_direction_or_duplicate_status_one_entry_per_person(tw):
    case, contact = tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", contact, local(3, 10, 5), direction="out")
    tw.scan("A", contact, local(3, 10, 5, 30))  # a duplicate by the visit rules: still a scan
    tw.scan("A", contact, local(3, 10, 50), direction="out")
    (only,) = tw.candidates(tw.open_case(case, *WINDOW))
    assert only["qid"] == contact["qid"]
    assert len(only["exposures"]) == 3
    assert only["minutes_apart"] == 5.0


def test_visitors_known_only_by_phone_have_a_visitor_id_and_masked_phone(tw):
    case, registered = tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", registered, local(3, 10, 10))
    tw.phone_scan("A", "0987 654 321", local(3, 10, 20))
    found = tw.candidates(tw.open_case(case, *WINDOW))
    phone_only = next(c for c in found if c["qid"] is None)
    assert phone_only["visitor_id"].startswith("v_") and phone_only["phone_masked"] == "098****321"
    assert "0987654321" not in str(found)
    assert phone_only["unverified"] is True and phone_only["verified"] is False
    assert next(c for c in found if c["qid"] == registered["qid"])["unverified"] is False


def test_check_ins_on_the_public_page_count_and_are_marked_unverified(tw, anon):
    case, walker = tw.person(), tw.person()
    now = dt.datetime.now(dt.UTC)
    tw.scan("A", case, now - dt.timedelta(minutes=10))
    path = "/v/" + tw.venue("A").code.split("/v/", 1)[1]
    assert anon._http.post(path, data={"code": walker["payload"]}).status_code == 201
    assert anon._http.post(path, data={"phone": "0911222333"}).status_code == 201
    found = tw.candidates(tw.open_case(case, now - dt.timedelta(hours=2), now))
    assert len(found) == 2 and all(c["unverified"] for c in found)
    # the page records claims, never resolved to a person (issue 10): neither names a QID
    assert {c["phone_masked"] for c in found} == {"091****333", None}


def test_the_case_is_never_a_candidate_under_any_of_its_identities(tw):
    case = tw.person(phone="0977111222")
    other = tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", case, local(3, 10, 30), direction="out")
    tw.phone_scan("A", "0977111222", local(3, 10, 40))  # the case's phone: their own key
    tw.scan("A", other, local(3, 10, 15))
    assert tw.qids(tw.open_case(case, *WINDOW)) == [other["qid"]]


def test_candidates_are_ranked_by_overlap_and_venue_type(tw):
    case = tw.person()
    hospital = tw.venue("H", "hospital")
    shop = tw.venue("S", "shop")
    assert hospital and shop
    tw.scan("H", case, local(3, 8))
    tw.scan("S", case, local(3, 12))
    close_shop, close_ward, far_ward = tw.person(), tw.person(), tw.person()
    tw.scan("S", close_shop, local(3, 12))
    tw.scan("H", close_ward, local(3, 8))
    tw.scan("H", far_ward, local(3, 8, 50))
    found = tw.candidates(tw.open_case(case, *WINDOW))
    assert [c["qid"] for c in found] == [close_ward["qid"], far_ward["qid"], close_shop["qid"]]
    assert [c["score"] for c in found] == sorted((c["score"] for c in found), reverse=True)
    assert [c["rank"] for c in found] == [1, 2, 3]


# --------------------------------------------------------------------------------------------------
# The overlap rule (visits) through the same endpoints
# --------------------------------------------------------------------------------------------------


def test_overlap_rule_widens_the_case_visit_and_needs_ten_shared_minutes(tw):
    case = tw.person()
    tw.scan("O", case, local(3, 10), direction="in")
    tw.scan("O", case, local(3, 11), direction="out")
    in_by_25, in_by_10, apart = tw.person(), tw.person(), tw.person()
    for who, start in ((in_by_25, local(3, 10, 50)), (in_by_10, local(3, 11, 5)), (apart, local(3, 11, 20))):
        tw.scan("O", who, start, direction="in")
        tw.scan("O", who, start + dt.timedelta(minutes=50), direction="out")
    found = by_qid(tw.candidates(tw.open_case(case, *WINDOW, rule="overlap")))
    assert set(found) == {in_by_25["qid"], in_by_10["qid"]}
    assert found[in_by_25["qid"]]["overlap_minutes"] == 25.0
    assert found[in_by_10["qid"]]["overlap_minutes"] == 10.0


# --------------------------------------------------------------------------------------------------
# The contract's edges
# --------------------------------------------------------------------------------------------------


def test_open_case_validates_its_input(tw):
    who = tw.person()
    post = lambda body: tw.official.raw("POST", "/tracing/cases", json=body)  # noqa: E731
    good = {"qid": who["qid"], "window_start": rfc(WINDOW[0]), "window_end": rfc(WINDOW[1])}
    assert post(good).status_code == 201
    assert post({**good, "rule": "national"}).json()["rule"] == "national"
    for missing in ("qid", "window_start", "window_end"):
        assert post({k: v for k, v in good.items() if k != missing}).status_code == 422
    assert post({**good, "qid": "1" * 18}).status_code == 404
    assert post({**good, "rule": "nonsense"}).status_code == 422
    assert post({**good, "window_end": rfc(WINDOW[0] - dt.timedelta(hours=1))}).status_code == 422
    assert post({**good, "window_start": "yesterday"}).status_code == 422
    wide = {**good, "window_start": "2000-01-01T00:00:00Z"}
    assert post(wide).status_code == 201, "no bound by default: retention bounds what a window holds"
    assert tw.official.raw("GET", "/tracing/cases/case_nope/candidates").status_code == 404


def test_a_case_with_no_scans_has_no_candidates(tw):
    opened = tw.open_case(tw.person(), *WINDOW)
    assert (opened["case_scans"], opened["venues"]) == (0, 0)
    assert tw.candidates(opened) == []


@pytest.mark.parametrize("rule", ["national", "overlap"])
def test_the_answer_shape_is_the_contract(tw, rule):
    case, contact = tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", contact, local(3, 10, 20))
    response = tw.official.raw(
        "GET", f"/tracing/cases/{tw.open_case(case, *WINDOW, rule=rule)['case_id']}/candidates"
    )
    body = response.json()
    (entry,) = body["candidates"]
    assert {"qid", "score", "exposures", "venue_id", "case_scan_at", "scan_at", "overlap_minutes"} <= set(
        entry
    )
    assert set(entry["exposures"][0]) == {"venue_id", "case_scan_at", "scan_at", "minutes_apart"}
    assert isinstance(entry["score"], float) and entry["score"] > 0


def test_a_visitor_known_only_by_an_unregistered_id_card_has_no_qid(tw):
    from tests.venues.venue_helpers import cccd_text

    case = tw.person()
    tw.scan("A", case, local(3, 10))
    venue = tw.venue("A")
    venue.staff.scan(venue.id, cccd_text("079999000111", name="Trần Thị Bích"), at=rfc(local(3, 10, 25)))
    (card,) = tw.candidates(tw.open_case(case, *WINDOW))
    assert card["qid"] is None and card["visitor_id"].startswith("v_") and card["unverified"] is True
    assert card["name_masked"] == "T*** T** BICH" and "079999000111" not in str(card)
