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

A SQLite database is personal data at rest: its file is created 0600 before SQLite opens it (SQLite
gives its ``-wal`` and ``-shm`` files the database file's mode), an existing file, WAL, shared
memory or lock file is tightened to 0600, and directories created for it are 0700 (issue 10 #7).
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import stat
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

from unifiedqr.store import access_models as _access_models  # noqa: F401  (look-up and retention tables)
from unifiedqr.store import conformance_models as _conformance_models  # noqa: F401  (its tables)
from unifiedqr.store import consent_models as _consent_models  # noqa: F401  (the consent tables)
from unifiedqr.store import scan_partitions
from unifiedqr.store import venue_models as _venue_models  # noqa: F401  (registers the venue tables)
from unifiedqr.store.replica import Replica

BUSY_TIMEOUT_MS = 10_000
log = logging.getLogger("unifiedqr.store")
SIDE_FILES = ("-wal", "-shm", "-journal")


def private_directory(directory: Path) -> None:
    """Create ``directory`` (and missing parents) 0700, or tighten it to 0700 if this user owns it.

    A directory that is sticky or owned by someone else (``/tmp``, a shared mount), and the home
    directory, are left alone: the files in them are 0600 anyway. Tightening is logged.
    """
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for created in reversed(missing):
        created.mkdir(mode=0o700, exist_ok=True)
    if missing:
        return
    info = directory.stat()
    ours = info.st_uid == os.getuid() and not info.st_mode & stat.S_ISVTX
    if ours and info.st_mode & 0o077 and directory.resolve() != Path.home().resolve():
        os.chmod(directory, 0o700)
        log.warning("tightened %s to mode 0700: it holds personal data", directory)


def private_sqlite_file(path: Path) -> None:
    """Make ``path`` (a SQLite database) readable by its owner only; see the module docstring."""
    private_directory(path.parent)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    for candidate in (
        path,
        *(path.with_name(path.name + s) for s in SIDE_FILES),
        path.with_suffix(".writelock"),
    ):
        if candidate.exists() and candidate.stat().st_mode & 0o077:
            os.chmod(candidate, 0o600)


def _sqlite_file(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database).expanduser()


def _sqlite_engine(
    url: str,
    synchronous: str,
    immediate: bool,
    pool_size: int,
    autocheckpoint: bool = True,
    journal_limit: int = -1,
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
        cursor.execute(f"PRAGMA journal_size_limit={int(journal_limit)}")  # the WAL shrinks back on reset
        cursor.close()

    begin = "BEGIN IMMEDIATE" if immediate else "BEGIN"

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin)

    return engine


class _Checkpointer:
    """Keeps the WAL small from a background thread: a PASSIVE checkpoint every ``interval``, and a
    RESTART checkpoint under the writer lock whenever the WAL file passes ``limit_bytes``.

    Why both. SQLite's automatic checkpoint runs inside whichever commit crosses 1000 pages and
    fsyncs there: a request that happened to trigger it waited tens of milliseconds (seen as the p99
    of registrations at 500/s), so write connections have ``wal_autocheckpoint=0``. A PASSIVE
    checkpoint never blocks anyone, but under continuous writes it never reaches the end of the WAL
    either, and SQLite only rewinds the WAL after a checkpoint that did: the file grew without bound
    (measured: 2.2 GB in 20 s at 1,650 registrations/s, 68 KiB a registration, since every commit
    appends each B-tree page it changed, 4 KiB apiece, and a registration changes ~17 pages across
    three tables and their ten indexes). So past the limit the checkpointer takes the writers' own
    lock (thread lock and ``flock``, so no writer in any worker appends meanwhile) and runs a
    RESTART checkpoint, which completes, so the next writer rewinds the WAL and
    ``journal_size_limit`` cuts the file back to the limit; the PASSIVE ones before it have copied
    most frames already, so writers wait only for the remainder. (TRUNCATE, which shrinks the file
    to zero, measured ~20 % fewer writes/s: the file then has to grow again.) The file stays near
    ``limit_bytes`` plus one interval of writes.
    """

    def __init__(self, db: Database, path: str, interval: float, limit_bytes: int) -> None:
        self._db = db
        self._path = path
        self._wal = path + "-wal"
        self._interval = interval
        self._limit = limit_bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        connection = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        connection.execute(f"PRAGMA journal_size_limit={self._limit}")
        try:
            while not self._stop.wait(self._interval):
                self.checkpoint(connection)
        finally:
            connection.close()

    def checkpoint(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            if _size(self._wal) > self._limit:
                with self._db.writer_lock():
                    connection.execute("PRAGMA wal_checkpoint(RESTART)").fetchall()
        except sqlite3.Error as exc:  # busy or closing: try again next time
            log.debug("checkpoint skipped: %s", exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def _size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return 0


class Database:
    """The two session factories the services use: ``read()`` and ``write()``."""

    def __init__(
        self,
        url: str,
        *,
        sqlite_synchronous: str = "NORMAL",
        pool_size: int = 8,
        wal_limit_bytes: int = 64 * 1024 * 1024,
        checkpoint_seconds: float = 1.0,
        replica_url: str | None = None,
        replica_max_lag_seconds: float = 5.0,
    ) -> None:
        self.url = url
        self.replica = Replica(replica_url, replica_max_lag_seconds, pool_size) if replica_url else None
        parsed = make_url(url)
        self.dialect = parsed.get_backend_name()
        if self.dialect == "sqlite":
            if (file := _sqlite_file(url)) is not None:
                private_sqlite_file(file)
            self.read_engine = _sqlite_engine(url, sqlite_synchronous, False, pool_size)
            file_backed = bool(parsed.database and parsed.database != ":memory:")
            self.write_engine = _sqlite_engine(
                url,
                sqlite_synchronous,
                True,
                max(2, pool_size // 2),
                autocheckpoint=not file_backed,
                journal_limit=wal_limit_bytes,
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
            self._checkpointer = _Checkpointer(
                self, str(Path(parsed.database).expanduser()), checkpoint_seconds, wal_limit_bytes
            )

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session that only reads; closing it ends the transaction (loaded objects stay usable)."""
        with self._read() as session:
            yield session

    @contextmanager
    def replica_read(self) -> Iterator[Session]:
        """A read session on the replica when one is configured and fresh, else on the primary.

        For the heavy reads that tolerate the freshness bound (tracing, history). Write the audit
        row of such a read on the primary (``write()``) before reading here.
        """
        replica = self.replica
        if replica is not None and replica.fresh():
            with replica.session() as session:
                yield session
            return
        with self._read() as session:
            yield session

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """SQLite: the queue every writer of every worker waits in (no-op on PostgreSQL)."""
        lock = self._write_lock
        if lock is None:
            yield
            return
        with lock:
            if self._lock_file is None:
                yield
                return
            fcntl.flock(self._lock_file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(self._lock_file, fcntl.LOCK_UN)

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A session committed when the block ends without error: a 2xx means committed."""
        with self.writer_lock(), self._write() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

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
        if self.replica is not None:
            self.replica.dispose()


def allow_audit_deletes(session: Session) -> None:
    """Let this transaction delete audit rows (PostgreSQL: only the table's owner may; see 0004).

    ``audit_events`` is append-only for everyone else: the purge of rows past their retention is
    the one path that deletes, and it says so for its own transaction only.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('unifiedqr.audit_purge', 'on', true)"))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's filter: the day partitions of ``scan_events`` are data, not schema (0004)."""
    return not (type_ == "table" and scan_partitions.is_partition(name or ""))


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
    if (file := _sqlite_file(url)) is not None:
        private_sqlite_file(file)
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
