"""Fixtures for the browser tests: ``unifiedqr demo`` in a subprocess, headless Chromium driven by
Selenium, and the fake camera (helpers in :mod:`tests.browser.browser`).

**Skip or fail.** These tests need Debian's ``chromium`` and ``chromium-driver`` (at
``/usr/bin/chromium`` and ``/usr/bin/chromedriver``, or ``UNIFIEDQR_CHROMIUM`` /
``UNIFIEDQR_CHROMEDRIVER``) and the ``selenium`` package from the test extra. When one is missing
they are *skipped* with the reason on a developer's machine, but they *fail* when ``CI`` is set
(anything but empty, ``0``, ``false`` or ``no``): CI installs Chromium in ``.ci/run`` and must never
pass by silently skipping them.

Scopes: one demo server for the whole folder (a fresh SQLite database in a temporary directory, on a
free port of 127.0.0.1), one browser per test module (a fresh profile; a test that changes the
browser's state, like the network emulation, puts it back). Every browser resolves no host name but
127.0.0.1 and localhost, so a page that needs the internet fails here as it would for a user
without it. Screenshots go to ``tests/browser/artifacts/`` (git-ignored).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.browser.browser import (
    DemoServer,
    StaticServer,
    missing_browser,
    render_code_png,
    start_chrome,
    write_y4m,
)
from tests.support import missing_service

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver


def require_browser() -> None:
    """Skip (developer's machine) or fail (``CI`` set) when Chromium, ChromeDriver or Selenium is missing."""
    reason = missing_browser()
    if reason is None:
        return
    missing_service(reason)


@pytest.fixture(scope="session", autouse=True)
def _browser_available() -> None:
    require_browser()


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    """``unifiedqr demo --json`` on 127.0.0.1: seeded accounts, venues, platforms and people in
    ``demo_server.info``; ``demo_server.url`` is its base URL."""
    server = DemoServer(tmp_path_factory.mktemp("demo")).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def personal_code(demo_server: DemoServer) -> str:
    """The first demo person's full signed code text (it contains ``|`` and ``<``)."""
    return demo_server.personal_code()


@pytest.fixture(scope="session")
def static_server() -> Iterator[StaticServer]:
    """Test-only pages (``tests/browser/pages``) with the package's ``/static``, on 127.0.0.1."""
    with StaticServer() as server:
        yield server


@pytest.fixture(scope="session")
def code_video(personal_code: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Y4M clip of the personal code held in front of a camera (drawn by ``unifiedqr render``)."""
    folder = tmp_path_factory.mktemp("camera")
    png = render_code_png(personal_code, folder / "code.png")
    return write_y4m(folder / "code.y4m", png, frames=20, fps=15, motion=1.0)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    """Headless Chromium for this module (fresh profile, loopback only)."""
    driver = start_chrome(tmp_path_factory.mktemp("chromium-profile"), loopback_only=True)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def camera_browser(tmp_path_factory: pytest.TempPathFactory, code_video: Path) -> Iterator[WebDriver]:
    """Headless Chromium whose camera plays :func:`code_video` (``getUserMedia`` is allowed)."""
    driver = start_chrome(
        tmp_path_factory.mktemp("chromium-camera-profile"), fake_video=code_video, loopback_only=True
    )
    try:
        yield driver
    finally:
        driver.quit()
