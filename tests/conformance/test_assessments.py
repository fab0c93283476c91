"""The assessment centre's decisions on the platform, through the real app (SQLite and PostgreSQL).

Submit, approve, and the app is on the list the platform serves, which verifies offline against the
trust list it serves; withdraw, and it is gone. A failing assessment cannot be approved; a new
version replaces the old one; a tampered copy does not verify; every decision is an audit row.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from unifiedqr.cli import main
from unifiedqr.client import Client
from unifiedqr.services.context import Services
from unifiedqr.store.models import AuditEvent

from .records import AT, NAME, VENDOR, make_record

BASE = "/conformance/assessments"


def make_at(offset: dt.timedelta) -> dt.datetime:
    return AT + offset


def submit(client: Client, record: dict[str, Any], status: int = 201) -> dict[str, Any]:
    response = client.raw("POST", BASE, json=record)
    assert response.status_code == status, response.text
    return response.json()


def decide(client: Client, assessment_id: str, decision: str, *reasons: str, status: int = 200) -> Any:
    body = {"decision": decision, "reasons": list(reasons or ("checked",))}
    response = client.raw("POST", f"{BASE}/{assessment_id}/decision", json=body)
    assert response.status_code == status, response.text
    return response.json()


def withdraw(client: Client, assessment_id: str, *reasons: str, status: int = 200) -> Any:
    body = {"reasons": list(reasons or ("withdrawn",))}
    response = client.raw("POST", f"{BASE}/{assessment_id}/withdrawal", json=body)
    assert response.status_code == status, response.text
    return response.json()


def served(anon: Client) -> dict[str, Any]:
    response = anon.raw("GET", "/conformance/apps")
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "public, max-age=60"
    document: dict[str, Any] = response.json()
    return document


def verify(tmp_path: Path, document: dict[str, Any], trust: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``unifiedqr conformance verify-list`` on a mirror's copy, with the served trust list."""
    (tmp_path / "list.json").write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "trust.json").write_text(json.dumps(trust), encoding="utf-8")
    args = [
        "conformance",
        "verify-list",
        str(tmp_path / "list.json"),
        "--trust",
        str(tmp_path / "trust.json"),
    ]
    result = CliRunner().invoke(main, [*args, "--json"])
    return result.exit_code, json.loads(result.stdout)


@pytest.fixture
def assessor(make_user: Callable[..., Client]) -> Client:
    return make_user("assessor")


def test_approval_lists_the_app_and_withdrawal_takes_it_off(
    ctx: Services, assessor: Client, anon: Client, tmp_path: Path
) -> None:
    empty = served(anon)  # the first read publishes the empty list
    assert empty["apps"] == [] and empty["sequence"] == 1
    record = make_record(ctx)
    created = submit(assessor, record)
    assert created["decision"] == "pending" and created["created"] and not created["listed"]
    assert created["assessment_id"].startswith("asm_") and created["report"]["verdict"] == "pass"
    again = submit(assessor, record, status=200)  # a retried upload lands once
    assert again["assessment_id"] == created["assessment_id"] and not again["created"]
    assert served(anon) == empty  # nothing listed until approved

    approved = decide(assessor, created["assessment_id"], "approved", "all checks pass", "live calls met")
    assert approved["decision"] == "approved" and approved["listed"] and approved["list_sequence"] == 2
    assert approved["reasons"] == ["all checks pass", "live calls met"] and approved["decided_by"]
    document = served(anon)
    assert document["sequence"] == 2 and document["issuer"]
    (app,) = document["apps"]
    assert (app["vendor"], app["name"], app["version"]) == (VENDOR, NAME, "2.1.0")
    assert app["date"] == dt.datetime.now(dt.UTC).date().isoformat()
    assert app["report"]["verdict"] == "pass" and app["report"]["codes"] == ["QUALITY_INVERTED"]
    trust = anon.trust_list()
    code, verified = verify(tmp_path, document, trust)
    assert code == 0 and verified["status"] == "valid"
    assert [a["name"] for a in verified["list"]["apps"]] == [NAME]

    tampered = json.loads(json.dumps(document))
    tampered["apps"][0]["version"] = "9.9.9"
    code, verified = verify(tmp_path, tampered, trust)
    assert code == 1 and verified["status"] == "bad_signature" and verified["list"] is None

    gone = withdraw(assessor, created["assessment_id"], "the vendor shipped a build that shows full data")
    assert gone["decision"] == "withdrawn" and not gone["listed"] and gone["list_sequence"] == 3
    document = served(anon)
    assert document["apps"] == [] and document["sequence"] == 3
    assert verify(tmp_path, document, anon.trust_list())[0] == 0
    # decisions are final: a withdrawn app comes back only through a new assessment
    decide(assessor, created["assessment_id"], "approved", status=409)
    withdraw(assessor, created["assessment_id"], status=409)


