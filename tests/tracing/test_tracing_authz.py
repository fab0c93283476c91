"""The tracing rows of the authorisation matrix: every role against every tracing endpoint, real app.

Health officials and tracers trace; only officials export; administrators, platforms, venue owners,
staff and citizens get 403. A platform reads and acknowledges only its own outbox (another
platform's notification is 404). A new tracing endpoint without a row fails the coverage test.
"""

from __future__ import annotations

from typing import Any

from tests import matrix
from tests.matrix import Row
from tests.tracing.tracing_helpers import local, rfc

ROLES = [
    "anonymous",
    "administrator",
    "platform",
    "other_platform",
    "venue_owner",
    "venue_staff",
    "health_official",
    "tracer",
    "citizen",
]


def expect(default: int, **by_role: int) -> dict[str, int]:
    return matrix.expect(ROLES, default, **by_role)


TRACE = expect(403, health_official=200, tracer=200)
OPEN = expect(403, health_official=201, tracer=201)
NOTICES = expect(403, platform=200, other_platform=404)


def _case_body(w: dict[str, Any]) -> dict[str, Any]:
    return {"qid": w["case_qid"], "window_start": rfc(local(6, 0)), "window_end": rfc(local(1, 0))}


def _fresh_case(w: dict[str, Any], closed: bool = False) -> str:
    case_id = w["official"].raw("POST", "/tracing/cases", json=_case_body(w)).json()["case_id"]
    if closed:
        w["official"].raw("POST", f"/tracing/cases/{case_id}/close", json={"reason": "done"})
    return str(case_id)


MATRIX: list[Row] = [
    Row(*r)
    for r in [
        ("POST", "/tracing/cases", lambda w: ("/tracing/cases", _case_body(w)), OPEN),
        ("GET", "/tracing/cases", None, TRACE),
        ("GET", "/tracing/window?onset=2021-10-05&isolation=2021-10-09T08:00:00%2B07:00", None, TRACE),
        ("GET", "/tracing/cases/{c}", None, TRACE),
        (
            "POST",
            "/tracing/cases/{c}/close",
            lambda w: (f"/tracing/cases/{_fresh_case(w)}/close", {"reason": "isolated"}),
            TRACE,
        ),
        (
            "POST",
            "/tracing/cases/{c}/reopen",
            lambda w: (f"/tracing/cases/{_fresh_case(w, closed=True)}/reopen", {"reason": "new facts"}),
            TRACE,
        ),
        ("GET", "/tracing/cases/{c}/candidates", None, TRACE),
        (
            "POST",
            "/tracing/cases/{c}/candidates/{candidate}/decision",
            lambda w: (
                f"/tracing/cases/{w['c']}/candidates/{w['contact_qid']}/decision",
                {"decision": "confirmed", "reason": "same table"},
            ),
            TRACE,
        ),
        ("GET", "/tracing/cases/{c}/candidates.csv", None, expect(403, health_official=200)),
        ("GET", "/tracing/cases/{c}/rings", None, TRACE),
        ("GET", "/tracing/cases/{c}/venues", None, TRACE),
        ("GET", "/tracing/cases/{c}/graph?format=svg", None, TRACE),
        ("GET", "/tracing/cases/{c}/venues/{v}/timeline?format=svg", None, TRACE),
        (
            "POST",
            "/tracing/cases/{c}/notifications",
            lambda w: (f"/tracing/cases/{w['c']}/notifications", {"candidates": [w["contact_qid"]]}),
            expect(403, health_official=201, tracer=201),
        ),
        ("GET", "/tracing/cases/{c}/notifications", None, TRACE),
        ("GET", "/tracing/notifications", None, NOTICES | {"other_platform": 200}),
        ("POST", "/tracing/notifications/{n}/ack", None, NOTICES),
    ]
]


def test_every_tracing_route_is_in_the_matrix(app):
    routes = matrix.api_routes(app, ("/tracing",))
    assert len(routes) >= 17
    rename = {
        "{c}": "{case_id}",
        "{candidate}": "{candidate_id}",
        "{v}": "{venue_id}",
        "{n}": "{notification_id}",
    }
    assert routes == matrix.covered(MATRIX, rename)


def test_role_by_tracing_endpoint_matrix(tw, make_platform, make_user, make_venue, client_for):
    case, contact = tw.person(), tw.person()
    tw.scan("A", case, local(3, 10))
    tw.scan("A", contact, local(3, 10, 20))
    venue = tw.venue("A")
    official = tw.official
    opened = tw.open_case(case, local(6, 0), local(1, 0))
    path = f"/tracing/cases/{opened['case_id']}"
    decided = official.raw(
        "POST", f"{path}/candidates/{contact['qid']}/decision", json={"decision": "confirmed", "reason": "r"}
    )
    assert decided.status_code == 200, decided.text
    sent = official.raw("POST", f"{path}/notifications", json={}).json()["notifications"]
    clients: dict[str, Any] = {
        "anonymous": client_for(None),
        "administrator": make_user("administrator"),
        "platform": contact["platform"],
        "other_platform": make_platform("Other"),
        "venue_owner": venue.owner,
        "venue_staff": venue.staff,
        "health_official": make_user("health_official"),
        "tracer": make_user("tracer"),
        "citizen": make_user("citizen", qid=contact["qid"]),
    }
    world: dict[str, Any] = {
        "official": official,
        "case_qid": case["qid"],
        "contact_qid": contact["qid"],
        "c": opened["case_id"],
    }

    def fill(template: str) -> str:
        return template.format(
            c=opened["case_id"], v=venue.id, n=sent[0]["notification_id"], candidate=contact["qid"]
        )

    failures = matrix.run_matrix(MATRIX, clients, world, fill)
    assert not failures, "\n".join(failures)


def test_tracer_accounts_can_be_created_from_the_host(tmp_path):
    from click.testing import CliRunner

    from unifiedqr.cli import main

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    env = {"UNIFIEDQR_DATA_DIR": str(tmp_path / "secrets"), "UNIFIEDQR_PASSWORD_MEMORY_KIB": "64"}
    args = ["admin", "create-user", "--role", "tracer", "--name", "T", "--username", "tracer1"]
    result = CliRunner().invoke(
        main,
        [*args, "--password-stdin", "--database-url", url],
        input="correct horse\n",
        env=env,
    )
    assert result.exit_code == 0, result.output
    assert '"role": "tracer"' in result.output
