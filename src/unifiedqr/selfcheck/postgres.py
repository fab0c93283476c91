"""A private PostgreSQL primary, and a streaming replica of it, for drills and tests.

Why private: the drills stop and restart PostgreSQL mid-load and the replica tests need replication
connections, neither of which may disturb the machine's own cluster (other tests, other users). The
server binaries of the installed PostgreSQL are run as the ``postgres`` system user (they refuse to
run as root) in a temporary directory, on free ports of 127.0.0.1, with trust authentication on
loopback only. :func:`unavailable_reason` says why this cannot run on a machine (no binaries, not
root and not the postgres user), so callers skip with that reason.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from unifiedqr.selfcheck.server import free_port

_BIN_ROOT = Path("/usr/lib/postgresql")


def _bin_dir() -> Path | None:
    versions = sorted((p for p in _BIN_ROOT.glob("*/bin") if (p / "pg_ctl").exists()), reverse=True)
    return versions[0] if versions else None


def unavailable_reason() -> str | None:
    """None when a private cluster can be started here, else why not."""
    if _bin_dir() is None:
        return f"no PostgreSQL server binaries under {_BIN_ROOT}"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres system user to run the server as"
    if os.geteuid() != 0 and pwd.getpwuid(os.geteuid()).pw_name != "postgres":
        return "starting a private PostgreSQL needs root (to run it as postgres) or the postgres user"
    return None


class Instance:
    """One PostgreSQL server in its own data directory on ``port``."""

    def __init__(self, data: Path, port: int) -> None:
        self.data = data
        self.port = port

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        binary = _bin_dir()
        assert binary is not None
        command = [str(binary / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, check=check, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data}"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "-l",
            str(self.data / "log"),
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def kill(self) -> None:
        """An immediate shutdown: like a crash of the server, recovery on the next start."""
        self.stop("immediate")

    def restart(self) -> None:
        self.stop()
        self.start()


class Cluster:
    """A primary and, on request, a streaming replica; removed on :meth:`close`."""

    def __init__(self) -> None:
        reason = unavailable_reason()
        if reason:
            raise RuntimeError(reason)
        self.root = Path(tempfile.mkdtemp(prefix="unifiedqr-pg-"))
        shutil.chown(self.root, "postgres", "postgres")
        self.primary = Instance(self.root / "primary", free_port())
        self.replica: Instance | None = None
        self.primary._run(
            "initdb", "-D", str(self.primary.data), "-U", "postgres", "-A", "trust", "--no-sync"
        )
        with (self.primary.data / "postgresql.conf").open("a") as conf:
            conf.write("\nwal_level = replica\nmax_wal_senders = 4\nfsync = on\nsynchronous_commit = on\n")
        with (self.primary.data / "pg_hba.conf").open("w") as hba:
            hba.write("local all all trust\nhost all all 127.0.0.1/32 trust\n")
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self.primary.start()

    def add_replica(self) -> Instance:
        """A hot standby streaming from the primary (``pg_basebackup -R``)."""
        replica = Instance(self.root / "replica", free_port())
        self.primary._run(
            "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary.port), "-U", "postgres",
            "-D", str(replica.data), "-R", "-X", "stream", "--no-sync",
        )  # fmt: skip
        replica.start()
        self.replica = replica
        return replica

    def wait_for_replica(self, timeout: float = 30) -> None:
        """Until the replica has replayed everything the primary had written when called."""
        import psycopg

        assert self.replica is not None
        with psycopg.connect(
            host="127.0.0.1", port=self.primary.port, user="postgres", dbname="postgres"
        ) as p:
            target = p.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
        deadline = time.monotonic() + timeout
        with psycopg.connect(
            host="127.0.0.1", port=self.replica.port, user="postgres", dbname="postgres"
        ) as r:
            while time.monotonic() < deadline:
                done = r.execute("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)).fetchone()
                if done and done[0]:
                    return
                time.sleep(0.05)
        raise TimeoutError("the replica did not catch up")

    def close(self) -> None:
        for instance in (self.replica, self.primary):
            if instance is not None:
                instance.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)
