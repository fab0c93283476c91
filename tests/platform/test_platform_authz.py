"""The authorisation matrix: every role against every endpoint, through the real app.

Expected: 401 without credentials; 403 when the role lacks the permission for the endpoint at all;
404 when it holds the permission but the object is outside its scope (another platform's person,
another citizen's record), so existence is never revealed. A new endpoint without a row here fails
``test_every_route_is_in_the_matrix``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from platform_helpers import person_body
from tests import matrix
from tests.matrix import Row
from tests.support import OPERATOR

from unifiedqr.services import accounts

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
    "assessor",
]

HEALTH = {"address": {"province": "Hà Nội", "district": "Hoàn Kiếm"}, "symptoms": {"fever": True}}
TODAY = dt.date.today().isoformat()
MOVE = {
    "origin": {"province": "Hà Nội", "district": "Hoàn Kiếm"},
    "destination": {"province": "Đà Nẵng", "district": "Hải Châu"},
    "transport": "train",
    "departure_date": TODAY,
    "arrival_date": TODAY,
}
CARD = "0{doc}|{old}|Lê Thị Mai|09031950|Nữ|Hà Nội|01012021"


def expect(default: int, **by_role: int) -> dict[str, int]:
    return matrix.expect(ROLES, default, **by_role)


PEOPLE_READ = expect(
    403,
    administrator=200,
    platform=200,
    other_platform=404,
    health_official=200,
    citizen=200,
    other_citizen=404,
)
DECLARE = expect(403, platform=201, other_platform=404, citizen=201, other_citizen=404)
DECL_READ = expect(403, platform=200, other_platform=404, health_official=200, citizen=200, other_citizen=404)
KEYS = expect(403, administrator=200, platform=200, other_platform=404)

#: (method, path, body or callable(world) -> (path, body), expectations)
MATRIX: list[Row] = [
    Row(*r)
    for r in [
        ("GET", "/health", None, expect(200, anonymous=200)),
        ("GET", "/ready", None, expect(200, anonymous=200)),
        ("GET", "/trust-list", None, expect(200, anonymous=200)),
        ("GET", "/me", None, expect(200)),
        ("GET", "/me/household", None, expect(403, citizen=200, other_citizen=200)),
        (
            "POST",
            "/people",
            lambda w: ("/people", person_body()),
            expect(403, platform=201, other_platform=201),
        ),
        (
            "POST",
            "/people/from-cccd",
            lambda w: ("/people/from-cccd", {"cccd_qr": w["card"]()}),
            expect(403, platform=201, other_platform=201),
        ),
        ("GET", "/people/{qid}?purpose=treatment", None, PEOPLE_READ),
        ("GET", "/people/{qid}/code", None, PEOPLE_READ),
        (
            "PATCH",
            "/people/{qid}",
            {"gender": "male"},
            expect(403, administrator=200, platform=200, other_platform=404),
        ),
        ("POST", "/people/{qid}/health-declarations", HEALTH, DECLARE),
        ("POST", "/people/{qid}/movement-declarations", MOVE, DECLARE),
        ("GET", "/people/{qid}/declarations?purpose=investigation", None, DECL_READ),
        ("POST", "/platforms", {"name": "New"}, expect(403, administrator=201)),
        ("GET", "/platforms/{platform_id}/api-keys", None, KEYS),
        (
            "POST",
            "/platforms/{platform_id}/api-keys",
            {"label": "rotation"},
            expect(403, administrator=201, platform=201, other_platform=404),
        ),
        (
            "DELETE",
            "/platforms/{platform_id}/api-keys/{api_key_id}",
            lambda w: (f"/platforms/{w['platform_id']}/api-keys/{w['spare_key']()}", None),
            expect(403, administrator=204, platform=204, other_platform=404),
        ),
        (
            "POST",
            "/accounts",
            lambda w: (
                "/accounts",
                {
                    "role": "health_official",
                    "name": "N",
                    "username": w["username"](),
                    "password": "correct horse",
                },
            ),
            expect(403, administrator=201),
        ),
    ]
]
#: exercised in their own tests (they change the caller's credentials or need none; the consent
#: endpoints have their own matrix in test_consents.py)
ELSEWHERE = {
    ("POST", "/auth/token"),
    ("POST", "/auth/logout"),
    ("POST", "/me/password"),  # tests/platform/test_password_change.py
    ("GET", "/me/consents"),
    ("POST", "/me/consents/{consent_id}/approve"),
    ("POST", "/me/consents/{consent_id}/refuse"),
}
#: the look-up issue's endpoints have their matrix in tests/access/test_access_authz.py
ELSEWHERE |= {("POST", "/people/{qid}/health-records"), ("GET", "/me/access-log")}


PREFIXES = ("/health", "/ready", "/trust-list", "/me", "/people", "/platforms", "/accounts", "/auth")


def test_every_route_is_in_the_matrix(app):
    routes = matrix.api_routes(app, PREFIXES)
    assert len(routes) >= 18
    assert routes - (matrix.covered(MATRIX) | ELSEWHERE) == set(), "add these endpoints to the matrix"


def test_role_by_endpoint_matrix(ctx, make_platform, make_user, client_for):
    platform = make_platform("P")
    other_platform = make_platform("Q")
    subject = platform.register(**person_body())
    other = platform.register(**person_body(full_name="Tran Van Binh"))
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
        "assessor": make_user("assessor"),  # the conformance centre: no one's data, no accounts
    }
    counter = iter(range(10**6))

    def spare_key() -> str:
        return accounts.add_api_key(ctx, OPERATOR, platform.platform_id).api_key_id

    def card() -> str:
        n = next(counter)
        return CARD.format(doc=f"{n + 10**10:011d}", old=f"{n + 10**8:09d}")

    world: dict[str, Callable[[], str] | str] = {
        "qid": subject["qid"],
        "platform_id": platform.platform_id,
        "spare_key": spare_key,
        "card": card,
        "username": lambda: f"user{next(counter)}",
    }
    fill = lambda t: t.format(qid=subject["qid"], platform_id=platform.platform_id, api_key_id="x")  # noqa: E731
    failures = matrix.run_matrix(MATRIX, clients, world, fill)
    assert not failures, "\n".join(failures)
