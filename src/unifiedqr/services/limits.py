"""Rate limits: the one interface point services call, ``ctx.limits.check(bucket, principal)``.

Kept deliberately tiny (issue 11); the hardening issue's shared limiter (logins, API keys, Redis
when ``UNIFIEDQR_REDIS_URL`` is set) plugs in as another :class:`Backend`. A bucket without a
configured rule is unlimited, so a service can name its bucket before a rule exists.

The in-process backend is a token bucket per key: ``limit`` requests per ``window`` seconds, refilled
continuously, so a steady caller at the limit is never refused and a burst beyond it waits
``Retry-After`` seconds. With several worker processes each holds its own buckets (the limit is per
worker); Redis makes it global.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Protocol

from unifiedqr.errors import RateLimited
from unifiedqr.services.auth import Principal

_MAX_KEYS = 100_000


class Backend(Protocol):
    def take(self, key: str, limit: int, window: float) -> float:
        """Take one token; 0 when allowed, else the seconds until one is available."""


class InProcess:
    """Token buckets in this process's memory (thread-safe; bounded in size)."""

    def __init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, limit: int, window: float) -> float:
        rate = limit / window
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (float(limit), now))
            tokens = min(float(limit), tokens + (now - last) * rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return (1.0 - tokens) / rate
            if len(self._buckets) >= _MAX_KEYS:
                self._buckets.clear()
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0


class Limits:
    """Named buckets with their rules (``bucket -> (requests, per seconds)``) over one backend."""

    def __init__(self, rules: dict[str, tuple[int, float]], backend: Backend | None = None) -> None:
        self.rules = dict(rules)
        self.backend: Backend = backend or InProcess()

    def check(self, bucket: str, principal: Principal) -> None:
        """Count one request of ``principal`` in ``bucket``; RateLimited (429) beyond its rule."""
        rule = self.rules.get(bucket)
        if rule is None:
            return
        limit, window = rule
        wait = self.backend.take(f"{bucket}:{principal.public_id}", limit, window)
        if wait > 0:
            raise RateLimited(
                bucket, f"more than {limit} {bucket}s in {window:g} s; wait", retry_after=math.ceil(wait)
            )
