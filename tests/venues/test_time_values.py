"""Issue 10, finding 4: five inputs that answered 500 (and dropped the keep-alive connection).

Every time value is now parsed once, by ``services.times``, into a bounded range; batches reject
the bad item alone; bodies are parsed with a nesting limit.
"""

from __future__ import annotations

import pytest

from tests.venues.venue_helpers import local_time


@pytest.mark.parametrize("date", ["0001-01-01", "9999-12-31", "0000-01-01"])
def test_history_for_a_day_at_the_ends_of_the_calendar_is_a_422(world, date):
    for path in ("visits", "counts"):
        response = world.owner.raw("GET", f"/venues/{world.id}/{path}", params={"date": date})
        assert response.status_code == 422 and response.json()["field"] == "date", response.text


@pytest.mark.parametrize("at", ["9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+14:00"])
def test_scans_at_the_ends_of_the_calendar_are_refused_by_name(world, person, at, make_platform):
    response = world.staff.raw("POST", f"/venues/{world.id}/scans", json={"phone": "0987654321", "at": at})
    assert response.status_code == 422 and response.json()["errors"][0]["code"] == "malformed"
    someone = person()
    checkin = someone["platform"].raw(
        "POST", "/checkins", json={"venue_code": world.code, "qid": someone["qid"], "at": at}
    )
    assert checkin.status_code == 422 and checkin.json()["field"] == "at"


def test_a_batch_with_one_item_at_year_one_keeps_the_good_item(world, ctx):
    good = {"idempotency_key": "good", "at": local_time(1, 9), "phone": "0987654321"}
    bad = {"idempotency_key": "bad", "at": "0001-01-01T00:00:00+01:00", "phone": "0987654322"}
    result = world.staff.upload_scans(world.id, "dev", [good, bad])
    assert [r["status"] for r in result["results"]] == ["recorded", "rejected"]
    assert result["results"][1]["field"] == "scans[1].at"
    refused = world.staff.raw(
        "POST",
        "/scan-batches",
        json={
            "venue_id": world.id,
            "device_id": "dev",
            "sent_at": "0001-01-01T00:00:00+01:00",
            "scans": [good],
        },
    )
    assert refused.status_code == 422 and refused.json()["field"] == "sent_at"


def test_a_body_nested_thirty_thousand_deep_is_a_422_not_a_recursion_error(world):
    body = b"[" * 30_000 + b"]" * 30_000
    for path in (f"/venues/{world.id}/scans", "/scan-batches", "/checkins"):
        response = world.staff.raw("POST", path, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code in (413, 422), (path, response.status_code, response.text[:200])
        assert response.headers["content-type"].startswith("application/problem+json")
