"""The holder's access log and the audit behind it: every listed read is there, nothing else is."""

from __future__ import annotations

from sqlalchemy import select

from tests.access.access_helpers import days_ago, vaccination
from tests.venues.venue_helpers import local_day, local_time
from unifiedqr.store.models import AuditEvent, Person

HEALTH = {"address": {"province": "Hà Nội", "district": "Hoàn Kiếm"}}


def audit_rows(ctx, qid: str) -> list[tuple[str, str, str | None]]:
    with ctx.db.read() as session:
        person_id = session.scalar(select(Person.id).where(Person.qid == qid))
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.role, AuditEvent.purpose)
            .where(AuditEvent.person_id == person_id)
            .order_by(AuditEvent.id)
        ).all()
    return [tuple(r) for r in rows]


def test_the_holder_sees_who_read_what_and_why_newest_first(person, make_user, world):
    subject = person()
    citizen = make_user("citizen", qid=subject["qid"])
    platform = subject["platform"]
    official = make_user("health_official", username="dr_an")
    admin = make_user("administrator")
    # Not listed: the holder, their platform serving them, door scans.
    citizen.person(subject["qid"])
    citizen.declarations(subject["qid"])
    platform.person(subject["qid"])
    platform.lookup(subject["qid"], "other")
    world.staff.scan(world.id, subject["payload"], at=local_time(1, 8))
    assert citizen.access_log() == []
    # Listed, in this order.
    official.lookup(subject["payload"], "checkpoint")
    official.person(subject["qid"], "treatment")
    official.declarations(subject["qid"], purpose="investigation")
    admin.person(subject["qid"], "other")
    world.staff.lookup(subject["payload"], "venue_entry")
    world.owner.visits(world.id, local_day(1))
    entries = citizen.access_log()
    assert [(e["role"], e["purpose"], e["what"]) for e in entries] == [
        ("venue_owner", "venue_history", "venue_history"),
        ("venue_staff", "venue_entry", "lookup"),
        ("administrator", "other", "record"),
        ("health_official", "investigation", "declarations"),
        ("health_official", "treatment", "record"),
        ("health_official", "checkpoint", "lookup"),
    ]
    assert entries[-1]["actor"] == "dr_an" or entries[-1]["actor"]
    assert all(set(e) == {"at", "role", "actor", "purpose", "what"} for e in entries)
    assert [e["at"] for e in entries] == sorted((e["at"] for e in entries), reverse=True)


def test_household_reads_are_not_listed(person, make_user):
    head = person()
    child = head["platform"].register(
        document_number="079188001234",
        full_name="Nguyen Van Be",
        birth_date="2015-05-05",
        proxy_qid=head["qid"],
    )
    declarer = make_user("citizen", qid=head["qid"])
    declarer.person(child["qid"])
    declarer.declarations(child["qid"])
    assert make_user("citizen", qid=child["qid"]).access_log() == []


def test_only_citizens_have_an_access_log(make_user, make_platform):
    for other in (make_user("health_official"), make_platform("P"), make_user("venue_staff")):
        assert other.raw("GET", "/me/access-log").status_code == 403


def test_every_read_endpoint_writes_one_audit_row_per_person_returned(person, make_user, world, ctx):
    """Audit completeness: each read of someone else's data by an official, an administrator or venue
    staff leaves exactly one row per person it returned, with the purpose given."""
    subject, other = person(), person(full_name="Tran Van Binh")
    official, admin = make_user("health_official"), make_user("administrator")
    official.add_health_record(subject["qid"], vaccination(days_ago(20)))
    subject["platform"].declare_health(subject["qid"], HEALTH)
    world.staff.scan(world.id, subject["payload"], at=local_time(1, 8))
    world.staff.scan(world.id, other["payload"], at=local_time(1, 8))
    world.staff.scan(world.id, "0987654321", at=local_time(1, 8))  # a visitor who is no one's record
    before = {q: len(audit_rows(ctx, q)) for q in (subject["qid"], other["qid"])}
    reads = [
        (lambda: official.lookup(subject["qid"], "tracing"), ("lookup", "health_official", "tracing")),
        (
            lambda: official.person(subject["qid"], "treatment"),
            ("person.read", "health_official", "treatment"),
        ),
        (lambda: admin.code(subject["qid"], purpose="other"), ("code.read", "administrator", "other")),
        (
            lambda: official.declarations(subject["qid"], purpose="investigation"),
            ("declarations.read", "health_official", "investigation"),
        ),
        (
            lambda: world.staff.lookup(subject["payload"], "venue_entry"),
            ("lookup", "venue_staff", "venue_entry"),
        ),
    ]
    for call, expected in reads:
        call()
        rows = audit_rows(ctx, subject["qid"])
        assert len(rows) == before[subject["qid"]] + 1 and rows[-1] == expected, expected
        before[subject["qid"]] += 1
    shown = world.owner.visits(world.id, local_day(1))["visits"]
    assert len(shown) == 3
    for qid in (subject["qid"], other["qid"]):
        rows = audit_rows(ctx, qid)
        assert len(rows) == before[qid] + 1 and rows[-1] == (
            "venue.visits.read",
            "venue_owner",
            "venue_history",
        )
