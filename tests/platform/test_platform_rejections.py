"""One rejection per endpoint at least (the others live beside each feature's tests), all as problem details."""

from __future__ import annotations

from platform_helpers import person_body
from test_platform_authz import PREFIXES
from tests import matrix


def test_every_endpoint_rejects_bad_requests_with_problem_details(app, make_platform, make_user, anon):
    platform = make_platform()
    admin = make_user("administrator")
    citizen_qid = platform.register(**person_body())["qid"]
    citizen = make_user("citizen", qid=citizen_qid)
    pid = platform.platform_id
    cases = [
        (anon, "POST", "/health", {}, 405, "method"),
        (anon, "DELETE", "/ready", {}, 405, "method"),
        (anon, "POST", "/trust-list", {}, 405, "method"),
        (anon, "GET", "/me", {}, 401, "Authorization"),
        (platform, "GET", "/me/household", {}, 403, "self:people:read"),
        (platform, "POST", "/people", {"json": person_body(document_number="1")}, 422, "document_number"),
        (platform, "POST", "/people/from-cccd", {"json": {"cccd_qr": "x|y"}}, 422, "cccd_qr.cccd"),
        (platform, "GET", "/people/123456789012345678", {}, 404, "qid"),
        (platform, "GET", f"/people/{citizen_qid}/code", {"params": {"masked": "perhaps"}}, 422, "masked"),
        (platform, "PATCH", f"/people/{citizen_qid}", {"json": {"gender": "x"}}, 422, "gender"),
        (
            citizen,
            "POST",
            f"/people/{citizen_qid}/health-declarations",
            {"json": {"address": 5}},
            422,
            "address",
        ),
        (citizen, "POST", f"/people/{citizen_qid}/movement-declarations", {"json": {}}, 422, "origin"),
        (citizen, "GET", f"/people/{citizen_qid}/declarations", {"params": {"kind": "x"}}, 422, "kind"),
        (admin, "POST", "/platforms", {"json": {"name": 7}}, 422, "name"),
        (admin, "GET", "/platforms/plt_nope/api-keys", {}, 404, "platform_id"),
        (admin, "POST", f"/platforms/{pid}/api-keys", {"json": {"label": "x" * 101}}, 422, "label"),
        (admin, "DELETE", f"/platforms/{pid}/api-keys/key_nope", {}, 404, "api_key_id"),
        (admin, "POST", "/accounts", {"json": {"role": "citizen"}}, 422, "name"),
        (anon, "POST", "/auth/token", {"json": {"login": "", "password": "x"}}, 422, "login"),
        (anon, "POST", "/auth/logout", {}, 401, "Authorization"),
        (citizen, "POST", "/me/password", {"json": {"current_password": "x"}}, 422, "new_password"),
        (anon, "GET", "/nowhere", {}, 404, "path"),
        (platform, "GET", "/me/consents", {}, 403, "self:consents:decide"),
        (citizen, "POST", "/me/consents/cns_nope/approve", {}, 404, "consent_id"),
        (citizen, "POST", "/me/consents/cns_nope/refuse", {}, 404, "consent_id"),
        (platform, "GET", "/me/access-log", {}, 403, "self:access_log:read"),
        (
            platform,
            "POST",
            f"/people/{citizen_qid}/health-records",
            {"json": {}},
            403,
            "any:health_records:write",
        ),
    ]
    seen = set()
    for client, method, path, kwargs, status, field in cases:
        response = client.raw(method, path, **kwargs)
        assert response.status_code == status, (method, path, response.text)
        assert response.headers["content-type"].startswith("application/problem+json"), (method, path)
        problem = response.json()
        assert problem["status"] == status and problem["field"] == field, (method, path, problem)
        assert problem["errors"][0]["reason"], (method, path)
        seen.add(
            path.replace(citizen_qid, "{qid}")
            .replace(pid, "{platform_id}")
            .replace("key_nope", "{api_key_id}")
            .replace("cns_nope", "{consent_id}")
        )
    missing = {path for _, path in matrix.api_routes(app, PREFIXES)} - seen
    assert not missing, f"endpoints without a rejection case: {missing}"
