"""Duplicate registration races through a real uvicorn server: two platforms, one document, one QID."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from platform_helpers import new_document
from sqlalchemy import func, select
from tests.support import OPERATOR

from unifiedqr.services import accounts
from unifiedqr.store.models import Person, PersonDocument, PersonPlatform


def test_concurrent_duplicate_registrations_end_with_one_qid(ctx, live_url):
    keys = [accounts.create_platform(ctx, OPERATOR, name).api_key for name in ("A", "B", "C", "D")]
    rounds, per_round = 4, 16
    for _ in range(rounds):
        document = new_document()
        barrier = threading.Barrier(per_round)

        def register(
            index: int, document: str = document, barrier: threading.Barrier = barrier
        ) -> httpx.Response:
            with httpx.Client(base_url=live_url, timeout=30) as http:
                body = {
                    "document_number": document,
                    "full_name": "Nguyễn Văn Đua",
                    "birth_date": "1990-01-01",
                }
                headers = {"Authorization": f"Bearer {keys[index % len(keys)]}"}
                barrier.wait()
                return http.post("/api/v1/people", json=body, headers=headers)

        with ThreadPoolExecutor(per_round) as pool:
            responses = list(pool.map(register, range(per_round)))
        # The winner's platform creates (201) and finds (200); the others must ask the holder (202).
        statuses = sorted(r.status_code for r in responses)
        mine = per_round // len(keys)
        assert statuses == [200] * (mine - 1) + [201] + [202] * (per_round - mine), statuses
        issued = [r.json() for r in responses if r.status_code != 202]
        assert len({r["qid"] for r in issued}) == 1
        assert len({r["payload"] for r in issued}) == 1
    with ctx.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == rounds
        assert session.scalar(select(func.count()).select_from(PersonDocument)) == rounds
        assert session.scalar(select(func.count()).select_from(PersonPlatform)) == rounds
