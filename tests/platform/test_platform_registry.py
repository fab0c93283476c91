"""Registration and issuance through the real HTTP app, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from platform_helpers import new_document, person_body, sent_code
from sqlalchemy import select

from unifiedqr.codes.payload import parse
from unifiedqr.codes.signing import Status, verify_payload
from unifiedqr.codes.trust import TrustList
from unifiedqr.store.models import AuditEvent, PersonPlatform


def verify(payload: str, trust: dict) -> Status:
    return verify_payload(payload, TrustList.from_json(trust), dt.datetime.now(dt.UTC)).status


def test_register_returns_201_and_a_code_that_verifies_with_the_published_trust_list(make_platform, anon):
    platform = make_platform("A")
    response = platform.raw("POST", "/people", json=person_body(document_number="001093029317"))
    assert response.status_code == 201
    body = response.json()
    assert body["created"] is True
    assert re.fullmatch(r"[1-9]\d{17}", body["qid"])
    code = parse(body["payload"])
    assert (code.document_number, code.full_name, code.birth_date) == (
        "001093029317",
        "NGUYEN LE KHA HAN",
        "1987-01-18",
    )
    assert code.qid == body["qid"] and code.signed
    assert verify(body["payload"], anon.trust_list()) is Status.VALID


def test_second_platform_gets_the_same_qid_and_identical_code_text_after_consent(make_platform, ctx):
    """Issue 10 #1 changed this: the second platform asks the holder (202) before it gets the code."""
    a, b = make_platform("A"), make_platform("B")
    doc = new_document()
    first = a.raw("POST", "/people", json=person_body(document_number=doc, phone="0944713700"))
    second = b.raw("POST", "/people", json=person_body(document_number=doc, full_name="NGUYEN  le kha han"))
    again = a.raw("POST", "/people", json=person_body(document_number=doc))
    assert first.status_code == 201 and again.status_code == 200
    assert second.status_code == 202 and second.json()["consent"] == "required"
    assert again.json()["payload"] == first.json()["payload"]
    done = b.raw(
        "POST", f"/consents/{second.json()['consent_id']}", json={"otp": sent_code(ctx, "0944713700")}
    )
    assert done.status_code == 200
    assert done.json() == {"qid": first.json()["qid"], "payload": first.json()["payload"], "created": False}
    assert b.raw("POST", "/people", json=person_body(document_number=doc)).status_code == 200
    with ctx.db.read() as session:
        links = session.scalars(select(PersonPlatform)).all()
    assert len(links) == 2, "every platform that obtained the code is recorded, once"


@pytest.mark.parametrize(
    "change", [{"birth_date": "1987-01-19"}, {"full_name": "Nguyễn Lê Kha"}, {"full_name": "Tran Van B"}]
)
def test_mismatch_is_409_and_reveals_nothing(make_platform, change):
    """In the platform's own scope (outside it the answer is 202 whatever is sent: test_consents.py)."""
    a = make_platform("A")
    doc = new_document()
    first = a.register(**person_body(document_number=doc))
    response = a.raw("POST", "/people", json=person_body(document_number=doc, **change))
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    text = response.text
    for secret in (first["qid"], "NGUYEN", "1987-01-18", "KHA", first["payload"][-20:]):
        assert secret not in text


def test_qids_are_unique_random_and_not_sequential(make_platform):
    platform = make_platform()
    qids = [int(platform.register(**person_body())["qid"]) for _ in range(30)]
    assert len(set(qids)) == 30
    gaps = {abs(b - a) for a, b in itertools.pairwise(qids)}
    assert min(gaps) > 1000, "neighbouring registrations must not get neighbouring QIDs"


def test_cmnd_then_cccd_keeps_the_qid_and_reissues_with_the_card_number(make_platform, anon):
    """The same platform (another one first asks the holder: test_consents.py)."""
    a = make_platform("A")
    old = a.register(document_number="123456789", full_name="Trần Văn Bình", birth_date="1990-02-03")
    new = a.raw(
        "POST",
        "/people",
        json={
            "document_number": "012345678901",
            "old_document_number": "123456789",
            "full_name": "Tran Van Binh",
            "birth_date": "1990-02-03",
        },
    )
    assert new.status_code == 200
    assert new.json()["qid"] == old["qid"]
    assert parse(new.json()["payload"]).document_number == "012345678901"
    trust = anon.trust_list()
    assert verify(new.json()["payload"], trust) is Status.VALID
    assert verify(old["payload"], trust) is Status.CODE_REVOKED
    # either number now finds the same person
    by_cmnd = a.raw(
        "POST",
        "/people",
        json={"document_number": "123456789", "full_name": "Tran Van Binh", "birth_date": "1990-02-03"},
    )
    assert by_cmnd.status_code == 200 and by_cmnd.json()["payload"] == new.json()["payload"]


