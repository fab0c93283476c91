"""A tracer's work on a case: decisions with reasons and the log, closing, the second ring, notifications."""

from __future__ import annotations

import datetime as dt

from tests.tracing.tracing_helpers import local

WINDOW = (local(6, 0), local(1, 0))


def decide(tw, case, candidate, decision="confirmed", reason="sat at the same table"):
    return tw.official.raw(
        "POST",
        f"/tracing/cases/{case['case_id']}/candidates/{candidate}/decision",
        json={"decision": decision, "reason": reason},
    )


def test_decisions_carry_a_reason_show_in_the_list_and_are_logged(tw):
    case, a, b = tw.person(), tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", a, local(3, 10, 5))
    tw.scan("A", b, local(3, 10, 50))
    opened = tw.open_case(case, *WINDOW, note="positive PCR on day 3")
    assert decide(tw, opened, a["qid"]).json()["status"] == "confirmed"
    dismissed = decide(tw, opened, b["qid"], "dismiss", "worked behind glass")
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert decide(tw, opened, a["qid"], "dismissed", "wrong table after all").status_code == 200
    listed = {c["qid"]: (c["status"], c["reason"]) for c in tw.candidates(opened)}
    assert listed == {
        a["qid"]: ("dismissed", "wrong table after all"),
        b["qid"]: ("dismissed", "worked behind glass"),
    }
    log = tw.official.raw("GET", f"/tracing/cases/{opened['case_id']}").json()["log"]
    assert [(e["action"], e["subject"], e["reason"]) for e in log] == [
        ("opened", case["qid"], "positive PCR on day 3"),
        ("confirmed", a["qid"], "sat at the same table"),
        ("dismissed", b["qid"], "worked behind glass"),
        ("dismissed", a["qid"], "wrong table after all"),
    ]
    assert {e["role"] for e in log} == {"health_official"}


def test_decisions_are_checked(tw):
    case, contact, stranger = tw.person(), tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", contact, local(3, 10, 5))
    opened = tw.open_case(case, *WINDOW)
    assert decide(tw, opened, stranger["qid"]).status_code == 404, "not a candidate of this case"
    assert decide(tw, opened, "v_nope").status_code == 404
    assert decide(tw, opened, contact["qid"], "maybe").status_code == 422
    assert decide(tw, opened, contact["qid"], reason="").status_code == 422
    path = f"/tracing/cases/{opened['case_id']}"
    closed = tw.official.raw("POST", f"{path}/close", json={"reason": "isolation ended"})
    assert closed.status_code == 200 and closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert tw.official.raw("POST", f"{path}/close", json={"reason": "again"}).status_code == 409
    assert decide(tw, opened, contact["qid"]).status_code == 409, "a closed case takes no decisions"
    assert (
        tw.official.raw("GET", "/tracing/cases", params={"status": "closed"}).json()["cases"][0]["case_id"]
        == (opened["case_id"])
    )
    assert tw.official.raw("POST", f"{path}/reopen", json={"reason": "new scans"}).json()["status"] == "open"
    assert decide(tw, opened, contact["qid"]).status_code == 200
    assert [c["status"] for c in tw.candidates(opened)] == ["confirmed"], "candidates are derived anew"


def test_a_phone_only_visitor_is_decided_by_visitor_id(tw):
    case = tw.person()
    tw.scan("A", case, local(3, 10))
    tw.phone_scan("A", "0933444555", local(3, 10, 5))
    opened = tw.open_case(case, *WINDOW)
    (visitor,) = tw.candidates(opened)
    assert decide(tw, opened, visitor["visitor_id"]).json()["visitor_id"] == visitor["visitor_id"]


