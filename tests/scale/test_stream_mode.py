"""Stream mode end to end through the real app and NATS JetStream: 202 once durable, stored once.

The app runs its lifespan (a publisher and a consumer on its event loop) under Starlette's
TestClient; each test has its own stream, subjects and durable consumer on the shared NATS server.
"""

from __future__ import annotations

import secrets
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.support import OPERATOR, open_test_services
from tests.venues.venue_helpers import local_time
from unifiedqr.api.app import create_app
from unifiedqr.client import Client
from unifiedqr.services import accounts, registry, venues
from unifiedqr.store.ingest_models import IngestRejection
from unifiedqr.store.stream import StreamSettings
from unifiedqr.store.venue_models import ScanEvent

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.usefixtures("nats")


class Node:
    def __init__(self, ctx: Any, http: TestClient) -> None:
        self.ctx, self.http = ctx, http

    def client(self, token: str | None) -> Client:
        return Client("http://testserver", token, http=self.http)

    def stored(self) -> int:
        with self.ctx.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(ScanEvent)) or 0)

    def wait_until(self, condition: Any, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert time.monotonic() < deadline, "the consumer did not store in time"
            time.sleep(0.05)


@pytest.fixture
def node(tmp_path) -> Iterator[Node]:
    tag = secrets.token_hex(4)
    stream = StreamSettings(
        url="nats://127.0.0.1:4222", stream=f"TEST_{tag}", subject=f"test.{tag}", durable=f"w{tag}"
    )
    ctx = open_test_services(f"sqlite:///{tmp_path / 'node.sqlite'}", tmp_path / "s", ingest=stream)
    app = create_app(ctx)
    with TestClient(app, base_url="http://testserver", raise_server_exceptions=False) as http:
        yield Node(ctx, http)
        import asyncio

        async def drop() -> None:
            import nats

            nc = await nats.connect(stream.url)
            await nc.jetstream().delete_stream(stream.stream)
            await nc.close()

        asyncio.run(drop())


@pytest.fixture
def world(node: Node) -> dict[str, Any]:
    ctx = node.ctx
    venue = venues.register(
        ctx, OPERATOR, venues.VenueRegistration("Chợ", "market", "HN", "HK", "HB", "1", "0911111111")
    )
    venues.add_staff(ctx, OPERATOR, venue.venue_id, name="Gate", username="gate", password="correct horse")
    staff = node.client(None)
    staff.login("gate", "correct horse")
    owner = node.client(None)
    owner.login("0911111111", venue.owner_password or "")
    platform_key = accounts.create_platform(ctx, OPERATOR, "App").api_key
    person = registry.register(
        ctx,
        ctx.credential(platform_key),
        registry.Registration("001093029317", "Nguyễn Lê Kha Hân", "1987-01-18"),
    )
    return {
        "venue": venue,
        "staff": staff,
        "owner": owner,
        "platform": node.client(platform_key),
        "person": person,
    }


def test_a_scan_is_accepted_then_stored_once_whatever_the_retries(node, world):
    venue, staff = world["venue"], world["staff"]
    body = {"text": world["person"].payload, "idempotency_key": "door-1", "at": local_time(0, 0, 1)}
    first = staff.raw("POST", f"/venues/{venue.venue_id}/scans", json=body)
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["status"] == "accepted" and answer["idempotency_key"] == "door-1"
    assert answer["verification"] == "valid" and "direction" not in answer, "nothing the node cannot know"
    assert staff.raw("POST", f"/venues/{venue.venue_id}/scans", json=body).status_code == 202  # a retry
    node.wait_until(lambda: node.stored() == 1)
    time.sleep(0.5)
    assert node.stored() == 1, "the retry is stored once"
    generated = staff.raw("POST", f"/venues/{venue.venue_id}/scans", json={"phone": "0987654321"})
    assert generated.status_code == 202 and generated.json()["idempotency_key"].startswith("n-")
    node.wait_until(lambda: node.stored() == 2)


def test_a_batch_is_checked_item_by_item_and_drained(node, world):
    venue, staff = world["venue"], world["staff"]
    scans = [
        {"idempotency_key": f"b{i}", "at": local_time(1, 9, i), "phone": f"09876543{i:02d}"} for i in range(5)
    ] + [{"idempotency_key": "late", "at": "2999-01-01T00:00:00Z", "phone": "0987654399"}]
    answer = staff.raw(
        "POST", "/scan-batches", json={"venue_id": venue.venue_id, "device_id": "gate-1", "scans": scans}
    )
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["accepted"], body["rejected"]) == (5, 1)
    assert [r["status"] for r in body["results"]] == ["accepted"] * 5 + ["rejected"]
    node.wait_until(lambda: node.stored() == 5)


def test_what_the_database_refuses_is_listed_with_its_reason(node, world):
    venue, platform = world["venue"], world["platform"]
    code = world["owner"].venue(venue.venue_id)["code"]
    stranger = "123456789012345678"  # a QID the platform never obtained
    accepted = platform.raw(
        "POST", "/checkins", json={"venue_code": code, "qid": stranger, "idempotency_key": "c1"}
    )
    assert accepted.status_code == 202, accepted.text

    def refused() -> bool:
        with node.ctx.db.read() as session:
            return bool(session.scalar(select(func.count()).select_from(IngestRejection)))

    node.wait_until(refused)
    mine = platform.raw("GET", "/checkins/rejections").json()["rejections"]
    assert [(r["idempotency_key"], r["field"]) for r in mine] == [("c1", "qid")]
    seen = world["owner"].raw("GET", f"/venues/{venue.venue_id}/rejections").json()["rejections"]
    assert [r["idempotency_key"] for r in seen] == ["c1"]
    assert world["staff"].raw("GET", f"/venues/{venue.venue_id}/rejections").status_code == 403


def test_metrics_show_the_stream(node, world):
    text = node.client(None).raw("GET", "/metrics").text
    assert 'stream="1"' in text and "unifiedqr_ingest_published_total" in text
