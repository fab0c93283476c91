"""A real ``unifiedqr serve`` in a child process, restartable and killable like a crash.

The drills, the load run and the tests that need true process boundaries (``kill -9``, several
workers) all start the server this one way.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``unifiedqr serve`` on 127.0.0.1 over ``database_url``, with secrets in ``data_dir``."""

    def __init__(
        self, database_url: str, data_dir: Path, workers: int = 1, env: dict[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.workers = workers
        self.extra_env = dict(env or {})
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The child's environment: ours, the data directory, and this package first on the path."""
        env = dict(os.environ)
        env["UNIFIEDQR_DATA_DIR"] = str(self.data_dir)
        package_root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = package_root + os.pathsep + env.get("PYTHONPATH", "")
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 30) -> None:
        command = [sys.executable, "-m", "unifiedqr", "serve", "--port", str(self.port)]
        command += ["--database-url", self.database_url, "--workers", str(self.workers)]
        self.process = subprocess.Popen(
            command, env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"the server exited: {err[-2000:]}")
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s")

    def kill(self) -> None:
        """``kill -9``: no shutdown hook, no flush, exactly like a crash."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