def test_the_served_list_is_one_document_per_sequence(ctx: Services, assessor: Client, anon: Client) -> None:
    decide(assessor, submit(assessor, make_record(ctx))["assessment_id"], "approved")
    first = anon.raw("GET", "/conformance/apps")
    assert anon.raw("GET", "/conformance/apps").content == first.content  # stored, not re-signed
    etag = first.headers["etag"]
    again = anon.raw("GET", "/conformance/apps", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    assert anon.raw("GET", "/conformance/apps", headers={"If-None-Match": '"0.x"'}).status_code == 200


def test_a_failing_assessment_cannot_be_approved(ctx: Services, assessor: Client, anon: Client) -> None:
    failing = submit(assessor, make_record(ctx, passed=False))
    assert failing["verdict"] == "fail" and failing["report"]["codes"] == [
        "DISPLAY_DOCUMENT_NOT_MASKED",
        "QUALITY_INVERTED",
    ]
    refused = decide(assessor, failing["assessment_id"], "approved", status=409)
    assert refused["field"] == "decision" and "DISPLAY_DOCUMENT_NOT_MASKED" in refused["detail"]
    rejected = decide(assessor, failing["assessment_id"], "rejected", "full data shown by default")
    assert rejected["decision"] == "rejected" and rejected["list_sequence"] is None
    decide(assessor, failing["assessment_id"], "approved", status=409)  # rejected is final
    withdraw(assessor, failing["assessment_id"], status=409)  # only an approved app is withdrawn
    assert served(anon)["apps"] == []
    # a passing one may be rejected too (the assessor's judgement), with reasons
    passing = submit(assessor, make_record(ctx, version="2.1.1"))
    decide(assessor, passing["assessment_id"], "rejected", "screenshots not from the store build")
    pending = assessor.raw("GET", BASE, params={"decision": "pending"}).json()["assessments"]
    assert pending == []
    listing = assessor.raw("GET", BASE).json()["assessments"]
    assert [a["decision"] for a in listing] == ["rejected", "rejected"]  # newest first


def test_a_new_version_replaces_the_old_one(ctx: Services, assessor: Client, anon: Client) -> None:
    day = dt.timedelta(days=1)
    old = submit(assessor, make_record(ctx, version="2.1.0"))
    decide(assessor, old["assessment_id"], "approved")
    other_app = submit(assessor, make_record(ctx, name="VNeID", vendor="Bộ Công an", version="1.0"))
    decide(assessor, other_app["assessment_id"], "approved")
    new = submit(assessor, make_record(ctx, version="2.2.0", at=make_at(day)))
    done = decide(assessor, new["assessment_id"], "approved", "re-assessed: 2.2.0")
    assert done["superseded"] == [old["assessment_id"]]
    listed = {(a["name"], a["version"]) for a in served(anon)["apps"]}
    assert listed == {(NAME, "2.2.0"), ("VNeID", "1.0")}
    replaced = assessor.raw("GET", f"{BASE}/{old['assessment_id']}").json()
    assert replaced["decision"] == "superseded" and new["assessment_id"] in replaced["reasons"][0]
    assert replaced["record"]["kind"] == "unifiedqr-conformance-assessment"
    # an assessment older than the listed one cannot push it off the list
    stale = submit(assessor, make_record(ctx, version="2.0.9", at=make_at(-day)))
    problem = decide(assessor, stale["assessment_id"], "approved", status=409)
    assert "later assessment" in problem["detail"]
    # new evidence of the same version, assessed later, replaces the listed assessment
    redo = submit(assessor, make_record(ctx, version="2.2.0", at=make_at(2 * day)))
    assert decide(assessor, redo["assessment_id"], "approved")["superseded"] == [new["assessment_id"]]
    approved = assessor.raw("GET", BASE, params={"decision": "approved"}).json()["assessments"]
    assert {a["assessment_id"] for a in approved} == {redo["assessment_id"], other_app["assessment_id"]}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda r: r.__setitem__("trust_key_ids", ["AAAAAAAAAAA"]), "trust_key_ids"),
        (lambda r: r.__setitem__("verdict", "fail"), "verdict"),
        (lambda r: r.__setitem__("app", None), "app"),
        (lambda r: r["findings"].append({"code": "NO_SUCH_CODE", "message": "x"}), "record"),
        (lambda r: r.__setitem__("assessed_at", "yesterday"), "assessed_at"),
        (lambda r: r.__setitem__("assessed_at", "2099-01-01T00:00:00Z"), "assessed_at"),
        (lambda r: r.__setitem__("kind", "something-else"), "kind"),
        (lambda r: r["app"].__setitem__("version", ""), "app.version"),
    ],
)
def test_records_the_platform_cannot_trust_are_refused(
    ctx: Services, assessor: Client, change: Any, field: str
) -> None:
    record = make_record(ctx)
    change(record)
    response = assessor.raw("POST", BASE, json=record)
    assert response.status_code == 422, response.text
    assert response.json()["field"] == field
    assert assessor.raw("GET", BASE).json()["assessments"] == []


