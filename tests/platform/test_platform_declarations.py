"""Health and movement declarations: by the person, for a household member, by the platform; rejections."""

from __future__ import annotations

import datetime as dt

import pytest
from platform_helpers import person_body

TODAY = dt.date.today()
HEALTH = {
    "nationality": "VNM",
    "address": {"province": "Hà Nội", "district": "Hoàn Kiếm", "ward": "Hàng Bạc", "street": "1 Hàng Bạc"},
    "phone": "+84 944 713 700",
    "email": "han@example.vn",
    "places_visited": ["Đà Nẵng", "Huế"],
    "symptoms": {"fever": True, "cough": False},
    "contacts": {"person_with_symptoms": True},
}
MOVE = {
    "origin": {"province": "Hồ Chí Minh", "district": "Quận 1"},
    "destination": {"province": "Đà Nẵng", "district": "Hải Châu"},
    "transport": "plane",
    "vehicle_number": "VN123",
    "departure_date": TODAY.isoformat(),
    "arrival_date": (TODAY + dt.timedelta(days=1)).isoformat(),
}


@pytest.fixture
def family(make_platform, make_user):
    platform = make_platform()
    head = platform.register(**person_body())
    child = platform.register(
        **person_body(full_name="Nguyen Han Bao", birth_date="2015-06-01", proxy_qid=head["qid"])
    )
    stranger = platform.register(**person_body(full_name="Tran Van Binh"))
    return {
        "platform": platform,
        "head": head["qid"],
        "child": child["qid"],
        "stranger": stranger["qid"],
        "citizen": make_user("citizen", qid=head["qid"]),
        "child_citizen": make_user("citizen", qid=child["qid"]),
    }


def test_a_person_declares_for_themselves_and_lists_them(family):
    citizen = family["citizen"]
    created = citizen.declare_health(family["head"], HEALTH)
    assert created["kind"] == "health" and created["on_behalf"] is False
    assert created["body"]["phone"] == "0944713700"
    moved = citizen.declare_movement(family["head"], MOVE)
    listed = citizen.declarations(family["head"])
    assert [d["declaration_id"] for d in listed] == [moved["declaration_id"], created["declaration_id"]]
    assert citizen.declarations(family["head"], kind="health")[0]["body"]["symptoms"]["fever"] is True


def test_household_member_declares_on_behalf_and_both_see_it(family):
    made = family["citizen"].declare_health(family["child"], HEALTH)
    assert made["on_behalf"] is True
    assert [d["declaration_id"] for d in family["child_citizen"].declarations(family["child"])] == [
        made["declaration_id"]
    ]
    assert family["platform"].declarations(family["child"])[0]["declaration_id"] == made["declaration_id"]


def test_outside_the_household_is_404(family):
    citizen = family["citizen"]
    response = citizen.raw("POST", f"/people/{family['stranger']}/health-declarations", json=HEALTH)
    assert response.status_code == 404
    assert citizen.raw("GET", f"/people/{family['stranger']}/declarations").status_code == 404


def test_declarations_are_stored_encrypted(family, ctx):
    family["citizen"].declare_health(family["head"], HEALTH)
    from sqlalchemy import select

    from unifiedqr.store.models import Declaration

    with ctx.db.read() as session:
        blob = session.scalars(select(Declaration.body_enc)).one()
    assert b"Hoan" not in blob and "Hoàn".encode() not in blob and b"0944713700" not in blob


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("health", {**HEALTH, "address": {"province": "Hà Nội"}}, "address.district"),
        ("health", {**HEALTH, "nationality": "vn"}, "nationality"),
        ("health", {**HEALTH, "email": "not-an-email"}, "email"),
        ("health", {**HEALTH, "phone": "12"}, "phone"),
        ("health", {**HEALTH, "symptoms": {"fever": "yes"}}, "symptoms.fever"),
        ("health", {**HEALTH, "symptoms": {"sneezing": True}}, "symptoms.sneezing"),
        ("health", {**HEALTH, "places_visited": ["x"] * 51}, "places_visited"),
        ("health", {**HEALTH, "places_visited": [" "]}, "places_visited"),
        ("health", {}, "address"),
        ("movement", {**MOVE, "transport": "teleport"}, "transport"),
        ("movement", {**MOVE, "departure_date": "2021-02-30"}, "departure_date"),
        ("movement", {**MOVE, "arrival_date": (TODAY - dt.timedelta(days=1)).isoformat()}, "arrival_date"),
        (
            "movement",
            {**MOVE, "departure_date": "2000-01-01", "arrival_date": "2000-01-02"},
            "departure_date",
        ),
        (
            "movement",
            {
                **MOVE,
                "departure_date": (TODAY + dt.timedelta(days=90)).isoformat(),
                "arrival_date": (TODAY + dt.timedelta(days=91)).isoformat(),
            },
            "departure_date",
        ),
        ("movement", {key: value for key, value in MOVE.items() if key != "origin"}, "origin"),
    ],
)
def test_invalid_declarations_are_422_naming_the_field(family, path, body, field):
    response = family["citizen"].raw("POST", f"/people/{family['head']}/{path}-declarations", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field


def test_listing_rejects_an_unknown_kind(family):
    response = family["citizen"].raw("GET", f"/people/{family['head']}/declarations", params={"kind": "x"})
    assert response.status_code == 422 and response.json()["field"] == "kind"
