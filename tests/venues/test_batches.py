"""Offline scanners: a day of scans uploaded in batches; retries land once; per-item results; clock skew."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from tests.venues.venue_helpers import local_day, local_time
from unifiedqr.services import scan_batches
from unifiedqr.store.venue_models import ScanBatch, ScanEvent


def count_events(ctx) -> int:
    with ctx.db.read() as session:
        return int(session.scalar(select(func.count()).select_from(ScanEvent)) or 0)


def day_of_scans(payloads: list[str], prefix: str = "dev1") -> list[dict]:
    """Everyone in at 08:xx and out an hour later yesterday, each scan with its own idempotency key."""
    scans = []
    for i, payload in enumerate(payloads):
        scans.append({"idempotency_key": f"{prefix}-{i}-in", "at": local_time(1, 8, i % 60), "text": payload})
        scans.append(
            {"idempotency_key": f"{prefix}-{i}-out", "at": local_time(1, 9, i % 60), "text": payload}
        )
    return scans


def test_a_day_uploaded_twice_lands_once(world, person, ctx):
    payloads = [person()["payload"] for _ in range(20)]
    scans = day_of_scans(payloads)
    first = world.staff.upload_scans(world.id, "dev1", scans, sent_at=dt.datetime.now(dt.UTC).isoformat())
    assert (first["recorded"], first["already_recorded"], first["rejected"]) == (40, 0, 0)
    assert [r["direction"] for r in first["results"][:2]] == ["in", "out"]
    assert all(r["verification"] == "valid" for r in first["results"])
    again = world.staff.upload_scans(world.id, "dev1", scans)
    assert (again["recorded"], again["already_recorded"]) == (0, 40)
    assert [r["status"] for r in again["results"]] == ["already_recorded"] * 40
    assert [r["direction"] for r in again["results"][:2]] == ["in", "out"]
    assert count_events(ctx) == 40
    visits = world.owner.visits(world.id, local_day(1))["visits"]
    assert len(visits) == 20 and {v["closed_by"] for v in visits} == {"check_out"}


def test_concurrent_retries_of_one_batch_land_once(world, person, ctx):
    staff = ctx.authenticate("Bearer " + world.staff.token)
    scans = day_of_scans([person()["payload"] for _ in range(40)], "race")
    body = scan_batches.BatchUpload(world.id, "dev2", [scan_batches.BatchScan(**scan) for scan in scans])
    results: list[scan_batches.BatchResult] = []
    threads = [
        threading.Thread(target=lambda: results.append(scan_batches.ingest_batch(ctx, staff, body)))
        for _ in range(3)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert count_events(ctx) == 80, "80 scans (PostgreSQL: COPY, then the conflict path) land once"


def test_bad_items_are_reported_and_good_items_still_land(world, person, ctx):
    payload = person()["payload"]
    good = {"idempotency_key": "ok-1", "at": local_time(1, 9), "text": payload}
    scans = [
        good,
        {"at": local_time(1, 9), "text": payload},
        {"idempotency_key": "bad-text", "at": local_time(1, 9), "text": "not a code"},
        {"idempotency_key": "venue", "at": local_time(1, 9), "text": world.code},
        {"idempotency_key": "future", "at": "2999-01-01T00:00:00Z", "text": payload},
        {"idempotency_key": "no-time", "text": payload, "at": "noon"},
        {"idempotency_key": "entrance", "at": local_time(1, 9), "text": payload, "entrance_id": "ent_nope"},
        "not an object",
        {"idempotency_key": "ok-1", "at": local_time(1, 10), "text": payload},
        {"idempotency_key": "phone-ok", "at": local_time(1, 10), "phone": "0987654321"},
    ]
    result = world.staff.upload_scans(world.id, "dev3", scans)
    reasons = [(r["status"], r.get("reason", "").split(":")[0]) for r in result["results"]]
    assert reasons == [
        ("recorded", ""),
        ("rejected", "malformed"),
        ("rejected", "malformed"),
        ("rejected", "wrong_kind"),
        ("rejected", "future_timestamp"),
        ("rejected", "malformed"),
        ("rejected", "no such entrance at this venue"),
        ("rejected", "malformed"),
        ("rejected", "duplicate_key"),
        ("recorded", ""),
    ]
    assert result["results"][1]["field"] == "scans[1].idempotency_key"
    assert (result["recorded"], result["rejected"]) == (2, 8)
    assert count_events(ctx) == 2


def test_batch_over_the_cap_is_413(world, person):
    scans = [{"idempotency_key": f"k{i}", "at": local_time(1, 9)} for i in range(5001)]
    response = world.staff.raw(
        "POST", "/scan-batches", json={"venue_id": world.id, "device_id": "d", "scans": scans}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["reason"].startswith("batch_too_large")
    huge = world.staff.raw("POST", "/scan-batches", content=b'{"scans": "' + b"x" * (5 * 1024 * 1024) + b'"}')
    assert huge.status_code == 413 and huge.json()["field"] == "body"


def test_device_clock_skew_is_detected_recorded_and_corrected(world, person, ctx):
    payload = person()["payload"]
    now = dt.datetime.now(dt.UTC)
    ahead = now + dt.timedelta(hours=2)
    scans = [{"idempotency_key": "s1", "at": (ahead - dt.timedelta(minutes=10)).isoformat(), "text": payload}]
    result = world.staff.upload_scans(world.id, "fast-clock", scans, sent_at=ahead.isoformat())
    assert abs(result["clock_skew_seconds"] - 7200) <= 5 and result["skew_corrected"] is True
    assert result["results"][0]["status"] == "recorded", "not refused as future: the skew is corrected"
    with ctx.db.read() as session:
        batch = session.scalars(select(ScanBatch)).one()
        event = session.scalars(select(ScanEvent)).one()
    assert abs(batch.clock_skew_seconds - 7200) <= 5 and batch.device_id == "fast-clock"
    assert abs((event.device_at - event.occurred_at).total_seconds() - 7200) <= 5
    assert abs((event.occurred_at - (now - dt.timedelta(minutes=10))).total_seconds()) <= 5
    small = world.staff.upload_scans(
        world.id, "ok-clock", [], sent_at=(now + dt.timedelta(seconds=30)).isoformat()
    )
    assert small["skew_corrected"] is False and 25 <= small["clock_skew_seconds"] <= 35


def test_late_upload_is_merged_into_the_days_visits(world, person):
    payload = person()["payload"]
    world.staff.scan(world.id, payload, at=local_time(1, 10))  # online: looked like a check-in
    result = world.staff.upload_scans(
        world.id, "late", [{"idempotency_key": "late-1", "at": local_time(1, 9), "text": payload}]
    )
    assert result["results"][0]["direction"] == "in"
    (visit,) = world.owner.visits(world.id, local_day(1))["visits"]
    assert visit["closed_by"] == "check_out", "derived from events: 09:00 in, 10:00 out"
    assert dt.datetime.fromisoformat(visit["checked_in_at"]) == dt.datetime.fromisoformat(local_time(1, 9))
