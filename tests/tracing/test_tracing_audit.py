"""Every tracing read is audited with purpose ``tracing``: one row per person it shows (the holder's
access log reads these rows), committed before the answer."""

from __future__ import annotations

from sqlalchemy import select

from tests.tracing.tracing_helpers import local
from unifiedqr.store.models import AuditEvent, Person

WINDOW = (local(6, 0), local(1, 0))


def rows_after(ctx, last: int) -> list[AuditEvent]:
    with ctx.db.read() as session:
        return list(session.scalars(select(AuditEvent).where(AuditEvent.id > last).order_by(AuditEvent.id)))


def last_id(ctx) -> int:
    with ctx.db.read() as session:
        return max(session.scalars(select(AuditEvent.id)), default=0)


def person_ids(ctx, qids) -> set[int]:
    with ctx.db.read() as session:
        return set(session.scalars(select(Person.id).where(Person.qid.in_(list(qids)))))


def test_each_tracing_read_writes_one_tracing_row_per_person_shown(ctx, tw):
    case, a, b = tw.person(), tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", a, local(3, 10, 5))
    tw.scan("A", b, local(3, 10, 30))
    tw.phone_scan("A", "0955666777", local(3, 10, 40))
    tw.scan("B", a, local(2, 9))
    c = tw.person()
    tw.scan("B", c, local(2, 9, 10))
    opened = tw.open_case(case, *WINDOW)
    path = f"/tracing/cases/{opened['case_id']}"
    shown = {a["qid"], b["qid"]}
    case_id = person_ids(ctx, [case["qid"]])
    tw.official.raw(
        "POST", f"{path}/candidates/{a['qid']}/decision", json={"decision": "confirmed", "reason": "r"}
    )
    reads = {
        "candidates": (f"{path}/candidates", shown, 1),
        "csv": (f"{path}/candidates.csv", shown, 1),
        "graph": (f"{path}/graph?format=svg", shown, 1),
        "timeline": (f"{path}/venues/{tw.venue('A').id}/timeline", shown, 1),
        "rings": (f"{path}/rings", {a["qid"], c["qid"]}, 0),
        "venues": (f"{path}/venues", set(), 0),
        "case": (path, set(), 0),
        "list": ("/tracing/cases", set(), 0),
    }
    for name, (url, qids, visitors) in reads.items():
        before = last_id(ctx)
        response = tw.official.raw("GET", url)
        assert response.status_code == 200, (name, response.text)
        new = rows_after(ctx, before)
        assert new, name
        assert all(r.purpose == "tracing" and r.role == "health_official" and r.actor for r in new), name
        assert all(r.action.startswith("tracing.") for r in new), name
        people = [r.person_id for r in new if r.person_id is not None]
        assert set(people) == person_ids(ctx, qids) | case_id, name
        assert len(people) == len(set(people)), f"{name}: one row per person"
        assert sum(1 for r in new if r.person_id is None) == visitors, f"{name}: visitors without a record"


def test_opening_deciding_and_notifying_are_recorded_too(ctx, tw):
    case, a = tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", a, local(3, 10, 5))
    before = last_id(ctx)
    opened = tw.open_case(case, *WINDOW)
    path = f"/tracing/cases/{opened['case_id']}"
    tw.official.raw(
        "POST", f"{path}/candidates/{a['qid']}/decision", json={"decision": "confirmed", "reason": "r"}
    )
    tw.official.raw("POST", f"{path}/notifications", json={})
    actions = [(r.action, r.purpose) for r in rows_after(ctx, before)]
    for action in ("tracing.case.opened", "tracing.decided", "tracing.notified"):
        assert (action, "tracing") in actions, actions


def test_a_refused_read_writes_nothing(ctx, tw, make_user):
    case = tw.person()
    opened = tw.open_case(case, *WINDOW)
    admin = make_user("administrator")
    before = last_id(ctx)
    assert admin.raw("GET", f"/tracing/cases/{opened['case_id']}/candidates").status_code == 403
    assert rows_after(ctx, before) == []
