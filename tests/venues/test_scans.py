"""Both directions through the real app and database: citizen scans venue, venue scans citizen."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.venues.venue_helpers import cccd_text, local_day, local_time
from unifiedqr.codes.display import masked_variant
from unifiedqr.codes.payload import parse
from unifiedqr.store.venue_models import ScanEvent


def reason(response) -> str:
    assert response.headers["content-type"].startswith("application/problem+json")
    return response.json()["errors"][0]["reason"]


def test_citizen_check_in_through_a_platform_toggles_to_out(world, person):
    someone = person(phone="0944713700")
    platform = someone["platform"]
    first = platform.checkin(world.code, someone["qid"], at=local_time(2, 9))
    assert first["direction"] == "in" and first["venue_id"] == world.id
    assert first["colour"] == "red", "the health colour: no record qualifies (issue 11)"
    assert first["visitor"] == {"name": "N***** L* K** HAN", "phone": "094****700"}
    second = platform.checkin(world.code, someone["qid"], at=local_time(2, 10))
    assert second["direction"] == "out"
    third = platform.checkin(world.code, someone["qid"], at=local_time(2, 11))
    assert third["direction"] == "in", "toggles again within the day"
    next_day = platform.checkin(world.code, someone["qid"], at=local_time(1, 0, 30))
    assert next_day["direction"] == "in", "a new day starts with no open visit"


def test_platform_cannot_check_in_people_it_did_not_register(world, person, make_platform):
    someone = person()
    stranger = make_platform("Other app")
    response = stranger.raw("POST", "/checkins", json={"venue_code": world.code, "qid": someone["qid"]})
    assert response.status_code == 404


def test_citizen_checks_in_themselves(world, person, make_user):
    someone = person()
    citizen = make_user("citizen", qid=someone["qid"])
    assert citizen.checkin(world.code)["direction"] == "in"
    response = citizen.raw("POST", "/checkins", json={"venue_code": world.code, "qid": "1" * 18})
    assert response.status_code == 404


def test_staff_scan_personal_code_then_masked_code_is_the_same_person(world, person):
    someone = person()
    payload = someone["payload"]
    scan_in = world.staff.scan(world.id, payload, entrance_id=world.entrance("front"), at=local_time(1, 8))
    assert (scan_in["direction"], scan_in["verification"], scan_in["colour"]) == ("in", "valid", "red")
    assert scan_in["code_kind"] == "personal" and scan_in["entrance_id"] == world.entrance("front")
    masked = masked_variant(parse(payload)).to_text()
    scan_out = world.staff.scan(world.id, masked, entrance_id=world.entrance("back"), at=local_time(1, 9))
    assert (scan_out["direction"], scan_out["verification"], scan_out["colour"]) == (
        "out",
        "unsigned",
        "neutral",
    ), "an unsigned code earns no colour: anyone can type a QID into one"
    assert scan_out["code_kind"] == "personal_masked"
    visits = world.owner.visits(world.id, local_day(1))["visits"]
    assert len(visits) == 1
    assert visits[0]["entrance_in"] == world.entrance("front") and visits[0][
        "entrance_out"
    ] == world.entrance("back")
    assert visits[0]["closed_by"] == "check_out"


def test_tampered_signed_code_is_recorded_red(world, person):
    payload = person()["payload"]
    tampered = payload.replace("NGUYEN LE KHA HAN", "NGUYEN LE KHA HAM")
    result = world.staff.scan(world.id, tampered, at=local_time(1, 8))
    assert (result["verification"], result["colour"]) == ("bad_signature", "red")


def test_cccd_and_phone_of_a_registered_person_toggle_one_visit(world, person):
    someone = person(document_number="001093029317", phone="0944713700")
    card = world.staff.scan(world.id, cccd_text("001093029317"), at=local_time(1, 8))
    assert (card["direction"], card["code_kind"], card["verification"]) == ("in", "cccd", "none")
    assert card["visitor"]["name"] == "N***** L* K** HAN"
    phone = world.staff.scan(world.id, phone="0944 713 700", at=local_time(1, 9))
    assert (phone["direction"], phone["code_kind"]) == ("out", "phone")
    code = world.staff.scan(world.id, someone["payload"], at=local_time(1, 10))
    assert code["direction"] == "in"
    assert len(world.owner.visits(world.id, local_day(1))["visits"]) == 2


def test_unregistered_card_and_phone_are_visitors_too(world):
    card = world.staff.scan(
        world.id, cccd_text("079088001234", "Trần Văn Bình", "30111988"), at=local_time(1, 8)
    )
    assert card["direction"] == "in" and card["visitor"]["name"] == "T*** V** BINH"
    phone = world.staff.scan(world.id, "0987654321", at=local_time(1, 8, 30))
    assert phone["direction"] == "in" and phone["visitor"] == {"name": "", "phone": "098****321"}
    assert world.staff.scan(world.id, "0987654321", at=local_time(1, 9))["direction"] == "out"


def test_explicit_direction_wins_over_the_toggle(world, person):
    payload = person()["payload"]
    assert world.staff.scan(world.id, payload, direction="out", at=local_time(1, 8))["direction"] == "out"
    assert world.staff.scan(world.id, payload, direction="in", at=local_time(1, 9))["direction"] == "in"
    assert world.staff.scan(world.id, payload, direction="in", at=local_time(1, 10))["direction"] == "in"
    visits = world.owner.visits(world.id, local_day(1))["visits"]
    assert [v["closed_by"] for v in visits] == ["check_out", "reentry", "default_stay"]


def test_duplicate_scans_within_the_window_are_one_event(world, person, ctx):
    payload = person()["payload"]
    first = world.staff.scan(world.id, payload, at=local_time(1, 8, 0, 0))
    again = world.staff.scan(world.id, payload, at=local_time(1, 8, 0, 20))
    later = world.staff.scan(world.id, payload, at=local_time(1, 8, 5, 0))
    assert [first["direction"], again["direction"], later["direction"]] == ["in", "duplicate", "out"]
    counts = world.owner.hourly_counts(world.id, local_day(1))
    assert counts["hours"][8] == {"hour": 8, "check_ins": 1, "check_outs": 1}
    assert counts["total_check_ins"] == 1
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ScanEvent)) == 3, "every event is stored"


def test_idempotency_key_makes_a_retried_single_scan_land_once(world, person, ctx):
    payload = person()["payload"]
    first = world.staff.raw(
        "POST", f"/venues/{world.id}/scans", json={"text": payload, "idempotency_key": "k-1"}
    )
    retry = world.staff.raw(
        "POST", f"/venues/{world.id}/scans", json={"text": payload, "idempotency_key": "k-1"}
    )
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["status"] == "already_recorded" and retry.json()["direction"] == "in"
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ScanEvent)) == 1


@pytest.mark.parametrize(
    ("body", "field", "name"),
    [
        ({"text": "VENUE"}, "text", "wrong_kind"),
        ({"text": "HC1:6BFOXN*TS0BI$ZD4N9"}, "text", "malformed"),  # a passport is read, this is none
        ({"text": "hello"}, "text", "malformed"),
        ({"text": "PAYLOAD", "at": "2999-01-01T00:00:00Z"}, "at", "future_timestamp"),
        ({"text": "PAYLOAD", "at": "2001-01-01T00:00:00Z"}, "at", "too_old"),
        ({"text": "PAYLOAD", "at": "yesterday"}, "at", "malformed"),
        ({"phone": "12345"}, "phone", "malformed"),
    ],
)
def test_bad_staff_scans_are_named(world, person, body, field, name):
    payload = person()["payload"]
    body = {k: (world.code if v == "VENUE" else payload if v == "PAYLOAD" else v) for k, v in body.items()}
    response = world.staff.raw("POST", f"/venues/{world.id}/scans", json=body)
    assert response.status_code == 422
    assert response.json()["field"] == field
    assert reason(response).startswith(name)


def test_personal_code_at_the_citizen_endpoint_is_wrong_kind(world, person):
    someone = person()
    response = someone["platform"].raw(
        "POST", "/checkins", json={"venue_code": someone["payload"], "qid": someone["qid"]}
    )
    assert response.status_code == 422 and reason(response).startswith("wrong_kind")


def test_unknown_entrance_is_404(world, person):
    response = world.staff.raw(
        "POST", f"/venues/{world.id}/scans", json={"text": person()["payload"], "entrance_id": "ent_nope"}
    )
    assert response.status_code == 404 and response.json()["field"] == "entrance_id"


def test_hot_queries_use_the_intended_indexes(world, person, ctx):
    """The visit toggle looks up one visitor's day: by person, never by scanning the venue's day."""
    if ctx.db.dialect != "sqlite":
        pytest.skip("plans are checked on SQLite, whose planner has no statistics to go by")
    import datetime as dt

    from tests.venues.venue_helpers import scan_rows_with_plans

    world.staff.scan(world.id, person()["payload"])
    with ctx.db.read() as session, scan_rows_with_plans(session) as (sql, captured):
        now = dt.datetime.now(dt.UTC)
        sql.earlier(1, [b"k" * 16], now - dt.timedelta(days=1), now)
        sql.stored(1, "d:gate-1", ["a", "b"])
        sql.people_by_qid(["1" * 18])
    assert "ix_scan_events_person_key_occurred_at" in captured[0]
    assert "sqlite_autoindex_scan_keys_1 (venue_id=? AND key_scope=? AND idempotency_key=?)" in captured[1]
    assert "(qid=?)" in captured[2]
