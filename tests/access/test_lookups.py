"""POST /lookups: each role sees exactly its view, colours come only from valid signatures."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.access.access_helpers import PERSONAL_KEYS, days_ago, set_clock, vaccination
from unifiedqr.codes.display import masked_variant
from unifiedqr.codes.payload import parse

FULL = {"qid", "view", "verification", "health_status", *PERSONAL_KEYS}
MASKED = {"qid", "view", "verification", "health_status", "name_masked"}
UNTRUSTED = {"qid", "view", "verification", "health_status"}


@pytest.fixture
def subject(person):
    return person(document_number="001093029317", phone="0944713700", birth_date="1987-01-18")


@pytest.fixture
def official(make_user):
    return make_user("health_official")


def test_official_full_view_by_code_safe_code_and_bare_qid(subject, official):
    platform = subject["platform"]
    safe = platform.code(subject["qid"], masked=True)
    for text, verification in ((subject["payload"], "valid"), (safe, "valid"), (subject["qid"], "none")):
        found = official.lookup(text, "checkpoint")
        assert set(found) == FULL, text
        assert (found["qid"], found["view"], found["verification"]) == (subject["qid"], "full", verification)
        assert found["document_number"] == "001093029317" and found["phone"] == "0944713700"
        assert (found["full_name"], found["birth_date"], found["gender"]) == (
            "NGUYEN LE KHA HAN",
            "1987-01-18",
            "unknown",
        )
        assert found["health_status"] == {
            "colour": "red",
            "reason": "no_qualifying_record",
            "valid_until": None,
        }
        assert found["declarations"] == []


def test_staff_see_the_masked_name_and_the_colour_and_nothing_else(subject, world, official):
    official.add_health_record(subject["qid"], vaccination(days_ago(20)))
    found = world.staff.lookup(subject["payload"], "venue_entry")
    assert set(found) == MASKED
    assert (found["view"], found["verification"], found["name_masked"]) == (
        "masked",
        "valid",
        "N***** L* K** HAN",
    )
    assert (
        found["health_status"]["colour"] == "green" and found["health_status"]["reason"] == "fully_vaccinated"
    )
    body = json.dumps(found)
    for secret in ("001093029317", "0944713700", "1987", "NGUYEN LE KHA HAN", "HS40"):
        assert secret not in body
    assert world.owner.lookup(subject["payload"], "other")["view"] == "masked"


def test_staff_may_not_look_up_a_typed_qid(subject, world):
    response = world.staff.raw("POST", "/lookups", json={"text": subject["qid"], "purpose": "venue_entry"})
    assert response.status_code == 403


@pytest.mark.parametrize("change", ["tamper", "unsigned", "revoked"])
def test_a_code_without_a_valid_signature_gets_its_verification_and_nothing_else(
    subject, world, official, change
):
    official.add_health_record(subject["qid"], vaccination(days_ago(20)))
    payload = subject["payload"]
    if change == "tamper":
        text, verification = payload.replace("NGUYEN LE KHA HAN", "NGUYEN LE KHA HAM"), "bad_signature"
    elif change == "unsigned":
        text, verification = masked_variant(parse(payload)).to_text(), "unsigned"
    else:
        subject["platform"].correct(subject["qid"], gender="female")
        text, verification = payload, "code_revoked"
    found = world.staff.lookup(text, "venue_entry")
    assert set(found) == UNTRUSTED
    assert found["verification"] == verification
    assert found["health_status"] == {"colour": "neutral", "reason": "code_not_verified", "valid_until": None}
    as_official = official.lookup(text, "investigation")
    assert as_official["verification"] == verification and as_official["health_status"]["colour"] == "neutral"


def test_a_platform_sees_only_people_in_its_scope(subject, make_platform):
    platform = subject["platform"]
    assert platform.lookup(subject["qid"], "other")["view"] == "full"
    assert platform.lookup(subject["payload"], "other")["document_number"] == "001093029317"
    stranger = make_platform("Other app")
    outside = stranger.raw("POST", "/lookups", json={"text": subject["qid"], "purpose": "other"})
    nobody = stranger.raw("POST", "/lookups", json={"text": "1" * 18, "purpose": "other"})
    assert outside.status_code == nobody.status_code == 404
    assert outside.json()["errors"] == nobody.json()["errors"], "outside the scope looks like no one"


@pytest.mark.parametrize("purpose", [None, "", "curiosity", 5])
def test_a_missing_or_unknown_purpose_is_422(subject, official, purpose):
    body = {"text": subject["qid"]} if purpose is None else {"text": subject["qid"], "purpose": purpose}
    response = official.raw("POST", "/lookups", json=body)
    assert response.status_code == 422 and response.json()["field"] == "purpose"


def test_no_credentials_is_401_and_rubbish_is_422(anon, official):
    assert anon.raw("POST", "/lookups", json={"text": "x", "purpose": "other"}).status_code == 401
    response = official.raw("POST", "/lookups", json={"text": "hello", "purpose": "other"})
    assert response.status_code == 422 and response.json()["field"] == "text"


def test_declarations_of_the_last_14_days(subject, official, ctx, monkeypatch):
    platform = subject["platform"]
    health = {"address": {"province": "Hà Nội", "district": "Hoàn Kiếm"}}
    made = platform.declare_health(subject["qid"], health)
    listed = official.lookup(subject["qid"], "treatment")["declarations"]
    assert [d["declaration_id"] for d in listed] == [made["declaration_id"]]
    set_clock(monkeypatch, ctx, dt.datetime.now(dt.UTC) + dt.timedelta(days=14, seconds=1))
    assert official.lookup(subject["qid"], "treatment")["declarations"] == []


def test_lookups_are_rate_limited_per_account(subject, official, ctx, monkeypatch):
    from dataclasses import replace

    from unifiedqr.config import Rate

    limits = replace(ctx.settings.limits, lookup=Rate(3, 60))
    monkeypatch.setattr(ctx, "settings", replace(ctx.settings, limits=limits))
    for _ in range(3):
        official.lookup(subject["qid"], "other")
    response = official.raw("POST", "/lookups", json={"text": subject["qid"], "purpose": "other"})
    assert response.status_code == 429 and int(response.headers["Retry-After"]) >= 1
