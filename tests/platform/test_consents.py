"""Holder consent across platforms (issue 10 #1): the fixed contract, end to end through the API.

Finding: a platform that knew a document number and a name could guess the birth date through
``POST /people`` (about 900 tries a second) and receive the full signed code, then read and change
the person's record; 409 against 200 told whether it had guessed right. Every test here failed on
that behaviour (the second platform got 200 or 409, never 202).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from platform_helpers import new_document, person_body, sent_code
from sqlalchemy import func, select
from tests import matrix
from tests.matrix import Row

from unifiedqr.store.consent_models import Consent, OutboxMessage
from unifiedqr.store.models import AuditEvent, PersonDocument, PersonPlatform

PHONE = "0944713700"


def ask(platform: Any, **fields: Any) -> dict[str, Any]:
    response = platform.raw("POST", "/people", json=person_body(**fields))
    assert response.status_code == 202, response.text
    body = response.json()
    assert set(body) == {"consent", "consent_id"} and body["consent"] == "required"
    return dict(body)


@pytest.fixture
def holder(make_platform: Any) -> dict[str, Any]:
    """Someone registered by platform A, with a phone on file; platform B has never seen them."""
    a, b = make_platform("Bluezone"), make_platform("PC-Covid")
    doc = new_document()
    issued = a.register(**person_body(document_number=doc, phone=PHONE))
    return {"a": a, "b": b, "doc": doc, **issued}


def links(ctx: Any) -> int:
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(PersonPlatform)) or 0)


def test_outside_the_scope_is_202_whatever_name_and_birth_date_and_nothing_is_linked(ctx, holder):
    """Issue 10 #1: 202 for the right and for wrong name or birth date alike; no link, no re-issue."""
    b, doc = holder["b"], holder["doc"]
    right = b.raw("POST", "/people", json=person_body(document_number=doc))
    wrong_birth = b.raw("POST", "/people", json=person_body(document_number=doc, birth_date="1987-01-19"))
    wrong_name = b.raw("POST", "/people", json=person_body(document_number=doc, full_name="Tran Van B"))
    for response in (right, wrong_birth, wrong_name):
        assert response.status_code == 202
        assert set(response.json()) == {"consent", "consent_id"}
        for secret in (holder["qid"], "NGUYEN", "1987-01-18", holder["payload"][-20:]):
            assert secret not in response.text
    assert links(ctx) == 1, "nothing linked before the holder consents"
    assert b.raw("GET", f"/people/{holder['qid']}").status_code == 404
    assert holder["a"].code(holder["qid"]) == holder["payload"], "nothing re-issued"


def test_the_code_from_the_outbox_completes_the_request(ctx, holder):
    b = holder["b"]
    asked = ask(b, document_number=holder["doc"])
    status = b.raw("GET", f"/consents/{asked['consent_id']}")
    assert status.status_code == 200 and status.json() == {"status": "pending"}
    done = b.raw("POST", f"/consents/{asked['consent_id']}", json={"otp": sent_code(ctx, PHONE)})
    assert done.status_code == 200
    assert done.json() == {"qid": holder["qid"], "payload": holder["payload"], "created": False}
    assert b.raw("GET", f"/consents/{asked['consent_id']}").json() == {"status": "approved"}
    assert b.person(holder["qid"])["qid"] == holder["qid"], "now in B's scope"
    assert links(ctx) == 2
    again = b.raw("POST", "/people", json=person_body(document_number=holder["doc"]))
    assert again.status_code == 200, "in scope now: today's answers"
    mismatch = b.raw(
        "POST", "/people", json=person_body(document_number=holder["doc"], birth_date="1990-01-01")
    )
    assert mismatch.status_code == 409


def test_the_message_names_the_asking_platform_and_goes_to_the_phone_on_file(ctx, holder):
    ask(holder["b"], document_number=holder["doc"])
    from tests.support import OPERATOR

    from unifiedqr.services import sms

    messages = sms.outbox(ctx, OPERATOR)
    assert [m.to for m in messages] == [PHONE]
    assert "PC-Covid" in messages[0].text


def test_a_pending_request_is_reused_so_retries_send_no_new_message(ctx, holder):
    first = ask(holder["b"], document_number=holder["doc"])
    second = ask(holder["b"], document_number=holder["doc"], full_name="Someone Else")
    assert first == second
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 1


