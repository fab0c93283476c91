"""Helpers the functional tests share (fixtures live in ``tests/conftest.py``)."""

from __future__ import annotations

import os
import socket
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import pytest

from unifiedqr.config import PasswordHashing, Settings
from unifiedqr.services import accounts
from unifiedqr.services.auth import host_operator
from unifiedqr.services.context import Services
from unifiedqr.store.db import upgrade

#: The operator of the tests' host commands (the admin CLI's principal).
OPERATOR = host_operator("tests@localhost")
#: argon2id at a test cost: the same algorithm and code path, 1 MiB instead of 64 MiB per hash
#: (Django's advice: a fast hasher in tests). Production keeps the RFC 9106 default.
TEST_PASSWORDS = PasswordHashing(time_cost=1, memory_kib=1024, parallelism=1)


def test_settings(url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test database (secrets in ``data_dir``, the cheap password hash)."""
    base = Settings.from_env(url, environ={"UNIFIEDQR_DATA_DIR": str(data_dir)})
    return replace(base, passwords=TEST_PASSWORDS, **overrides)


def open_test_services(url: str, data_dir: Path, **overrides: Any) -> Services:
    """A migrated database and its service container, as ``serve`` would open it."""
    upgrade(url)
    return Services(test_settings(url, data_dir, **overrides))


def create_account(ctx: Services, **fields: Any) -> accounts.NewAccount:
    """An account made by the host operator (``role``, ``name``, ``password``, ``username``...)."""
    return accounts.create_account(ctx, OPERATOR, accounts.AccountRequest(**fields))


def in_ci() -> bool:
    """``CI`` set to anything but an explicit no: CI runs every test, so nothing may skip there."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_service(reason: str) -> NoReturn:
    """A server a test needs is not there: skip saying why on a developer's machine, fail under CI
    (``.ci/run`` starts PostgreSQL, Redis, NATS and installs Chromium and Tesseract)."""
    if in_ci():
        pytest.fail(f"{reason}. CI is set, so this fails rather than skips.", pytrace=False)
    pytest.skip(reason)


def answers(port: int, host: str = "127.0.0.1") -> bool:
    """Something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


test_settings.__test__ = False  # type: ignore[attr-defined]  # not a test, despite the name


def update_golden(path: Path, write: Any) -> None:
    """With ``UNIFIEDQR_UPDATE_GOLDEN=1``: ``write(path)``, then skip (never compare a file with itself).

    A layout change must be deliberate: regenerate, review the diff of the golden files, commit.
    """
    import os

    import pytest

    if os.environ.get("UNIFIEDQR_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        write(path)
        pytest.skip(f"golden {path.name} rewritten: review it, then run again without the variable")
