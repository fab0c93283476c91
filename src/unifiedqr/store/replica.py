"""Reads routed to a PostgreSQL streaming replica, within a freshness bound.

Tracing and history reads are the heavy ones and tolerate being a moment behind; they go to the
replica when one is configured (``UNIFIEDQR_REPLICA_URL``) and it is at most ``max_lag_seconds``
behind the primary, else to the primary. The lag is measured on the replica (nothing received
but not yet replayed is lag 0; otherwise the age of the last replayed transaction), at most once a
second, so routing costs nothing per request. A replica that does not answer counts as stale: the
read goes to the primary and the service keeps working.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("unifiedqr.store")
_LAG = text(
    "SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0"
    " ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()), 1e9) END"
)


class Replica:
    """A read-only engine on the replica, and whether it is fresh enough to read from now."""

    def __init__(
        self, url: str, max_lag_seconds: float, pool_size: int = 8, check_every: float = 1.0
    ) -> None:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
        self.engine: Engine = create_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.max_lag = max_lag_seconds
        self._check_every = check_every
        self._checked = 0.0
        self._fresh = False
        self._lock = threading.Lock()
        self.reads = 0  # how many reads it served (tests and metrics)

    def lag(self) -> float | None:
        """Seconds the replica is behind, or None when it does not answer."""
        try:
            with self.engine.connect() as connection:
                return float(connection.execute(_LAG).scalar_one())
        except Exception as exc:  # a replica down or unreachable is reported, not raised
            log.warning("read replica does not answer: %s", exc)
            return None

    def fresh(self) -> bool:
        now = time.monotonic()
        if now - self._checked >= self._check_every:
            with self._lock:
                if now - self._checked >= self._check_every:
                    lag = self.lag()
                    self._fresh = lag is not None and lag <= self.max_lag
                    self._checked = time.monotonic()
        return self._fresh

    def session(self) -> Session:
        self.reads += 1
        return self.sessions()

    def dispose(self) -> None:
        self.engine.dispose()
