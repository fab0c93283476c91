"""Engines, sessions and migrations.

SQLite (the embedded default) is opened in WAL mode with foreign keys on and ``synchronous=NORMAL``
(a killed process loses nothing committed; a power cut may lose the last transactions; ``FULL`` is a
setting). Python's sqlite3 module starts transactions lazily and as DEFERRED, which lets two writers
deadlock on the read-to-write upgrade; so the driver's own transaction handling is switched off and
write sessions begin with ``BEGIN IMMEDIATE`` (one writer at a time, others wait up to the busy
timeout), read sessions with a plain ``BEGIN``. Within one process, SQLite writers also queue on a
lock: SQLite's own busy handler sleeps in steps of up to 100 ms, which measured as a p99 of 230 ms
under 8 concurrent registrations, while a lock hands over in microseconds. Across worker processes
the same holds with ``flock`` on ``<database>.writelock`` beside the file, so several workers
parse, validate and sign in parallel and queue only for the commit. On PostgreSQL both are
the same engine, writes run concurrently, and races are settled by unique constraints.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from unifiedqr.store import tracing_models as _tracing_models  # noqa: F401  (registers the tracing tables)
from unifiedqr.store import venue_models as _venue_models  # noqa: F401  (registers the venue tables)

BUSY_TIMEOUT_MS = 10_000
log = logging.getLogger("unifiedqr.store")


def _sqlite_engine(
    url: str, synchronous: str, immediate: bool, pool_size: int, autocheckpoint: bool = True
) -> Engine:
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000, "isolation_level": None},
        pool_size=pool_size,
        max_overflow=pool_size,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        if not autocheckpoint:
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


class _Checkpointer:
    """Moves the WAL into the database file from a background thread, once a second.

    SQLite's automatic checkpoint runs inside whichever commit crosses 1000 pages and fsyncs the
    database file there: a request that happens to trigger it waited tens of milliseconds (seen as
    the p99 of registrations at a steady 500/s). Write connections therefore have
    ``wal_autocheckpoint=0`` and this thread checkpoints PASSIVE-ly, which never blocks writers.
    """

    def __init__(self, path: str, interval: float = 1.0) -> None:
        self._path = path
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self._interval):
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                except sqlite3.Error as exc:  # busy or closing: try again next time
                    log.debug("checkpoint skipped: %s", exc)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class Database:
    """The two session factories the services use: ``read()`` and ``write()``."""

    def __init__(self, url: str, *, sqlite_synchronous: str = "NORMAL", pool_size: int = 8) -> None:
        self.url = url
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            self.read_engine = _sqlite_engine(url, sqlite_synchronous, False, pool_size)
            file_backed = bool(parsed.database and parsed.database != ":memory:")
            self.write_engine = _sqlite_engine(
                url, sqlite_synchronous, True, max(2, pool_size // 2), autocheckpoint=not file_backed
            )
        else:
            if parsed.drivername == "postgresql":
                url = str(parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False))
            self.read_engine = create_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.write_engine = self.read_engine
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._write_lock: threading.Lock | None = threading.Lock() if self.dialect == "sqlite" else None
        self._lock_file: int | None = None
        self._checkpointer: _Checkpointer | None = None
        if self.dialect == "sqlite" and parsed.database and parsed.database != ":memory:":
            lock_path = Path(parsed.database).expanduser().with_suffix(".writelock")
            self._lock_file = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
            self._checkpointer = _Checkpointer(str(Path(parsed.database).expanduser()))

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session that only reads; closing it ends the transaction (loaded objects stay usable)."""
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session committed when the block ends without error: a 2xx means committed."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
            if self._lock_file is not None:
                fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            with self._write() as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if lock is not None:
                if self._lock_file is not None:
                    fcntl.flock(self._lock_file, fcntl.LOCK_UN)
                lock.release()

    def ping(self) -> bool:
        try:
            with self.read_engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:  # readiness reports, it does not raise
            return False

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        if self._lock_file is not None:
            os.close(self._lock_file)
            self._lock_file = None
        self.read_engine.dispose()
        if self.write_engine is not self.read_engine:
            self.write_engine.dispose()


def migrations_dir() -> str:
    return str(resources.files("unifiedqr.store").joinpath("migrations"))


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", migrations_dir())
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database to the latest migration (idempotent; safe on every start)."""
    from alembic import command

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    if parsed.drivername == "postgresql":
        url = parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA journal_mode=WAL")
            config = alembic_config(url)
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    finally:
        engine.dispose()


def current_revision(url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
