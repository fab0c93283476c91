"""The conformance rows of the authorisation matrix: every role against every ``/conformance`` endpoint.

The public list is for everyone, credentials or not. The assessments are the assessment centre's:
assessors and administrators (``any:assessments:manage``); every other role gets 403, anonymous 401.
The permission covers every app, so there is no scope to fall outside: an unknown assessment is 404
for those who hold it. A new endpoint without a row fails ``test_every_conformance_route_is_in_the_matrix``.
"""

from __future__ import annotations

import itertools
from typing import Any

from tests import matrix
from tests.matrix import Row
from tests.support import OPERATOR
from unifiedqr.services import accounts, assessments, registry

from .records import make_record

ROLES = [
    "anonymous",
    "administrator",
    "assessor",
    "platform",
    "venue_owner",
    "health_official",
    "citizen",
]
BASE = "/conformance/assessments"


def expect(default: int, **by_role: int) -> dict[str, int]:
    return matrix.expect(ROLES, default, **by_role)


def _pending(w: dict[str, Any]) -> str:
    return w["submit"]().assessment_id


def _approved(w: dict[str, Any]) -> str:
    assessment_id = _pending(w)
    assessments.decide(w["ctx"], OPERATOR, assessment_id, assessments.Decision("approved", ("ok",)))
    return assessment_id


MATRIX: list[Row] = [
    Row(*r)
    for r in [
        ("GET", "/conformance/apps", None, expect(200, anonymous=200)),
        (
            "POST",
            BASE,
            lambda w: (BASE, w["record"]()),
            expect(403, administrator=201, assessor=201),
        ),
        ("GET", BASE, None, expect(403, administrator=200, assessor=200)),
        ("GET", BASE + "/{a}", None, expect(403, administrator=200, assessor=200)),
        (
            "POST",
            BASE + "/{a}/decision",
            lambda w: (f"{BASE}/{_pending(w)}/decision", {"decision": "rejected", "reasons": ["no"]}),
            expect(403, administrator=200, assessor=200),
        ),
        (
            "POST",
            BASE + "/{a}/withdrawal",
            lambda w: (f"{BASE}/{_approved(w)}/withdrawal", {"reasons": ["recalled"]}),
            expect(403, administrator=200, assessor=200),
        ),
    ]
]


def test_every_conformance_route_is_in_the_matrix(app: Any) -> None:
    routes = matrix.api_routes(app, ("/conformance",))
    assert len(routes) == 6
    assert routes == matrix.covered(MATRIX, {"{a}": "{assessment_id}"})


def _person(ctx: Any) -> str:
    """A registered person's QID (for the citizen's account)."""
    created = accounts.create_platform(ctx, OPERATOR, "Registrar")
    registration = registry.Registration("001093029317", "Nguyễn Lê Kha Hân", "1987-01-18")
    return registry.register(ctx, ctx.credential(created.api_key), registration).qid


def test_role_by_conformance_endpoint_matrix(ctx, make_platform, make_user, client_for) -> None:
    versions = itertools.count()

    def record() -> dict[str, Any]:
        return make_record(ctx, version=f"1.{next(versions)}")

    def submit() -> assessments.Submitted:
        return assessments.submit_document(ctx, OPERATOR, record())

    world: dict[str, Any] = {"ctx": ctx, "record": record, "submit": submit, "a": submit().assessment_id}
    clients: dict[str, Any] = {
        "anonymous": client_for(None),
        "administrator": make_user("administrator"),
        "assessor": make_user("assessor"),
        "platform": make_platform("P"),
        "venue_owner": make_user("venue_owner"),
        "health_official": make_user("health_official"),
        "citizen": make_user("citizen", qid=_person(ctx)),
    }
    failures = matrix.run_matrix(MATRIX, clients, world, lambda t: t.replace("{a}", world["a"]))
    assert failures == [], "\n".join(failures)


def test_holding_the_permission_an_unknown_assessment_is_404(make_user) -> None:
    for role in ("administrator", "assessor"):
        client = make_user(role)
        for method, path, body in [
            ("GET", f"{BASE}/asm_unknown", None),
            ("POST", f"{BASE}/asm_unknown/decision", {"decision": "rejected", "reasons": ["x"]}),
            ("POST", f"{BASE}/asm_unknown/withdrawal", {"reasons": ["x"]}),
        ]:
            response = client.raw(method, path, json=body) if body else client.raw(method, path)
            assert response.status_code == 404, (role, method, path, response.text)
            assert response.json()["field"] == "assessment_id"