def test_wrong_codes_are_422_and_the_fifth_voids_the_request(ctx, holder):
    b = holder["b"]
    asked = ask(b, document_number=holder["doc"])
    right = sent_code(ctx, PHONE)
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for _ in range(5):
        response = b.raw("POST", f"/consents/{asked['consent_id']}", json={"otp": wrong})
        assert response.status_code == 422 and response.json()["field"] == "otp"
    gone = b.raw("POST", f"/consents/{asked['consent_id']}", json={"otp": right})
    assert gone.status_code == 410
    assert b.raw("GET", f"/consents/{asked['consent_id']}").json() == {"status": "voided"}
    assert links(ctx) == 1
    fresh = ask(b, document_number=holder["doc"])
    assert fresh["consent_id"] != asked["consent_id"], "a voided request is not reused"


def test_a_request_expires_after_ten_minutes(ctx, holder, monkeypatch):
    b = holder["b"]
    asked = ask(b, document_number=holder["doc"])
    code = sent_code(ctx, PHONE)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10, seconds=1)
    monkeypatch.setattr(ctx, "now", lambda: later)
    assert b.raw("GET", f"/consents/{asked['consent_id']}").json() == {"status": "expired"}
    assert b.raw("POST", f"/consents/{asked['consent_id']}", json={"otp": code}).status_code == 410
    assert links(ctx) == 1


def test_someone_elses_request_is_404(holder, make_platform):
    asked = ask(holder["b"], document_number=holder["doc"])
    other = make_platform("Other")
    assert other.raw("GET", f"/consents/{asked['consent_id']}").status_code == 404
    assert other.raw("POST", f"/consents/{asked['consent_id']}", json={"otp": "123456"}).status_code == 404
    assert holder["b"].raw("GET", "/consents/cns_nothing").status_code == 404


def test_the_holder_approves_or_refuses_while_signed_in(ctx, make_platform, make_user):
    """The only way for a holder with neither a phone nor a declarer."""
    a, b, c = make_platform("A"), make_platform("B"), make_platform("C")
    doc = new_document()
    issued = a.register(**person_body(document_number=doc))
    holder = make_user("citizen", qid=issued["qid"])
    by_b = ask(b, document_number=doc)
    by_c = ask(c, document_number=doc)
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0, "no phone: no SMS"
    listed = holder.raw("GET", "/me/consents").json()["consents"]
    assert {(x["consent_id"], x["platform"], x["status"]) for x in listed} == {
        (by_b["consent_id"], "B", "pending"),
        (by_c["consent_id"], "C", "pending"),
    }
    approved = holder.raw("POST", f"/me/consents/{by_b['consent_id']}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    refused = holder.raw("POST", f"/me/consents/{by_c['consent_id']}/refuse")
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    assert b.raw("GET", f"/consents/{by_b['consent_id']}").json() == {"status": "approved"}
    assert b.person(issued["qid"])["qid"] == issued["qid"]
    assert c.raw("GET", f"/consents/{by_c['consent_id']}").json() == {"status": "refused"}
    assert c.raw("POST", f"/consents/{by_c['consent_id']}", json={"otp": "123456"}).status_code == 410
    assert c.raw("GET", f"/people/{issued['qid']}").status_code == 404
    twice = holder.raw("POST", f"/me/consents/{by_b['consent_id']}/refuse")
    assert twice.status_code == 409


def test_a_child_without_a_phone_is_asked_through_the_declarers_phone(ctx, make_platform):
    a, b = make_platform("A"), make_platform("B")
    head = a.register(**person_body(phone=PHONE))
    doc = new_document()
    a.register(**person_body(document_number=doc, full_name="Nguyen Han Bao", proxy_qid=head["qid"]))
    ask(b, document_number=doc, full_name="Nguyen Han Bao")
    assert sent_code(ctx, PHONE)


def test_every_path_to_an_existing_person_asks(ctx, make_platform):
    """POST /people, /people/from-cccd, a CMND to CCCD upgrade and a proxy_qid outside the scope."""
    a, b = make_platform("A"), make_platform("B")
    card = "012345678902|123456780|Lê Thị Mai|09031950|Nữ|1 Hàng Bạc, Hà Nội|01012021"
    first = a.raw("POST", "/people/from-cccd", json={"cccd_qr": card, "phone": PHONE})
    assert first.status_code == 201
    by_card = b.raw("POST", "/people/from-cccd", json={"cccd_qr": card})
    assert by_card.status_code == 202 and by_card.json()["consent"] == "required"
    old = a.register(document_number="123456781", full_name="Trần Văn Bình", birth_date="1990-02-03")
    upgrade = {
        "document_number": "012345678903",
        "old_document_number": "123456781",
        "full_name": "Tran Van Binh",
        "birth_date": "1990-02-03",
    }
    upgraded = b.raw("POST", "/people", json=upgrade)
    assert upgraded.status_code == 202
    assert a.code(old["qid"]) == old["payload"], "nothing re-issued before consent"
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PersonDocument)) == 3, "no CCCD attached yet"
    proxied = b.raw("POST", "/people", json=person_body(proxy_qid=first.json()["qid"]))
    assert proxied.status_code == 202
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(PersonDocument)) == 3, "nobody created"


