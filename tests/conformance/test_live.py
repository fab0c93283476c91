"""Live integration checks against a real platform (the app on 127.0.0.1, temporary SQLite), and
against services that break the contract (httpx mock transports)."""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from tests.support import OPERATOR, create_account, open_test_services
from unifiedqr.client import Client
from unifiedqr.codes.trust import TrustList
from unifiedqr.conformance.assess import assess
from unifiedqr.conformance.evidence import Account, Evidence
from unifiedqr.conformance.live import run_live

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from unifiedqr.api.app import create_app
from unifiedqr.services import accounts


class Sandbox:
    def __init__(self, url: str, api_key: str, venue_code: str, trust: TrustList, known_qid: str) -> None:
        self.url, self.api_key, self.venue_code, self.trust, self.known_qid = (
            url,
            api_key,
            venue_code,
            trust,
            known_qid,
        )

    def account(self, **changes: Any) -> Account:
        return Account(
            **{"base_url": self.url, "api_key": self.api_key, "venue_code": self.venue_code, **changes}
        )


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    root: Path = tmp_path_factory.mktemp("sandbox")
    ctx = open_test_services(f"sqlite:///{root / 'sandbox.sqlite'}", root)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(ctx), host="127.0.0.1", port=0, log_level="warning", lifespan="off", loop="asyncio"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
    platform = accounts.create_platform(ctx, OPERATOR, "App under assessment")
    password = secrets.token_urlsafe(12)
    create_account(ctx, role="venue_owner", name="Chủ quán", username="owner", password=password)
    with Client(url) as owner:
        owner.login("owner", password)
        venue = owner.register_venue(
            name="Quán Thử",
            type="shop",
            province="Hà Nội",
            district="Hoàn Kiếm",
            commune="Hàng Bạc",
            street="1 Hàng Bạc",
            owner_phone="0912345678",
        )
    with Client(url, platform.api_key) as app:
        known = app.register(
            document_number="001093029317", full_name="Nguyễn Lê Kha Hân", birth_date="1987-01-18"
        )
        trust = TrustList.from_json(app.trust_list())
    yield Sandbox(url, platform.api_key, venue["code"], trust, known["qid"])
    server.should_exit = True
    thread.join(timeout=10)
    ctx.close()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def test_every_call_meets_the_contract_of_the_real_platform(sandbox: Sandbox) -> None:
    calls, findings = run_live(sandbox.account(), sandbox.trust, now(), [sandbox.known_qid])
    assert [(c.name, c.met) for c in calls if not c.met] == []
    assert [c.name for c in calls] == [
        "health",
        "register",
        "register_again",
        "register_invalid",
        "fetch_code",
        "fetch_safe_code",
        "unknown_person",
        "no_credentials",
        "checkin",
        "checkin_retry",
        "checkin_forged_venue",
        "registry_lookup",
    ]
    assert [(f.code.value, f.severity.value) for f in findings] == [("LIVE_PASSED", "info")]
    assert all(sandbox.api_key not in c.detail + c.path for c in calls)


def test_without_a_venue_code_check_ins_are_not_tried_and_unknown_qids_are_warned(sandbox: Sandbox) -> None:
    calls, findings = run_live(sandbox.account(venue_code=None), sandbox.trust, now(), ["123456789012345678"])
    assert not any(c.name.startswith("checkin") for c in calls)
    assert {f.code.value for f in findings} == {
        "LIVE_CHECKINS_NOT_RUN",
        "REGISTRY_QID_UNKNOWN",
        "LIVE_PASSED",
    }


def test_a_wrong_key_or_a_foreign_trust_list_fails_the_calls(sandbox: Sandbox) -> None:
    _, findings = run_live(sandbox.account(api_key="uqr_wrong"), sandbox.trust, now())
    assert {f.details.get("call") for f in findings if f.code.value == "LIVE_CALL_FAILED"} == {"register"}
    _, findings = run_live(sandbox.account(), TrustList(), now())
    failed = {f.details.get("call") for f in findings if f.code.value == "LIVE_CALL_FAILED"}
    assert "register" in failed  # the payload does not verify against that trust list


def test_an_unreachable_sandbox() -> None:
    _calls, findings = run_live(Account("http://127.0.0.1:9", "uqr_x"), TrustList(), now())
    assert [f.code.value for f in findings] == ["LIVE_UNREACHABLE"]


def _sloppy_service(request: httpx.Request) -> httpx.Response:
    """Answers everything with 200 and the same made-up body: no idempotency, no error handling."""
    if request.url.path.endswith("/health"):
        return httpx.Response(200, json={"status": "ok"})
    return httpx.Response(
        200, json={"qid": "1" * 18, "payload": "nonsense", "created": True, "status": "recorded"}
    )


def test_a_service_that_breaks_the_contract(sandbox: Sandbox) -> None:
    calls, findings = run_live(
        Account("http://sandbox.invalid", "k", "https://x/v/a/b.c"),
        sandbox.trust,
        now(),
        transport=httpx.MockTransport(_sloppy_service),
    )
    assert [c.name for c in calls] == ["health", "register"]  # nothing to go on without a valid code
    assert [f.code.value for f in findings if f.severity.value == "error"] == ["LIVE_CALL_FAILED"]


def test_assess_runs_the_live_checks_only_with_an_account(sandbox: Sandbox) -> None:
    evidence = Evidence("/evidence", None, {}, sandbox.account(venue_code=None), ())
    assessment = assess(evidence, sandbox.trust, now(), ocr=None, live=run_live)
    assert "LIVE_PASSED" in {f.code.value for f in assessment.findings}
    assert len(assessment.live) == 8
    skipped = assess(evidence, sandbox.trust, now(), ocr=None, live=None, live_skipped="--no-live")
    assert [f.code.value for f in skipped.findings] == ["LIVE_NOT_RUN"]
