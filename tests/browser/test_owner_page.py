"""A venue owner in a real browser: signs in, opens their venue, sees the chart of check-ins per
hour (drawn on the server as SVG) and the masked visit history; registers a venue and opens its
poster."""

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
    screenshot,
    set_viewport,
    sign_in,
    wait_for_js,
)

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def owner(browser: WebDriver, demo_server: DemoServer) -> WebDriver:
    staff = demo_server.account("venue_staff")
    token = httpx.post(
        f"{demo_server.url}/api/v1/auth/token", json={"login": staff["login"], "password": staff["password"]}
    ).json()["access_token"]
    venue = demo_server.info["venues"][0]["venue_id"]
    for phone in ("0912000501", "0912000502", "0912000503", "0912000504"):
        answer = httpx.post(
            f"{demo_server.url}/api/v1/venues/{venue}/scans",
            json={"phone": phone},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status_code == 201
    account = demo_server.account("venue_owner")
    assert sign_in(browser, demo_server.url, account["login"], account["password"]) == "/venues"
    return browser


def test_the_owner_sees_the_chart(owner: WebDriver, demo_server: DemoServer) -> None:
    venue = demo_server.info["venues"][0]
    owner.find_element(By.ID, f"venue-{venue['venue_id']}").click()
    wait_for_js(owner, "document.querySelector('#hourly-chart svg') !== null")
    bars = owner.execute_script(
        "return Array.from(document.querySelectorAll('#hourly-chart svg rect[height]'))"
        ".map((r) => parseFloat(r.getAttribute('height'))).filter((h) => h > 0).length"
    )
    assert bars >= 1
    total = int(owner.find_element(By.ID, "total-in").text)
    assert total >= 4
    label = owner.execute_script("return document.querySelector('#hourly-chart svg title').textContent")
    assert "Check-ins per hour" in label
    rows = owner.find_elements(By.CSS_SELECTOR, "#visits tbody tr")
    assert len(rows) >= 4 and "091****501" in owner.find_element(By.ID, "visits").text
    assert "0912000501" not in owner.find_element(By.TAG_NAME, "body").text
    owner.execute_script("document.getElementById('hourly-chart').scrollIntoView({block: 'center'})")
    screenshot(owner, "owner-chart")
    assert outside_requests(owner) == [] and console_errors(owner) == []


def test_the_owner_registers_a_venue_and_opens_its_poster(owner: WebDriver, demo_server: DemoServer) -> None:
    owner.get(demo_server.url + "/venues")
    owner.find_element(By.CSS_SELECTOR, "#register summary").click()
    for field, value in {
        "name": "Tiệm Bánh Mì (demo)",
        "province": "Hà Nội",
        "district": "Ba Đình",
        "commune": "Điện Biên",
        "street": "5 Hoàng Diệu",
        "owner_phone": "0987000111",
        "entrances": "cửa chính",
    }.items():
        owner.find_element(By.ID, field).send_keys(value)
    owner.find_element(By.CSS_SELECTOR, "#register-form button[type=submit]").click()
    wait_for_js(owner, "location.search.includes('registered=1')")
    assert "Tiệm Bánh Mì (demo)" in owner.find_element(By.TAG_NAME, "h1").text
    code = owner.find_element(By.ID, "venue-code").text
    assert code.startswith(demo_server.url + "/v/")  # the demo's codes open the demo's own pages
    poster = owner.find_element(By.ID, "poster-pdf").get_attribute("href")
    cookies = {c["name"]: c["value"] for c in owner.get_cookies()}
    answer = httpx.get(poster, cookies=cookies)
    assert answer.status_code == 200 and answer.content.startswith(b"%PDF")
    owner.get(code)  # the code's URL on this machine is the check-in page
    assert owner.find_element(By.TAG_NAME, "h1").text == "Tiệm Bánh Mì (demo)"


def test_the_owners_pages_fit_a_phone(owner: WebDriver, demo_server: DemoServer) -> None:
    venue = demo_server.info["venues"][0]["venue_id"]
    set_viewport(owner, 360, 740)
    try:
        for path in ("/venues", f"/venues/{venue}", f"/venues/{venue}/team"):
            owner.get(demo_server.url + path)
            wait_for_js(owner, "document.readyState == 'complete'")
            assert no_horizontal_scroll(owner), path
    finally:
        clear_viewport(owner)