def test_an_approved_upgrade_attaches_the_cccd_and_reissues_the_code(ctx, make_platform, make_user):
    a, b = make_platform("A"), make_platform("B")
    old = a.register(document_number="123456782", full_name="Trần Văn Bình", birth_date="1990-02-03")
    holder = make_user("citizen", qid=old["qid"])
    asked = b.raw(
        "POST",
        "/people",
        json={
            "document_number": "012345678904",
            "old_document_number": "123456782",
            "full_name": "Tran Van Binh",
            "birth_date": "1990-02-03",
        },
    ).json()
    holder.raw("POST", f"/me/consents/{asked['consent_id']}/approve")
    assert b.code(old["qid"]).startswith("012345678904|"), "the code now carries the card number"


def test_requests_and_decisions_are_audited_for_the_holder(ctx, holder):
    b = holder["b"]
    asked = ask(b, document_number=holder["doc"])
    b.raw("POST", f"/consents/{asked['consent_id']}", json={"otp": sent_code(ctx, PHONE)})
    with ctx.db.read() as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.purpose == "consent")).all()
    assert [r.action for r in rows] == ["consent.requested", "consent.approved"]
    assert len({r.person_id for r in rows}) == 1 and rows[0].person_id is not None
    assert all(r.role == "platform" and r.actor == "PC-Covid" for r in rows)


def test_codes_are_stored_hashed_and_messages_encrypted(ctx, holder):
    ask(holder["b"], document_number=holder["doc"])
    code = sent_code(ctx, PHONE)
    with ctx.db.read_engine.connect() as connection:
        for table in (Consent.__table__, OutboxMessage.__table__):
            for row in connection.execute(select(table)):
                for value in row:
                    blob = value if isinstance(value, bytes) else str(value).encode()
                    assert code.encode() not in blob and PHONE.encode() not in blob, table.name


def test_more_than_ten_registrations_of_one_document_by_one_platform_is_429(ctx, holder, caplog):
    """Issue 10 #1: the 11th attempt within the hour is 429 with Retry-After; a security event."""
    b = holder["b"]
    for _ in range(10):
        assert b.raw("POST", "/people", json=person_body(document_number=holder["doc"])).status_code == 202
    with caplog.at_level(logging.WARNING, logger="unifiedqr.security"):
        refused = b.raw("POST", "/people", json=person_body(document_number=holder["doc"]))
    assert refused.status_code == 429
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert any("registration" in r.getMessage() for r in caplog.records)
    assert (
        holder["a"].raw("POST", "/people", json=person_body(document_number=holder["doc"])).status_code == 200
    )


