"""EU vaccine passports (HC1) in a look-up and at the door: no QID, the minimal display, the same rules' colour."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.access.access_helpers import set_clock, with_settings
from tests.dcc_factory import T0, Code, lab_test, make_signer

NOW = T0 + dt.timedelta(days=30)  # 2022-05-01: the certificates' world


@pytest.fixture
def signer(ctx, monkeypatch):
    """A trusted signer, and the services' clock in 2022 once the test starts (after its fixtures,
    which sign venue codes with an issuing key that is valid only now)."""
    signer = make_signer()
    with_settings(monkeypatch, ctx, dcc_trust=(signer.der,))
    return signer


def back_to_2022(ctx, monkeypatch) -> None:
    set_clock(monkeypatch, ctx, NOW)


def test_an_official_sees_the_minimal_display_and_the_colour(signer, make_user, ctx, monkeypatch):
    back_to_2022(ctx, monkeypatch)
    found = make_user("health_official").lookup(Code(signer).build(), "checkpoint")
    assert (found["qid"], found["view"], found["verification"]) == (None, "full", "valid")
    assert found["health_status"]["colour"] == "green"
    assert found["health_status"]["valid_until"] == "2023-04-02T07:00:00+07:00", "never past its own expiry"
    assert found["display"]["name_standardised"] == "NGUYEN<<VAN<AN" and found["display"]["dose"] == "2/2"


def test_the_door_sees_the_masked_name_and_the_colour(world, signer, ctx, monkeypatch):
    back_to_2022(ctx, monkeypatch)
    text = Code(signer).build()
    found = world.staff.lookup(text, "venue_entry")
    assert set(found) == {"qid", "view", "verification", "health_status", "name_masked", "certificate_type"}
    assert (found["name_masked"], found["certificate_type"]) == ("N***** V** AN", "vaccination")
    assert found["health_status"]["colour"] == "green" and "1990" not in json.dumps(found)
    scanned = world.staff.scan(world.id, text)
    assert (scanned["code_kind"], scanned["verification"], scanned["colour"]) == ("eu_dcc", "valid", "green")
    assert scanned["visitor"]["name"] == "N***** V** AN"


def test_a_negative_pcr_is_yellow_like_an_officials_record(world, signer, ctx, monkeypatch):
    back_to_2022(ctx, monkeypatch)
    text = Code(signer, certificate=lab_test(sc="2022-04-29T08:00:00Z")).build()
    assert world.staff.lookup(text, "venue_entry")["health_status"]["colour"] == "yellow"


def test_a_passport_that_does_not_verify_earns_nothing(
    signer, world, make_user, make_platform, ctx, monkeypatch
):
    back_to_2022(ctx, monkeypatch)
    tampered = Code(signer, tamper=True).build()
    found = world.staff.lookup(tampered, "venue_entry")
    assert set(found) == {"qid", "view", "verification", "health_status"}
    assert found["verification"] == "signature" and found["health_status"]["colour"] == "neutral"
    assert world.staff.scan(world.id, tampered)["colour"] == "red"
    rubbish = world.staff.raw("POST", f"/venues/{world.id}/scans", json={"text": "HC1:6BFOXN*TS0BI$ZD4N9"})
    assert rubbish.status_code == 422 and rubbish.json()["errors"][0]["reason"].startswith("malformed")
    set_clock(monkeypatch, ctx, T0 + dt.timedelta(days=400))
    expired = make_user("health_official").lookup(Code(signer).build(), "checkpoint")
    assert expired["verification"] == "expiration" and expired["health_status"]["colour"] == "neutral"
    platform = make_platform("App")
    assert (
        platform.raw("POST", "/lookups", json={"text": Code(signer).build(), "purpose": "other"}).status_code
        == 404
    )
