"""Helpers shared by the venue tests (a plain module: conftest modules are not for importing)."""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

LOCAL = dt.timezone(dt.timedelta(hours=7))  # the default visit day is Vietnam's


def local_time(days_ago: int, hour: int, minute: int = 0, second: int = 0) -> str:
    """An RFC 3339 time on a past local day (visit rules then never depend on the clock)."""
    day = dt.datetime.now(LOCAL).date() - dt.timedelta(days=days_ago)
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=LOCAL).isoformat()


def local_day(days_ago: int) -> str:
    return (dt.datetime.now(LOCAL).date() - dt.timedelta(days=days_ago)).isoformat()


def cccd_text(document: str, name: str = "Nguyễn Lê Kha Hân", birth: str = "18011987") -> str:
    """A chip ID card QR (spec §5): ID|old ID|name|ddmmyyyy|gender|address|issue date."""
    return f"{document}|123456789|{name}|{birth}|Nam|1 Hàng Bạc, Hoàn Kiếm, Hà Nội|01012021"


# -- a real `unifiedqr serve` in a subprocess ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """``unifiedqr serve`` on 127.0.0.1 with the given database and data directory; restartable."""

    def __init__(self, database_url: str, data_dir: Path, workers: int = 1) -> None:
        self.database_url = database_url
        self.data_dir = data_dir
        self.port = free_port()
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["UNIFIEDQR_DATA_DIR"] = str(self.data_dir)
        src = str(Path(__file__).resolve().parents[2] / "src")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
        return env

    def start(self) -> None:
        command = [sys.executable, "-m", "unifiedqr", "serve", "--port", str(self.port)]
        command += ["--database-url", self.database_url, "--workers", str(self.workers)]
        self.process = subprocess.Popen(
            command, env=self.env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            try:
                if httpx.get(self.url + "/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("server did not answer within 30 s")

    def kill(self) -> None:
        """``kill -9``: no shutdown, no flush, exactly like a crash."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
