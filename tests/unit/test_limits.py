"""The one rate limiter (issue 10 #2): a sliding window, in this process or in Redis, same semantics."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Iterator

import pytest

from tests.support import missing_service
from unifiedqr.config import Rate
from unifiedqr.errors import TooManyRequests
from unifiedqr.services.limits import Limiter, MemoryBackend, RedisBackend

REDIS_URL = "redis://127.0.0.1:6379/0"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _digest(text: str) -> bytes:
    import hashlib

    return hashlib.sha256(("test-" + text).encode()).digest()


def _redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def limiter(request: pytest.FixtureRequest) -> Iterator[tuple[Limiter, Clock]]:
    clock = Clock()
    if request.param == "memory":
        made = Limiter(MemoryBackend(), _digest, clock)
    else:
        if not _redis_answers():
            missing_service("Redis on 127.0.0.1:6379 does not answer")
        salt = secrets.token_hex(4)  # keys of their own: other test runs may share this Redis
        made = Limiter(RedisBackend(REDIS_URL), lambda t: _digest(salt + t), clock)
    yield made, clock
    made.clear()
    made.close()


def test_the_window_slides_and_refusals_are_not_counted(limiter):
    limits, clock = limiter
    rate = Rate(10, 900)
    for i in range(10):
        assert limits.acquire("login", "k", rate).allowed
        clock.now += 10 if i < 9 else 0  # events at t0, t0+10, ..., t0+90
    refused = limits.acquire("login", "k", rate)
    assert not refused.allowed and refused.count == 10
    assert refused.retry_after == 900 - 90, "until the oldest of the ten leaves the window"
    for _ in range(50):  # hammering a closed door does not keep it closed
        assert not limits.acquire("login", "k", rate).allowed
    clock.now += 900 - 90
    assert limits.acquire("login", "k", rate).allowed, "the oldest left: one more fits"
    assert not limits.acquire("login", "k", rate).allowed
    assert limits.acquire("login", "other", rate).allowed, "keys are separate"
    assert limits.acquire("page", "k", rate).allowed, "names are separate"


def test_release_uncounts_and_check_counts_nothing(limiter):
    limits, _ = limiter
    rate = Rate(2, 60)
    first = limits.acquire("login", "k", rate)
    limits.release(first)
    for _ in range(5):
        assert limits.check("login", "k", rate).allowed
    assert limits.acquire("login", "k", rate).allowed and limits.acquire("login", "k", rate).allowed
    assert not limits.check("login", "k", rate).allowed


def test_enforce_raises_429_with_retry_after(limiter):
    limits, _ = limiter
    limits.enforce("x", "k", Rate(1, 30))
    with pytest.raises(TooManyRequests) as caught:
        limits.enforce("x", "k", Rate(1, 30), field="f")
    assert caught.value.retry_after == 30 and caught.value.field == "f"


def test_concurrent_acquisitions_never_exceed_the_limit(limiter):
    """The Lua script (or the lock) makes trim, count and add one step: 40 threads, 10 get through."""
    limits, _ = limiter
    barrier = threading.Barrier(40)
    allowed: list[bool] = []

    def worker() -> None:
        barrier.wait()
        allowed.append(limits.acquire("burst", "k", Rate(10, 60)).allowed)

    threads = [threading.Thread(target=worker) for _ in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 10


def test_keys_are_stored_hashed(limiter):
    limits, _ = limiter
    stored = limits.acquire("login", "203.0.113.9|0944713700", Rate(5, 60)).key
    assert "0944713700" not in stored and "203.0.113.9" not in stored and stored.startswith("uqr:rl:login:")


def test_a_refusal_is_logged_once_per_burst(caplog):
    limits = Limiter(MemoryBackend(), _digest, Clock())
    with caplog.at_level(logging.WARNING, logger="unifiedqr.security"):
        for _ in range(20):
            limits.acquire("registration", "k", Rate(1, 3600))
    events = [r for r in caplog.records if r.name == "unifiedqr.security"]
    assert len(events) == 1 and "registration" in events[0].getMessage()


@pytest.mark.redis
def test_two_workers_share_their_counts_through_redis():
    if not _redis_answers():
        missing_service("Redis on 127.0.0.1:6379 does not answer")
    salt = secrets.token_hex(4)
    one = Limiter(RedisBackend(REDIS_URL), lambda t: _digest(salt + t))
    two = Limiter(RedisBackend(REDIS_URL), lambda t: _digest(salt + t))
    try:
        for _ in range(5):
            assert one.acquire("login", "k", Rate(10, 60)).allowed
            assert two.acquire("login", "k", Rate(10, 60)).allowed
        assert not one.acquire("login", "k", Rate(10, 60)).allowed
        assert not two.acquire("login", "k", Rate(10, 60)).allowed
    finally:
        one.clear()
        two.clear()


def test_redis_down_falls_back_to_this_process(caplog):
    """Limits per worker beat none: a dead Redis neither opens the door nor breaks the request."""
    limits = Limiter(RedisBackend("redis://127.0.0.1:1/0"), _digest, Clock())
    with caplog.at_level(logging.ERROR, logger="unifiedqr.security"):
        assert limits.acquire("login", "k", Rate(1, 60)).allowed
        assert not limits.acquire("login", "k", Rate(1, 60)).allowed
    assert any("shared store failed" in r.getMessage() for r in caplog.records)


def test_the_memory_backend_stays_bounded():
    clock = Clock()
    limits = Limiter(MemoryBackend(max_keys=100), _digest, clock)
    for i in range(1000):
        limits.acquire("page", f"address-{i}", Rate(5, 60))
        clock.now += 0.001
    assert len(limits.backend._logs) <= 100  # type: ignore[attr-defined]