def test_end_to_end_through_the_cli_outbox(tmp_path):
    """The contract's command: ``unifiedqr admin outbox --database-url URL --json``."""
    from tests.support import open_test_services

    url = f"sqlite:///{tmp_path / 'consent.sqlite'}"
    ctx = open_test_services(url, tmp_path / "secrets")
    try:
        from tests.support import OPERATOR

        from unifiedqr.services import accounts, consents, registry

        a = ctx.authenticate("Bearer " + accounts.create_platform(ctx, OPERATOR, "A").api_key)
        b_key = accounts.create_platform(ctx, OPERATOR, "B").api_key
        b = ctx.authenticate("Bearer " + b_key)
        body = registry.Registration(new_document(), "Nguyen Van A", "1990-01-01", phone=PHONE)
        issued = registry.register(ctx, a, body)
        asked = registry.register(ctx, b, body)
        assert isinstance(asked, consents.ConsentRequired)
    finally:
        ctx.close()
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    env["UNIFIEDQR_DATA_DIR"] = str(tmp_path / "secrets")
    out = subprocess.run(
        [sys.executable, "-m", "unifiedqr", "admin", "outbox", "--database-url", url, "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    messages = json.loads(out)
    assert [set(m) for m in messages] == [{"to", "text", "created_at"}]
    assert messages[0]["to"] == PHONE and "B" in messages[0]["text"]
    import re

    code = re.search(r"\b([0-9]{6})\b", messages[0]["text"])
    assert code is not None
    ctx = open_test_services(url, tmp_path / "secrets")
    try:
        b = ctx.authenticate("Bearer " + b_key)
        done = consents.complete(ctx, b, asked.consent_id, code.group(1))
        assert isinstance(issued, registry.Issued) and done.payload == issued.payload
    finally:
        ctx.close()


# ---------------------------------------------------------------------------------------------------
# The authorisation matrix of the consent endpoints
# ---------------------------------------------------------------------------------------------------
ROLES = [
    "anonymous",
    "administrator",
    "platform",
    "other_platform",
    "venue_owner",
    "venue_staff",
    "health_official",
    "citizen",
    "other_citizen",
]


def expect(default: int, **by_role: int) -> dict[str, int]:
    return matrix.expect(ROLES, default, **by_role)


CONSENT_MATRIX = [
    Row(
        "POST",
        "/consents/{consent_id}",
        lambda w: (f"/consents/{w['asked']}", {"otp": "000000" if w["code"] != "000000" else "000001"}),
        expect(403, platform=422, other_platform=404),
    ),
    Row("GET", "/consents/{consent_id}", None, expect(403, platform=200, other_platform=404)),
    Row("GET", "/me/consents", None, expect(403, citizen=200, other_citizen=200)),
    Row(
        "POST",
        "/me/consents/{consent_id}/approve",
        lambda w: (f"/me/consents/{w['for_approval']}/approve", None),
        expect(403, citizen=200, other_citizen=404),
    ),
    Row(
        "POST",
        "/me/consents/{consent_id}/refuse",
        lambda w: (f"/me/consents/{w['for_refusal']}/refuse", None),
        expect(403, citizen=200, other_citizen=404),
    ),
]


def test_every_consent_route_is_in_the_matrix(app):
    routes = matrix.api_routes(app, ("/consents", "/me/consents"))
    assert len(routes) == 5
    assert routes == matrix.covered(CONSENT_MATRIX)


def test_consent_authorisation_matrix(ctx, make_platform, make_user, client_for):
    origin, platform, other_platform = make_platform("Origin"), make_platform("P"), make_platform("Q")
    doc = new_document()
    subject = origin.register(**person_body(document_number=doc, phone=PHONE))
    other = origin.register(**person_body(full_name="Tran Van Binh"))
    asked = ask(platform, document_number=doc)["consent_id"]
    world: dict[str, Any] = {
        "asked": asked,
        "code": sent_code(ctx, PHONE),
        "for_approval": ask(make_platform("R"), document_number=doc)["consent_id"],
        "for_refusal": ask(make_platform("S"), document_number=doc)["consent_id"],
    }
    clients: dict[str, Any] = {
        "anonymous": client_for(None),
        "administrator": make_user("administrator"),
        "platform": platform,
        "other_platform": other_platform,
        "venue_owner": make_user("venue_owner"),
        "venue_staff": make_user("venue_staff"),
        "health_official": make_user("health_official"),
        "citizen": make_user("citizen", qid=subject["qid"]),
        "other_citizen": make_user("citizen", qid=other["qid"]),
    }
    failures = matrix.run_matrix(CONSENT_MATRIX, clients, world, lambda t: t.format(consent_id=asked))
    assert not failures, "\n".join(failures)