def test_unknown_assessments_and_bad_decisions(ctx: Services, assessor: Client) -> None:
    assert decide(assessor, "asm_nope", "approved", status=404)["field"] == "assessment_id"
    assert assessor.raw("GET", f"{BASE}/asm_nope").status_code == 404
    created = submit(assessor, make_record(ctx))
    assert decide(assessor, created["assessment_id"], "maybe", status=422)["field"] == "decision"
    bad = assessor.raw("POST", f"{BASE}/{created['assessment_id']}/decision", json={"decision": "approved"})
    assert bad.status_code == 422 and bad.json()["field"] == "reasons"
    empty = {"decision": "approved", "reasons": ["  "]}
    bad = assessor.raw("POST", f"{BASE}/{created['assessment_id']}/decision", json=empty)
    assert bad.status_code == 422 and bad.json()["field"] == "reasons"
    assert assessor.raw("GET", BASE, params={"decision": "maybe"}).status_code == 422


def test_every_decision_is_an_audit_row(ctx: Services, assessor: Client, make_user: Any) -> None:
    admin = make_user("administrator")
    first = submit(assessor, make_record(ctx))
    decide(assessor, first["assessment_id"], "approved")
    second = submit(admin, make_record(ctx, version="3.0", at=make_at(dt.timedelta(days=3))))
    decide(admin, second["assessment_id"], "approved")
    withdraw(admin, second["assessment_id"], "shows another person's data")
    failing = submit(assessor, make_record(ctx, passed=False))
    decide(assessor, failing["assessment_id"], "rejected", "fails")
    with ctx.db.read() as session:
        rows = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("assessment.%")).order_by(AuditEvent.id)
        ).all()
    trail = [(row.action, row.role, row.detail.split()[0]) for row in rows]
    assert trail == [
        ("assessment.submitted", "assessor", first["assessment_id"]),
        ("assessment.approved", "assessor", first["assessment_id"]),
        ("assessment.submitted", "administrator", second["assessment_id"]),
        ("assessment.superseded", "administrator", first["assessment_id"]),
        ("assessment.approved", "administrator", second["assessment_id"]),
        ("assessment.withdrawn", "administrator", second["assessment_id"]),
        ("assessment.submitted", "assessor", failing["assessment_id"]),
        ("assessment.rejected", "assessor", failing["assessment_id"]),
    ]
    assert all(row.account_id is not None and row.person_id is None for row in rows)
    assert f"{VENDOR}/{NAME} 3.0" in rows[4].detail


def test_the_public_page_shows_what_the_feed_lists(ctx: Services, assessor: Client, app: Any) -> None:
    from fastapi.testclient import TestClient

    http = TestClient(app)
    assert "No app is approved yet" in http.get("/conformance").text
    record = make_record(ctx, name="<script>alert(1)</script>", version="1.0")
    decide(assessor, submit(assessor, record)["assessment_id"], "approved")
    page = http.get("/conformance")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text and "<script>" not in page.text
    assert VENDOR in page.text and "QUALITY_INVERTED" in page.text and "sequence 2" in page.text
    assert 'href="/api/v1/conformance/apps"' in page.text