def test_registration_from_the_chip_card_qr_links_both_numbers(make_platform):
    a = make_platform("A")
    card = "012345678902|123456780|Lê Thị Mai|09031950|Nữ|1 Hàng Bạc, Hà Nội|01012021"
    first = a.raw("POST", "/people/from-cccd", json={"cccd_qr": card, "phone": "0912345678"})
    assert first.status_code == 201
    code = parse(first.json()["payload"])
    assert (code.document_number, code.full_name, code.gender.label) == (
        "012345678902",
        "LE THI MAI",
        "female",
    )
    by_cmnd = a.raw(
        "POST",
        "/people",
        json={"document_number": "123456780", "full_name": "Le Thi Mai", "birth_date": "1950-03-09"},
    )
    assert by_cmnd.status_code == 200 and by_cmnd.json()["qid"] == first.json()["qid"]
    bad = a.raw("POST", "/people/from-cccd", json={"cccd_qr": "012345678902|x|Le|99999999|Nam|a|"})
    assert bad.status_code == 422 and bad.json()["field"].startswith("cccd_qr.")


def test_passports_are_keyed_by_nationality_and_number(make_platform):
    platform = make_platform()
    gb = platform.raw(
        "POST",
        "/people",
        json=person_body(document_number="C1234567", full_name="John Smith", nationality="GBR"),
    )
    us = platform.raw(
        "POST",
        "/people",
        json=person_body(document_number="C1234567", full_name="John Smith", nationality="USA"),
    )
    assert gb.status_code == 201 and us.status_code == 201
    assert gb.json()["qid"] != us.json()["qid"]
    bad = platform.raw("POST", "/people", json=person_body(document_number="C1234567", nationality="G1"))
    assert bad.status_code == 422 and bad.json()["field"] == "nationality"


def test_proxy_registration_builds_a_household(make_platform, make_user):
    platform = make_platform()
    head = platform.register(**person_body())
    child = platform.register(
        **person_body(full_name="Nguyễn Hân Bảo", birth_date="2015-06-01", proxy_qid=head["qid"])
    )
    elder = platform.register(
        **person_body(full_name="Lê Thị Mai", birth_date="1950-03-09", proxy_qid=head["qid"])
    )
    code = parse(child["payload"])
    assert code.declarer == "1" and code.proxy_qid == head["qid"]
    record = platform.person(child["qid"])
    assert record["household_id"] and record["household_id"] == platform.person(elder["qid"])["household_id"]
    citizen = make_user("citizen", qid=head["qid"])
    members = {p["qid"] for p in citizen.household()}
    assert members == {head["qid"], child["qid"], elder["qid"]}


def test_proxy_qid_outside_the_scope_needs_the_declarers_consent(make_platform):
    """Issue 10 #1: a declarer outside the platform's scope is 202 (was 404), and so is a QID that
    names no one, so the answer does not tell whether the QID exists; nobody is created."""
    a, b = make_platform("A"), make_platform("B")
    head = a.register(**person_body())
    known = b.raw("POST", "/people", json=person_body(proxy_qid=head["qid"]))
    nobody = b.raw("POST", "/people", json=person_body(proxy_qid="123456789012345678"))
    for response in (known, nobody):
        assert response.status_code == 202 and set(response.json()) == {"consent", "consent_id"}
    response = b.raw("POST", "/people", json=person_body(proxy_qid="12345"))
    assert response.status_code == 422 and response.json()["field"] == "proxy_qid"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"document_number": 1234, "full_name": "A B", "birth_date": "1987-01-18"}, "document_number"),
        ({"full_name": "A B", "birth_date": "1987-01-18"}, "document_number"),
        ({"document_number": "001093029317", "birth_date": "1987-01-18"}, "full_name"),
        ({"document_number": "001093029317", "full_name": "A B"}, "birth_date"),
        (person_body(birth_date="1987-02-30"), "birth_date"),
        (person_body(birth_date="18/01/1987"), "birth_date"),
        (person_body(birth_date="2999-01-01"), "birth_date"),
        (person_body(birth_date="1850-01-01"), "birth_date"),
        (person_body(birth_date=19870118), "birth_date"),
        (person_body(document_number="12345"), "document_number"),
        (person_body(document_number="0010930293171"), "document_number"),
        (person_body(document_number="00109302931|"), "document_number"),
        (person_body(document_number="٠٠١٠٩٣٠٢٩٣١٧"), "document_number"),
        (person_body(document_number="００１０９３０２９３１７"), "document_number"),
        (
            person_body(document_number="001093029317", old_document_number="１２３４５６７８９"),
            "old_document_number",
        ),
        (person_body(full_name="Nguyen 123"), "full_name"),
        (person_body(full_name="   "), "full_name"),
        (person_body(full_name="A" * 300), "full_name"),
        (person_body(gender="man"), "gender"),
        (person_body(phone="12345"), "phone"),
        (person_body(insurance_number="XX1"), "insurance_number"),
        (person_body(proxy_qid="abc"), "proxy_qid"),
        (person_body(old_document_number="123456789", document_number="123456780"), "old_document_number"),
        ([1, 2, 3], "body"),
    ],
)
def test_invalid_registrations_are_422_problem_details_naming_the_field(make_platform, body, field):
    response = make_platform().raw("POST", "/people", json=body)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and problem["field"] == field
    assert problem["errors"][0]["reason"]


