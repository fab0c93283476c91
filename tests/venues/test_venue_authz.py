"""The venue rows of the authorisation matrix: every role against every venue endpoint, real app.

401 without credentials; 403 when the role lacks the permission; 404 when it holds it but the
venue is not its own (the owner or staff of venue B asking about venue A), so a venue's existence
is never revealed. A new venue endpoint without a row fails ``test_every_venue_route_is_in_the_matrix``.
"""

from __future__ import annotations

import secrets
from typing import Any

from tests import matrix
from tests.matrix import Row
from tests.venues.venue_helpers import local_time

ROLES = [
    "anonymous",
    "administrator",
    "platform",
    "venue_owner",
    "other_owner",
    "venue_staff",
    "other_staff",
    "health_official",
    "citizen",
    "assessor",
]


def expect(default: int, **by_role: int) -> dict[str, int]:
    return matrix.expect(ROLES, default, **by_role)


MANAGE = expect(403, administrator=200, venue_owner=200, other_owner=404)
MANAGE_CREATE = {**MANAGE, "administrator": 201, "venue_owner": 201}
SCAN = expect(403, venue_owner=201, other_owner=404, venue_staff=201, other_staff=404)
HISTORY = expect(403, venue_owner=200, other_owner=404)
VENUE = {
    "name": "Chợ",
    "type": "market",
    "province": "P",
    "district": "D",
    "commune": "C",
    "street": "S",
    "owner_phone": "0900000001",
}


def _staff(w: dict[str, Any]) -> str:
    return w["new_staff"]()


#: (method, path template, body or callable(world) -> (path, body), expectations); {v} is venue A
MATRIX: list[Row] = [
    Row(*r)
    for r in [
        (
            "POST",
            "/venues",
            lambda w: ("/venues", {**VENUE, "owner_phone": w["phone"]()}),
            expect(403, administrator=201, venue_owner=201, other_owner=201),
        ),
        (
            "GET",
            "/venues",
            None,
            expect(
                403, administrator=200, venue_owner=200, other_owner=200, venue_staff=200, other_staff=200
            ),
        ),
        (
            "GET",
            "/venues/{v}",
            None,
            expect(
                403, administrator=200, venue_owner=200, other_owner=404, venue_staff=200, other_staff=404
            ),
        ),
        (
            "POST",
            "/venues/{v}/entrances",
            lambda w: (f"/venues/{w['v']}/entrances", {"name": w["name"]()}),
            MANAGE_CREATE,
        ),
        ("GET", "/venues/{v}/staff", None, MANAGE),
        (
            "POST",
            "/venues/{v}/staff",
            lambda w: (
                f"/venues/{w['v']}/staff",
                {"name": "S", "username": w["name"](), "password": "correct horse"},
            ),
            MANAGE_CREATE,
        ),
        (
            "DELETE",
            "/venues/{v}/staff/{account_id}",
            lambda w: (f"/venues/{w['v']}/staff/{_staff(w)}", None),
            {**MANAGE, "administrator": 204, "venue_owner": 204},
        ),
        ("POST", "/venues/{v}/code/withdraw", None, MANAGE),
        ("GET", "/venues/{v}/poster?format=png", None, MANAGE),
        (
            "POST",
            "/venues/{v}/scans",
            lambda w: (f"/venues/{w['v']}/scans", {"phone": "0987654321", "at": w["at"]()}),
            SCAN,
        ),
        ("GET", "/venues/{v}/visits", None, HISTORY),
        ("GET", "/venues/{v}/counts", None, HISTORY),
        (
            "POST",
            "/checkins",
            lambda w: ("/checkins", {"venue_code": w["code"](), "qid": w["qid"], "at": w["at"]()}),
            expect(403, platform=201, citizen=201),
        ),
        (
            "POST",
            "/scan-batches",
            lambda w: (
                "/scan-batches",
                {
                    "venue_id": w["v"],
                    "device_id": "d",
                    "scans": [{"idempotency_key": w["name"](), "at": w["at"](), "phone": "0987654321"}],
                },
            ),
            expect(403, venue_owner=200, other_owner=404, venue_staff=200, other_staff=404),
        ),
    ]
]


def test_every_venue_route_is_in_the_matrix(app):
    routes = matrix.api_routes(app, ("/venues", "/checkins", "/scan-batches"))
    assert len(routes) >= 14
    assert routes == matrix.covered(MATRIX, {"{v}": "{venue_id}"})


def test_role_by_venue_endpoint_matrix(ctx, make_venue, make_platform, make_user, client_for, person):
    a, b = make_venue("shop", "A"), make_venue("shop", "B")
    someone = person()
    counter = iter(range(10**6))
    clients: dict[str, Any] = {
        "anonymous": client_for(None),
        "administrator": make_user("administrator"),
        "platform": someone["platform"],
        "venue_owner": a.owner,
        "other_owner": b.owner,
        "venue_staff": a.staff,
        "other_staff": b.staff,
        "health_official": make_user("health_official"),
        "citizen": make_user("citizen", qid=someone["qid"]),
        "assessor": make_user("assessor"),
    }

    def new_staff() -> str:
        return a.owner.add_venue_staff(a.id, "Temp", f"tmp{next(counter)}", "correct horse")["account_id"]

    def minute() -> str:
        n = next(counter)
        return local_time(1, 8 + n // 60 % 12, n % 60)

    world: dict[str, Any] = {
        "v": a.id,
        "qid": someone["qid"],
        "new_staff": new_staff,
        "name": lambda: f"n{next(counter)}",
        "phone": lambda: f"09{secrets.randbelow(10**8):08d}",
        "code": lambda: a.owner.venue(a.id)["code"],
        "at": minute,
    }
    failures = matrix.run_matrix(MATRIX, clients, world, lambda t: t.format(v=a.id))
    assert not failures, "\n".join(failures)


def test_removed_staff_can_no_longer_scan(world):
    staff_id = world.owner.venue_staff(world.id)[0]["account_id"]
    assert world.staff.scan(world.id, phone="0987654321")["direction"] == "in"
    world.owner.remove_venue_staff(world.id, staff_id)
    response = world.staff.raw("POST", f"/venues/{world.id}/scans", json={"phone": "0987654322"})
    assert response.status_code == 401
    assert world.owner.venue_staff(world.id) == []
