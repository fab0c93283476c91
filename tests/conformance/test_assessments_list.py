"""The published list under change: concurrent decisions, and key rotation and revocation.

Decisions made at once (threads; on PostgreSQL truly concurrent transactions) each publish one list
with its own sequence and lose nothing; two approvals of one app leave exactly one version listed. A
rotated or revoked issuing key gets the list signed again with the current key on the next read, so
the served copy always verifies against the served trust list.
"""

from __future__ import annotations

import datetime as dt
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.support import OPERATOR, open_test_services
from unifiedqr.codes.signing import Status
from unifiedqr.codes.trust import SigningKey
from unifiedqr.conformance.public_list import verify_list
from unifiedqr.errors import Conflict
from unifiedqr.services import assessments, conformance_list
from unifiedqr.services.context import Services
from unifiedqr.services.keys import revoke_key, rotate_key, trust_list

from .records import AT, NAME, make_record

APPROVE = assessments.Decision("approved", ("conforms",))


def _submitted(ctx: Services, **fields: object) -> str:
    return assessments.submit_document(ctx, OPERATOR, make_record(ctx, **fields)).assessment_id


def _served(ctx: Services) -> dict[str, object]:
    published = conformance_list.current(ctx)
    document: dict[str, object] = json.loads(published.document)
    return document


def test_concurrent_decisions_each_publish_once(ctx: Services) -> None:
    ids = [_submitted(ctx, name=f"App {i}") for i in range(8)]
    with ThreadPoolExecutor(8) as pool:
        done = list(pool.map(lambda i: assessments.decide(ctx, OPERATOR, i, APPROVE), ids))
    assert sorted(d.list_sequence or 0 for d in done) == list(range(1, 9))
    document = _served(ctx)
    assert document["sequence"] == 8 and len(document["apps"]) == 8
    assert verify_list(document, trust_list(ctx.db), ctx.now()).valid


def test_two_approvals_of_one_app_at_once_list_one_version(ctx: Services) -> None:
    older = _submitted(ctx, version="1.0")
    newer = _submitted(ctx, version="1.1", at=AT + dt.timedelta(hours=1))

    def approve(assessment_id: str) -> str:
        try:
            return assessments.decide(ctx, OPERATOR, assessment_id, APPROVE).decision
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(approve, [older, newer]))
    assert outcomes in (["approved", "approved"], ["conflict", "approved"])  # in either order
    listed = [(a["name"], a["version"]) for a in _served(ctx)["apps"]]
    assert listed == [(NAME, "1.1")]
    states = {v.assessment_id: v.decision for v in assessments.list_assessments(ctx, OPERATOR)}
    assert states[newer] == "approved" and states[older] in ("superseded", "pending")


def test_rotation_and_revocation_sign_the_list_again(tmp_path: Path) -> None:
    keys = tmp_path / "secrets" / "issuing-keys"
    keys.mkdir(parents=True)
    yesterday = SigningKey.generate("Nền tảng (thử)", dt.datetime.now(dt.UTC) - dt.timedelta(days=1), 30)
    (keys / f"{yesterday.key_id}.json").write_text(json.dumps(yesterday.to_json()), encoding="utf-8")
    ctx = open_test_services(f"sqlite:///{tmp_path / 'p.sqlite'}", tmp_path / "secrets")
    try:
        assessments.decide(ctx, OPERATOR, _submitted(ctx), APPROVE)
        first = conformance_list.current(ctx)
        assert first.sequence == 1 and conformance_list.current(ctx) == first
        old_key = first.key_id
        new_key = rotate_key(ctx, OPERATOR).key_id
        second = conformance_list.current(ctx)
        assert (second.sequence, second.key_id) == (2, new_key)
        document = json.loads(second.document)
        assert (
            document["signature"]["kid"] == new_key and document["apps"] == json.loads(first.document)["apps"]
        )
        revoke_key(ctx, OPERATOR, old_key)
        # the old copy no longer verifies; the served one does, against the served trust list
        trust = trust_list(ctx.db)
        assert verify_list(json.loads(first.document), trust, ctx.now()).status is Status.KEY_REVOKED
        assert verify_list(document, trust, ctx.now()).valid
        assert conformance_list.current(ctx).sequence == 2  # nothing changed since: not re-signed
    finally:
        ctx.close()