def test_malformed_and_oversized_bodies(make_platform):
    platform = make_platform()
    headers = {"content-type": "application/json"}
    bad_json = platform.raw("POST", "/people", content=b'{"document_number": ', headers=headers)
    assert bad_json.status_code == 422 and bad_json.json()["field"] == "body"
    huge = platform.raw("POST", "/people", content=b'{"x": "' + b"a" * 200_000 + b'"}', headers=headers)
    assert huge.status_code == 413 and huge.json()["field"] == "body"

    def chunks():
        for _ in range(100):
            yield b"a" * 1000

    streamed = platform.raw("POST", "/people", content=chunks(), headers=headers)
    assert streamed.status_code == 413
    binary = platform.raw("POST", "/people", content=bytes(range(256)), headers=headers)
    assert binary.status_code == 422


def test_code_in_every_form(make_platform):
    platform = make_platform()
    issued = platform.register(**person_body(phone="0944713700", insurance_number="HS4010120878821"))
    qid = issued["qid"]
    assert platform.code(qid) == issued["payload"]
    text = platform.raw("GET", f"/people/{qid}/code", params={"format": "text"})
    assert text.status_code == 200 and text.text == issued["payload"]
    masked = parse(platform.code(qid, masked=True))
    assert masked.document_masked and masked.birth_date_masked and masked.phone is None
    assert masked.insurance_number is None and masked.qid == qid
    png = platform.code_image(qid, "png")
    assert png.startswith(b"\x89PNG")
    svg = platform.code_image(qid, "svg")
    assert b"<svg" in svg
    card = platform.code_image(qid, "card")
    assert card.startswith(b"\x89PNG")
    bad = platform.raw("GET", f"/people/{qid}/code", params={"format": "gif"})
    assert bad.status_code == 422 and bad.json()["field"] == "format"


def test_scanning_the_rendered_code_gives_back_the_text(make_platform):
    imaging = pytest.importorskip("unifiedqr.imaging")
    if not hasattr(imaging, "decode_image") and not hasattr(imaging, "scan_bytes"):
        pytest.skip("the imaging package has no decoder facade")
    platform = make_platform()
    issued = platform.register(**person_body())
    png = platform.code_image(issued["qid"], "png")
    decode = getattr(imaging, "decode_image", None) or imaging.scan_bytes
    results = decode(png)
    texts = [getattr(r, "text", r) for r in (results if isinstance(results, list) else [results])]
    assert issued["payload"] in texts


def test_unknown_person_and_wrong_qid_shapes_are_404(make_platform):
    platform = make_platform()
    for qid in ("123456789012345678", "abc", "1" * 40):
        assert platform.raw("GET", f"/people/{qid}").status_code == 404
        assert platform.raw("GET", f"/people/{qid}/code").status_code == 404


def test_correction_keeps_the_qid_resigns_and_revokes_the_old_code(make_platform, anon):
    a, b = make_platform("A"), make_platform("B")
    issued = a.register(**person_body(full_name="Nguyen Le Kha Han", phone="0944713700"))
    fixed = a.raw(
        "PATCH",
        f"/people/{issued['qid']}",
        json={"full_name": "Nguyễn Lê Khả Hàn", "birth_date": "1987-01-17"},
    )
    assert fixed.status_code == 200
    new = fixed.json()
    assert new["qid"] == issued["qid"] and new["payload"] != issued["payload"]
    code = parse(new["payload"])
    assert (code.full_name, code.birth_date, code.phone) == ("NGUYEN LE KHA HAN", "1987-01-17", "0944713700")
    trust = anon.trust_list()
    assert verify(issued["payload"], trust) is Status.CODE_REVOKED
    assert verify(new["payload"], trust) is Status.VALID
    assert a.code(issued["qid"]) == new["payload"]
    # another platform that did not obtain this person cannot correct it or see it
    assert b.raw("PATCH", f"/people/{issued['qid']}", json={"full_name": "X Y"}).status_code == 404
    # rejections
    assert a.raw("PATCH", f"/people/{issued['qid']}", json={}).status_code == 422
    assert (
        a.raw("PATCH", f"/people/{issued['qid']}", json={"birth_date": "1987-13-01"}).json()["field"]
        == "birth_date"
    )
    assert a.raw("PATCH", f"/people/{issued['qid']}", json={"nickname": "x"}).status_code == 422


def test_phone_removed_by_correction(make_platform):
    platform = make_platform()
    issued = platform.register(**person_body(phone="0944713700"))
    fixed = platform.correct(issued["qid"], phone="")
    assert parse(fixed["payload"]).phone is None
    assert platform.person(issued["qid"])["phone"] is None


def test_official_reads_are_audited(make_platform, make_user, ctx):
    platform = make_platform()
    issued = platform.register(**person_body())
    official = make_user("health_official")
    assert official.person(issued["qid"], "treatment")["qid"] == issued["qid"]
    assert official.code(issued["qid"]) == issued["payload"]
    with ctx.db.read() as session:
        events = list(session.scalars(select(AuditEvent).where(AuditEvent.person_id.is_not(None))))
    assert sorted(e.action for e in events) == ["code.read", "person.read"]
    assert {e.role for e in events} == {"health_official"} and all(e.actor for e in events)