def test_second_ring_expands_from_confirmed_contacts_only_once_each(tw):
    case, first, second, unrelated_ring1 = tw.person(), tw.person(), tw.person(), tw.person()
    tw.scan("A", case, local(4, 10))
    tw.scan("A", first, local(4, 10, 10))
    tw.scan("A", unrelated_ring1, local(4, 10, 20))
    tw.scan("B", first, local(3, 18))  # after meeting the case
    tw.scan("B", second, local(3, 18, 30))
    tw.scan("B", unrelated_ring1, local(3, 18, 40))  # already listed in ring 1: not again
    tw.scan("C", first, local(5, 9))
    too_early = tw.person()
    tw.scan("C", too_early, local(5, 9, 5))  # before the first met the case: not exposed by them
    opened = tw.open_case(case, *WINDOW)
    path = f"/tracing/cases/{opened['case_id']}"
    assert tw.official.raw("GET", f"{path}/rings").json()["rings"] == [], "nobody confirmed yet"
    decide(tw, opened, first["qid"])
    body = tw.official.raw("GET", f"{path}/rings", params={"depth": 2, "max_people": 50}).json()
    ring, ring3 = body["rings"]
    assert ring3["ring"] == 3 and ring3["candidates"] == [], "the second met nobody new"
    assert ring["ring"] == 2 and ring["sources"] == [first["qid"]] and ring["truncated"] is False
    assert [c["qid"] for c in ring["candidates"]] == [second["qid"]]
    assert ring["candidates"][0]["via"] == [first["qid"]]
    assert tw.official.raw("GET", f"{path}/rings", params={"depth": 9}).status_code == 422


def test_notifications_go_to_the_registering_platform_and_are_acknowledged(tw, make_platform):
    case, contact = tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", contact, local(3, 10, 5))
    tw.phone_scan("A", "0944555666", local(3, 10, 15))
    opened = tw.open_case(case, *WINDOW)
    path = f"/tracing/cases/{opened['case_id']}"
    found = tw.candidates(opened)
    visitor = next(c for c in found if c["qid"] is None)
    refused = tw.official.raw("POST", f"{path}/notifications", json={"candidates": [contact["qid"]]})
    assert refused.status_code == 409, "confirm before notifying"
    decide(tw, opened, contact["qid"])
    decide(tw, opened, visitor["visitor_id"])
    sent = tw.official.raw("POST", f"{path}/notifications", json={})
    assert sent.status_code == 201, sent.text
    by_channel = {n["channel"]: n for n in sent.json()["notifications"]}
    assert set(by_channel) == {"platform", "manual"}
    told = by_channel["platform"]
    assert told["qid"] == contact["qid"] and told["status"] == "pending"
    assert told["platform_id"] == contact["platform"].platform_id
    assert "Địa điểm A" in told["message"] and dt.datetime.fromisoformat(told["exposed_at"]) == local(
        3, 10, 5
    )
    assert by_channel["manual"]["status"] == "manual" and by_channel["manual"]["platform_id"] is None
    again = tw.official.raw("POST", f"{path}/notifications", json={})
    assert again.json()["notifications"] == [], "the default sends to those not yet told"
    platform = contact["platform"]
    (notice,) = platform.raw("GET", "/tracing/notifications").json()["notifications"]
    assert notice["qid"] == contact["qid"] and notice["notification_id"] == told["notification_id"]
    assert "case_id" not in notice and opened["case_id"] not in str(notice) and case["qid"] not in str(notice)
    other = make_platform("Other")
    assert other.raw("GET", "/tracing/notifications").json()["notifications"] == []
    ack_path = f"/tracing/notifications/{notice['notification_id']}/ack"
    assert other.raw("POST", ack_path).status_code == 404
    acked = platform.raw("POST", ack_path).json()
    assert acked["status"] == "acknowledged" and acked["acknowledged_at"]
    assert platform.raw("POST", ack_path).json()["acknowledged_at"] == acked["acknowledged_at"]
    assert platform.raw("GET", "/tracing/notifications").json()["notifications"] == []
    record = tw.official.raw("GET", f"{path}/notifications").json()["notifications"]
    assert {n["status"] for n in record} == {"acknowledged", "manual"}
    actions = [e["action"] for e in tw.official.raw("GET", path).json()["log"]]
    assert actions.count("notified") == 2
