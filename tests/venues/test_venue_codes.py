"""Venue registration, the signed code (online and offline), the poster, withdrawal and the check-in page."""

from __future__ import annotations

import datetime as dt

from unifiedqr.codes.classify import classify
from unifiedqr.codes.signing import Status
from unifiedqr.codes.trust import TrustList
from unifiedqr.codes.venue import MAX_VENUE_URL, parse_venue_url, sign_venue, verify_venue
from unifiedqr.imaging import decode_image


def offline(code: str, trust: dict) -> Status:
    """What an app verifying the poster offline says (a moment from now, like a phone would)."""
    return verify_venue(
        code, TrustList.from_json(trust), dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    ).status


def test_registered_venue_code_is_short_classified_and_verifies_offline(world, anon):
    code = world.code
    assert code.startswith("https://") and len(code) <= MAX_VENUE_URL
    assert classify(code).kind == "venue"
    assert parse_venue_url(code).venue_id == world.id
    assert offline(code, anon.trust_list()) is Status.VALID
    altered = code[:-5] + ("A" if code[-5] != "A" else "B") + code[-4:]
    assert offline(altered, anon.trust_list()) is not Status.VALID
    other_id = code.replace(world.id, world.id[::-1])
    assert offline(other_id, anon.trust_list()) is Status.BAD_SIGNATURE


def test_venue_ids_are_random_not_sequential(make_venue):
    ids = [make_venue().id for _ in range(3)]
    assert len(set(ids)) == 3
    assert all(len(i) == 11 and not i.isdigit() for i in ids)


def test_owner_sees_venue_with_entrances_and_staff(world):
    venue = world.owner.venue(world.id)
    assert venue["name"] == "Quán Phở Hàng Bạc" and venue["type"] == "restaurant"
    assert [e["name"] for e in venue["entrances"]] == ["front", "back"]
    assert venue["address"]["commune"] == "Hàng Bạc"
    assert [s["name"] for s in world.owner.venue_staff(world.id)] == ["Nhân viên"]
    added = world.owner.add_entrance(world.id, "side gate")
    assert added["entrance_id"] in {e["entrance_id"] for e in world.owner.venue(world.id)["entrances"]}
    assert [v["venue_id"] for v in world.staff.venues()] == [world.id]


def test_owner_phone_is_stored_encrypted(world, ctx):
    from sqlalchemy import select

    from unifiedqr.store.venue_models import Venue

    with ctx.db.read() as session:
        row = session.scalars(select(Venue)).one()
    assert b"0912345678" not in row.owner_phone_enc
    assert ctx.vault.decrypt("venues.owner_phone", row.owner_phone_enc) == "0912345678"


def test_poster_pdf_and_png_carry_the_code(world):
    pdf = world.owner.venue_poster(world.id, "pdf")
    assert pdf.startswith(b"%PDF")
    png = world.owner.venue_poster(world.id, "png")
    assert [d.text for d in decode_image(png)] == [world.code]


def test_withdrawn_poster_is_refused_online_and_offline(world, anon, person):
    old = world.code
    withdrawn = world.owner.withdraw_venue_code(world.id)
    new = withdrawn["code"]
    assert new != old and parse_venue_url(new).venue_id == world.id
    trust = anon.trust_list()
    assert withdrawn["withdrawn_revocation_id"] in trust["revoked_codes"]
    assert offline(old, trust) is Status.CODE_REVOKED
    assert offline(new, trust) is Status.VALID
    someone = person()
    response = someone["platform"].raw("POST", "/checkins", json={"venue_code": old, "qid": someone["qid"]})
    assert response.status_code == 422
    assert response.json()["errors"][0]["reason"].startswith("code_revoked")
    assert someone["platform"].checkin(new, someone["qid"])["direction"] == "in"


def test_forged_and_unknown_venue_codes_are_named(world, person, ctx):
    someone = person()
    platform = someone["platform"]
    key = ctx.keys.current(ctx.now())
    base = world.code.split("/v/")[0]
    unknown = sign_venue(base, "NoSuchVenue", key, ctx.now()).url
    body = world.code[:-3] + ("x" if world.code[-3] != "x" else "y") + world.code[-2:]
    cases = {unknown: "unknown_venue", body: "bad_signature", "https://example.org/x": "malformed"}
    for code, reason in cases.items():
        response = platform.raw("POST", "/checkins", json={"venue_code": code, "qid": someone["qid"]})
        assert response.status_code == 422, code
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["errors"][0]["reason"].startswith(reason), (code, response.json())


def test_check_in_page_at_the_code_url(world, anon):
    path = "/" + world.code.split("/", 3)[3]
    page = anon._http.get(path)
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "Quán Phở Hàng Bạc" in page.text and 'name="code"' in page.text
    done = anon._http.post(path, data={"phone": "0987654321"})
    assert done.status_code == 201 and "Recorded" in done.text
    assert "098****321" not in done.text and "Checked" not in done.text, "issue 10 #6: no oracle"
    again = anon._http.post(path, data={"phone": "0987654321", "code": ""})
    assert again.status_code == 201 and "Recorded" in again.text
    forged = anon._http.get(path[:-2] + ("AA" if path[-2:] != "AA" else "BB"))
    assert forged.status_code == 422 and "bad_signature" in forged.text
    world.owner.withdraw_venue_code(world.id)
    assert "code_revoked" in anon._http.get(path).text
    assert anon._http.get("/v/NoSuchVenue/" + path.rsplit("/", 1)[1]).status_code == 404
