"""The look-up rows of the authorisation matrix: role x endpoint x purpose, through the real app.

401 without credentials; 403 when the role lacks the permission (venue staff typing a QID included);
404 when it holds it but the person is outside its scope; 422 for a missing or unknown purpose where
one is required. A new endpoint of this issue without a row fails ``test_every_route_is_covered``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests import matrix
from tests.access.access_helpers import PURPOSES, days_ago, vaccination
from tests.matrix import Row

ROLES = [
    "anonymous",
    "administrator",
    "platform",
    "other_platform",
    "venue_owner",
    "venue_staff",
    "health_official",
    "citizen",
]
ROUTES = {("POST", "/lookups"), ("GET", "/me/access-log"), ("POST", "/people/{qid}/health-records")}


def expect(default: int, **by_role: int) -> dict[str, int]:
    return matrix.expect(ROLES, default, **by_role)


BY_QID = expect(403, administrator=200, platform=200, other_platform=404, health_official=200)
BY_CODE = {**BY_QID, "venue_owner": 200, "venue_staff": 200}
NO_PURPOSE = expect(422)  # the body is checked before the role: every signed-in caller gets 422
PERSON_NO_PURPOSE = expect(403, administrator=200, platform=200, other_platform=404, health_official=422)


def lookup(text_key: str, purpose: Any) -> Any:
    def build(w: dict[str, Any]) -> tuple[str, Any]:
        body = {"text": w[text_key]}
        if purpose is not None:
            body["purpose"] = purpose
        return "/lookups", body

    return build


#: In a look-up row, ``?<purpose>=<text>`` only labels the row (its request comes from the callable).
MATRIX: list[Row] = [
    *(Row("POST", f"/lookups?{p}=qid", lookup("qid", p), BY_QID) for p in PURPOSES),
    *(Row("POST", f"/lookups?{p}=code", lookup("code", p), BY_CODE) for p in PURPOSES),
    Row("POST", "/lookups?missing", lookup("code", None), NO_PURPOSE),
    Row("POST", "/lookups?unknown", lookup("code", "curiosity"), NO_PURPOSE),
    Row("GET", "/me/access-log", None, expect(403, citizen=200)),
    Row(
        "POST",
        "/people/{qid}/health-records",
        lambda w: (f"/people/{w['qid']}/health-records", vaccination(days_ago(20))),
        expect(403, health_official=201),
    ),
    Row("GET", "/people/{qid}", None, PERSON_NO_PURPOSE | {"citizen": 200}),
    Row(
        "GET",
        "/people/{qid}/declarations",
        None,
        PERSON_NO_PURPOSE | {"citizen": 200, "administrator": 403},
    ),
    *(
        Row(
            "GET",
            f"/people/{{qid}}?purpose={p}",
            None,
            {**PERSON_NO_PURPOSE, "administrator": 200, "health_official": 200, "citizen": 200},
        )
        for p in PURPOSES
    ),
]


def test_every_route_is_covered(app):
    assert matrix.api_routes(app, ("/lookups", "/me", "/people")) >= ROUTES
    assert matrix.covered(MATRIX) >= ROUTES


@pytest.mark.parametrize("chunk", [0, 1])
def test_role_by_endpoint_by_purpose(chunk, person, make_user, make_platform, world, client_for):
    subject = person()
    clients: dict[str, Any] = {
        "anonymous": client_for(None),
        "administrator": make_user("administrator"),
        "platform": subject["platform"],
        "other_platform": make_platform("Q"),
        "venue_owner": world.owner,
        "venue_staff": world.staff,
        "health_official": make_user("health_official"),
        "citizen": make_user("citizen", qid=subject["qid"]),
    }
    w = {"qid": subject["qid"], "code": subject["payload"]}
    rows = MATRIX[chunk::2]
    failures = matrix.run_matrix(rows, clients, w, lambda t: t.format(qid=subject["qid"]))
    assert not failures, "\n".join(failures)
