"""The scale tests need NATS with JetStream on 127.0.0.1:4222 (``.ci/run`` starts it)."""

from __future__ import annotations

import pytest

from tests.support import answers, missing_service


@pytest.fixture
def nats() -> None:
    if not answers(4222):
        missing_service("NATS does not answer on 127.0.0.1:4222")
