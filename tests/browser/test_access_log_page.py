"""Who looked at my data, in a real browser: a health official looks the demo citizen up through the
API at a checkpoint; the citizen signs in at ``/`` on a phone-sized screen, opens ``/me/access`` and
sees that look-up with its purpose in words, and the page fits the phone."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.browser.browser import (
    By,
    DemoServer,
    clear_viewport,
    console_errors,
    no_horizontal_scroll,
    outside_requests,
    set_viewport,
    sign_in,
    wait_for_js,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser


def official_looks_up(demo_server: DemoServer, qid: str, purpose: str) -> None:
    official = demo_server.account("health_official")
    with httpx.Client(base_url=demo_server.url + "/api/v1", timeout=10) as api:
        token = api.post("/auth/token", json={"login": official["login"], "password": official["password"]})
        token.raise_for_status()
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        found = api.post("/lookups", json={"text": qid, "purpose": purpose}, headers=headers)
        assert found.status_code == 200, found.text


@pytest.fixture(scope="module")
def citizen(browser: WebDriver, demo_server: DemoServer) -> Iterator[WebDriver]:
    account = demo_server.account("citizen")
    official_looks_up(demo_server, account["qid"], "checkpoint")
    set_viewport(browser, 360, 780)
    assert sign_in(browser, demo_server.url, account["login"], account["password"]) == "/me"
    yield browser
    clear_viewport(browser)


def test_the_officials_look_up_shows_with_its_purpose(citizen: WebDriver, demo_server: DemoServer) -> None:
    citizen.get(demo_server.url + "/me/access")
    wait_for_js(citizen, "document.getElementById('access-log')")
    rows = [row.text for row in citizen.find_elements(By.CSS_SELECTOR, "#access-log tbody tr")]
    looked_up = [row for row in rows if "Demo health official" in row]
    assert looked_up, rows
    newest = looked_up[0]
    assert "Cán bộ y tế" in newest and "Health official" in newest
    assert "Chốt kiểm soát" in newest and "Checkpoint" in newest
    assert "Tra cứu mã QR" in newest and "Looked up your code" in newest
    assert rows[0] == newest, "newest first"
    assert no_horizontal_scroll(citizen)
    assert outside_requests(citizen) == [] and console_errors(citizen) == []


def test_the_consent_requests_page_fits_a_phone(citizen: WebDriver, demo_server: DemoServer) -> None:
    """The demo's second app was linked with the holder's SMS code: an approved request, no buttons."""
    citizen.get(demo_server.url + "/me/consents")
    wait_for_js(citizen, "document.querySelector('section.consent')")
    text = citizen.find_element(By.TAG_NAME, "main").text
    assert "Bluezone (demo)" in text and "Approved" in text
    assert citizen.find_elements(By.CSS_SELECTOR, "button[name=decision]") == []
    assert no_horizontal_scroll(citizen)
    assert outside_requests(citizen) == [] and console_errors(citizen) == []
