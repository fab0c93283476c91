"""Schema-driven requests for every role against the served OpenAPI document (issue 10, finding 8).

schemathesis generates requests the schema allows and requests it forbids, for every operation, as
each role; the six named checks must hold (no 5xx; only documented statuses, content types and
headers; bodies matching their schemas; forbidden data refused). Each role gets a fresh world,
since the requests change it (they log out, revoke keys, withdraw codes).
"""

from __future__ import annotations

import pytest

from tests.support import TEST_PASSWORDS, test_settings
from unifiedqr.api.app import create_app
from unifiedqr.selfcheck.schema import run_schema_checks
from unifiedqr.selfcheck.world import build_world

ROLES = [
    "anonymous",
    "administrator",
    "platform",
    "venue_owner",
    "venue_staff",
    "health_official",
    "assessor",
    "citizen",
]


@pytest.mark.parametrize("role", ROLES)
def test_the_api_keeps_its_openapi_promises(role: str, tmp_path) -> None:
    world = build_world(test_settings(f"sqlite:///{tmp_path / 'x.sqlite'}", tmp_path / "s"))
    try:
        assert world.ctx.settings.passwords == TEST_PASSWORDS
        report = run_schema_checks(create_app(world.ctx), {role: world.credentials[role]}, examples=3)
    finally:
        world.close()
    assert report.operations >= 30 and report.calls >= 3 * report.operations
    assert report.failures == [], "\n".join(f"{f.operation}: {f.detail}" for f in report.failures)
