"""Rate limits: one sliding-window limiter for every throttle of the platform (issue 10 #2).

The interface others reuse (``ctx.limits``, built once per process)::

    ctx.limits.enforce("lookup", account_id, Rate(600, 60), field="text")  # count one or raise 429
    decision = ctx.limits.acquire("login", key, rate)    # count one if allowed; never raises
    ctx.limits.release(decision)                         # it turned out not to count (a good log-in)
    ctx.limits.check("login", key, rate)                 # would one more be allowed? counts nothing

``name`` says which limit (it is in the security log), ``key`` whose events (an address, a login,
an account); keys are stored only as a keyed hash (:meth:`Vault.lookup_hash`), so neither Redis
nor a memory dump holds an address or a phone number in clear.

**The window is sliding** (a log of event times, at most ``count`` kept per key): "10 failures
within 15 minutes" then means exactly that at every instant, and the answer to the 11th is "retry
when the oldest of those 10 is 15 minutes old". A fixed window (one counter per clock quarter
hour) is cheaper but lets 20 attempts through around a boundary, and its ``Retry-After`` is the
boundary, not the contract's. The log costs ``count`` entries per key (10 to 100 here). Refused
events are not recorded, so a client hammering a closed door does not keep it closed: the limit
lifts when the window passes, as the contract says.

**Where the counts live**: in this process (one worker: exact), or in Redis when
``UNIFIEDQR_REDIS_URL`` is set (every worker and host shares them). In Redis each acquisition is
one Lua script (trim, count, add: atomic, one round trip). The time comes from the caller's clock
(``time.time``, NTP-synchronised hosts; injectable in tests). When Redis does not answer, the
limiter falls back to this process's counts and says so in the log (limits per worker beat none).
"""

from __future__ import annotations

import collections
import logging
import math
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from unifiedqr.config import Rate
from unifiedqr.errors import TooManyRequests

log = logging.getLogger("unifiedqr.security")
MAX_MEMORY_KEYS = 100_000


@dataclass(frozen=True)
class Decision:
    """The answer for one event: ``retry_after`` whole seconds when refused; ``token`` to release it."""

    allowed: bool
    count: int
    retry_after: int
    key: str = ""
    token: str = ""


class Backend(Protocol):
    def acquire(self, key: str, limit: int, window: float, now: float, token: str) -> tuple[bool, int, float]:
        """``(allowed, events in the window, seconds until one more is allowed)``; records when allowed."""
        ...

    def peek(self, key: str, limit: int, window: float, now: float) -> tuple[bool, int, float]: ...

    def release(self, key: str, token: str) -> None: ...

    def clear(self) -> None: ...


def _wait(times: list[float], limit: int, window: float, now: float) -> float:
    """Seconds until the window holds fewer than ``limit`` of ``times`` (sorted)."""
    return times[len(times) - limit] + window - now if len(times) >= limit else 0.0


class MemoryBackend:
    """Event logs in this process: a deque of ``(time, token)`` per key, at most ``limit`` long."""

    def __init__(self, max_keys: int = MAX_MEMORY_KEYS) -> None:
        self._logs: dict[str, tuple[float, collections.deque[tuple[float, str]]]] = {}
        self._lock = threading.Lock()
        self._max_keys = max_keys

    def _trimmed(self, key: str, window: float, now: float) -> collections.deque[tuple[float, str]]:
        found = self._logs.get(key)
        entries = found[1] if found is not None else collections.deque()
        while entries and entries[0][0] <= now - window:
            entries.popleft()
        return entries

    def peek(self, key: str, limit: int, window: float, now: float) -> tuple[bool, int, float]:
        with self._lock:
            times = [t for t, _ in self._trimmed(key, window, now)]
        return len(times) < limit, len(times), _wait(times, limit, window, now)

    def acquire(self, key: str, limit: int, window: float, now: float, token: str) -> tuple[bool, int, float]:
        with self._lock:
            entries = self._trimmed(key, window, now)
            if len(entries) >= limit:
                return False, len(entries), _wait([t for t, _ in entries], limit, window, now)
            entries.append((now, token))
            self._logs[key] = (window, entries)
            if len(self._logs) > self._max_keys:
                self._sweep(now)
            return True, len(entries), 0.0

    def release(self, key: str, token: str) -> None:
        with self._lock:
            found = self._logs.get(key)
            if found is not None:
                kept = [e for e in found[1] if e[1] != token]
                found[1].clear()
                found[1].extend(kept)

    def _sweep(self, now: float) -> None:
        """Drop keys whose every event has left its window; then, if still too many, the oldest keys."""
        for key in [k for k, (w, e) in self._logs.items() if not e or e[-1][0] <= now - w]:
            del self._logs[key]
        while len(self._logs) > self._max_keys * 9 // 10:
            del self._logs[next(iter(self._logs))]

    def clear(self) -> None:
        with self._lock:
            self._logs.clear()


