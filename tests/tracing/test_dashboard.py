"""The officials' dashboard (``GET /dashboard``): counts per local hour and province, open cases.

Through the real app on both databases: the hour is computed by each database (SQLite ``strftime``,
PostgreSQL ``extract``), so a scan at 23:30 local time lands in hour 23 of its local day, not in the
UTC day's. Duplicates are not counted; who may read it is the matrix below.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests import matrix
from tests.matrix import Row
from tests.tracing.tracing_helpers import local, rfc

ROLES = [
    "anonymous",
    "administrator",
    "platform",
    "venue_owner",
    "venue_staff",
    "health_official",
    "tracer",
    "citizen",
]
MATRIX = [
    Row(
        "GET",
        "/dashboard",
        None,
        matrix.expect(ROLES, 403, administrator=200, health_official=200, tracer=200),
    )
]


def test_every_dashboard_route_is_in_the_matrix(app):
    assert matrix.api_routes(app, ("/dashboard",)) == matrix.covered(MATRIX)


def test_counts_per_local_hour_and_province(tw, make_venue):
    a, b, c = tw.person(), tw.person(), tw.person()
    tw.scan("A", a, local(1, 9, 5))  # Hà Nội, in
    tw.scan("A", b, local(1, 9, 40))  # in
    tw.scan("A", b, local(1, 9, 40, 20))  # a duplicate: not counted
    tw.scan("A", a, local(1, 11, 0), direction="out")
    tw.scan("A", c, local(1, 23, 30))  # late: local hour 23 of the same local day
    tw.scan("A", c, local(2, 10, 0))  # the day before: not counted
    hcm = make_venue("market", "Chợ Bến Thành", province="Hồ Chí Minh")
    for who, minute in ((a, 1), (b, 2), (c, 3)):  # hour 0 local = 17:00 UTC the day before
        hcm.staff.scan(hcm.id, who["payload"], at=rfc(local(1, 0, minute)))
    tw.open_case(a, local(6, 0), local(1, 0))
    day = local(1, 0).date().isoformat()

    answer = tw.official.raw("GET", f"/dashboard?date={day}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["date"] == day and body["utc_offset_minutes"] == 420
    hours = {h["hour"]: (h["check_ins"], h["check_outs"]) for h in body["hours"]}
    assert len(body["hours"]) == 24
    assert hours[9] == (2, 0) and hours[11] == (0, 1) and hours[23] == (1, 0) and hours[0] == (3, 0)
    assert sum(i for i, _ in hours.values()) == body["total_check_ins"] == 6
    assert body["total_check_outs"] == 1
    assert body["provinces"] == [
        {"province": "Hà Nội", "check_ins": 3, "check_outs": 1},
        {"province": "Hồ Chí Minh", "check_ins": 3, "check_outs": 0},
    ]
    assert body["open_cases"] == 1


def test_an_administrator_sees_counts_but_not_cases(tw, make_user):
    body = make_user("administrator").raw("GET", "/dashboard").json()
    assert body["open_cases"] is None and body["total_check_ins"] == 0


def test_a_malformed_day_is_422_naming_the_field(tw):
    answer = tw.official.raw("GET", "/dashboard?date=2021-13-01")
    assert answer.status_code == 422 and "date" in answer.text


def test_role_matrix(tw, make_platform, make_user, client_for):
    venue = tw.venue("A")
    clients: dict[str, Any] = {
        "anonymous": client_for(None),
        "administrator": make_user("administrator"),
        "platform": make_platform("App2"),
        "venue_owner": venue.owner,
        "venue_staff": venue.staff,
        "health_official": tw.official,
        "tracer": make_user("tracer"),
        "citizen": make_user("citizen", qid=tw.person()["qid"]),
    }
    failures = matrix.run_matrix(MATRIX, clients, {}, lambda t: t)
    assert not failures, "\n".join(failures)


def test_the_rollup_is_exactly_the_events(tw, make_user, client_for, ctx):
    """Every path that stores scans keeps ``scan_hours``: door scans, a batch with a duplicate and a
    retried key, a late offline upload; the rollup's day equals the events' day, hour by hour."""
    from unifiedqr.services import dashboard

    a, b = tw.person(), tw.person()
    venue = tw.venue("A")
    tw.scan("A", a, local(1, 8, 0))
    tw.scan("A", a, local(1, 8, 0, 30))  # a duplicate
    batch = {
        "venue_id": venue.id,
        "device_id": "door-1",
        "scans": [
            {"idempotency_key": "k1", "at": rfc(local(1, 10, 5)), "text": b["payload"]},
            {"idempotency_key": "k2", "at": rfc(local(1, 23, 59)), "phone": "0912000999"},
        ],
    }
    for _ in range(2):  # the retry stores nothing twice, and counts nothing twice
        answer = venue.staff.raw("POST", "/scan-batches", json=batch)
        assert answer.status_code in (200, 201, 207), answer.text
    day = local(1, 0).date()
    start = dt.datetime.combine(day, dt.time(), dt.UTC) - dt.timedelta(hours=7)
    end = start + dt.timedelta(days=1)
    with ctx.db.read() as session:
        rollup = dashboard._rollup(session, start, end, 420)
        events = dashboard._events(session, start, end, 420)
    assert rollup == events  # per local hour and per province, both sorted
    per_hour, per_province = rollup
    assert (
        sum(n for *_, n in per_hour) == sum(n for *_, n in per_province) == 3
    )  # 08:00, 10:05 and 23:59 local; not the duplicate