_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
local n = redis.call('ZCARD', KEYS[1])
local limit = tonumber(ARGV[3])
if n >= limit then
  local edge = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  return {0, n, tostring(tonumber(edge[2]) + ARGV[2] - ARGV[1])}
end
if ARGV[4] ~= '' then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], math.ceil(ARGV[2] * 1000))
  n = n + 1
end
return {1, n, '0'}
"""


class RedisBackend:
    """Event logs as Redis sorted sets (score: the event time), one Lua script per acquisition."""

    def __init__(self, url: str) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self._acquire: Any = self._redis.register_script(_ACQUIRE)
        self._touched: set[str] = set()  # for clear() in tests: only what this process wrote

    def _run(self, key: str, limit: int, window: float, now: float, token: str) -> tuple[bool, int, float]:
        allowed, count, wait = self._acquire(keys=[key], args=[repr(now), repr(window), limit, token])
        if token and len(self._touched) < MAX_MEMORY_KEYS:
            self._touched.add(key)
        return bool(allowed), int(count), float(wait)

    def acquire(self, key: str, limit: int, window: float, now: float, token: str) -> tuple[bool, int, float]:
        return self._run(key, limit, window, now, token)

    def peek(self, key: str, limit: int, window: float, now: float) -> tuple[bool, int, float]:
        return self._run(key, limit, window, now, "")

    def release(self, key: str, token: str) -> None:
        self._redis.zrem(key, token)

    def clear(self) -> None:
        if self._touched:
            self._redis.delete(*self._touched)
            self._touched.clear()

    def close(self) -> None:
        self._redis.close()


class Limiter:
    """Named sliding-window limits over a backend; see the module docstring for the interface."""

    def __init__(
        self,
        backend: Backend,
        digest: Callable[[str], bytes],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backend = backend
        self.shared = isinstance(backend, RedisBackend)
        self._digest = digest
        self._clock = clock
        self._fallback = MemoryBackend()
        self._logged: dict[str, float] = {}
        self._fallback_logged = 0.0

    def key(self, name: str, key: object) -> str:
        return f"uqr:rl:{name}:{self._digest(f'{name}:{key}')[:12].hex()}"

    def _call(self, method: str, *args: Any) -> Any:
        try:
            return getattr(self.backend, method)(*args)
        except Exception as exc:  # Redis down or slow: per-process limits beat none
            now = time.monotonic()
            if now - self._fallback_logged > 60:
                self._fallback_logged = now
                log.error("rate limits: the shared store failed (%s); counting in this process", exc)
            return getattr(self._fallback, method)(*args)

    def acquire(self, name: str, key: object, rate: Rate) -> Decision:
        """Count one event unless the limit is reached; a refusal is logged as a security event."""
        stored = self.key(name, key)
        token = secrets.token_hex(8)
        allowed, count, wait = self._call(
            "acquire", stored, rate.count, float(rate.seconds), self._clock(), token
        )
        if allowed:
            return Decision(True, count, 0, stored, token)
        retry = max(1, math.ceil(wait))
        self._security_event(name, stored, count, retry)
        return Decision(False, count, retry, stored)

    def check(self, name: str, key: object, rate: Rate) -> Decision:
        stored = self.key(name, key)
        allowed, count, wait = self._call("peek", stored, rate.count, float(rate.seconds), self._clock())
        return Decision(allowed, count, 0 if allowed else max(1, math.ceil(wait)), stored)

    def release(self, decision: Decision) -> None:
        """Un-count an event acquired earlier (it did not turn out to be what the limit counts)."""
        if decision.allowed and decision.token:
            self._call("release", decision.key, decision.token)

    def enforce(self, name: str, key: object, rate: Rate, *, field: str = "", reason: str = "") -> Decision:
        """:meth:`acquire`, raising :class:`TooManyRequests` (429 with ``Retry-After``) when refused."""
        decision = self.acquire(name, key, rate)
        if not decision.allowed:
            raise TooManyRequests(
                field,
                reason or f"too many requests; try again in {decision.retry_after} s",
                decision.retry_after,
            )
        return decision

    def close(self) -> None:
        close = getattr(self.backend, "close", None)
        if close is not None:
            close()

    def clear(self) -> None:
        """Forget every count this process made (tests)."""
        self._call("clear")
        self._fallback.clear()
        self._logged.clear()

    def _security_event(self, name: str, stored: str, count: int, retry: int) -> None:
        """One log line per limit and key per burst (not per refused request)."""
        now = time.monotonic()
        if self._logged.get(stored, 0.0) > now:
            return
        if len(self._logged) > MAX_MEMORY_KEYS:
            self._logged.clear()
        self._logged[stored] = now + retry
        log.warning(
            "security: rate limit %s reached for key %s (%d events); retry in %d s",
            name,
            stored,
            count,
            retry,
        )


def build(redis_url: str | None, digest: Callable[[str], bytes]) -> Limiter:
    """The process's limiter: Redis when a URL is configured, else in this process."""
    backend: Backend = RedisBackend(redis_url) if redis_url else MemoryBackend()
    return Limiter(backend, digest)
