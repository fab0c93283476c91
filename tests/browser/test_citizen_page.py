"""A citizen in a real browser: signs in at ``/``, sees the card (masked, the safe code, readable
from a screenshot with the project's decoder), toggles full and masked with one tap, and still has
the safe code (never the full one) with the network gone."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from tests.browser.browser import (
    GOLDEN,
    By,
    DemoServer,
    blank_boxes,
    clear_viewport,
    compare_to_golden,
    console_errors,
    element_boxes,
    no_horizontal_scroll,
    outside_requests,
    screenshot,
    set_offline,
    set_viewport,
    sign_in,
    wait_for_js,
)
from unifiedqr.imaging import decode_image

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

TEXT = "document.getElementById('{}').textContent.trim()"


def decoded(driver: WebDriver) -> list[str]:
    """The codes our decoder reads from a screenshot of the viewport."""
    png = driver.get_screenshot_as_png()
    return [d.text for d in decode_image(png)]


@pytest.fixture(scope="module")
def citizen(browser: WebDriver, demo_server: DemoServer) -> WebDriver:
    account = demo_server.account("citizen")
    set_viewport(browser, 360, 780)
    landed = sign_in(browser, demo_server.url, account["login"], account["password"])
    assert landed == "/me"
    yield browser
    clear_viewport(browser)


def test_the_card_is_masked_and_holds_the_safe_code(citizen: WebDriver, demo_server: DemoServer) -> None:
    wait_for_js(citizen, "document.getElementById('code-card')")
    assert citizen.execute_script(f"return {TEXT.format('document')}") == "******029317"
    assert citizen.execute_script(f"return {TEXT.format('birth-date')}") == "1987-**-**"
    body = citizen.find_element(By.TAG_NAME, "body").text
    assert "001093029317" not in body and "0944713700" not in body
    assert citizen.execute_script("return document.activeElement.tagName") in ("BODY", "A", "BUTTON")
    assert decoded(citizen) == [demo_server.personal_code(masked=True)]
    assert no_horizontal_scroll(citizen)
    assert outside_requests(citizen) == [] and console_errors(citizen) == []


def test_the_card_matches_its_golden(citizen: WebDriver) -> None:
    """The card at 360 px. The symbol and the QID change with every demo (a random QID), so they are
    painted over before comparing; everything around them must match."""
    citizen.execute_script("window.scrollTo(0, 0); document.activeElement.blur()")
    path = screenshot(citizen, "citizen-card")
    with Image.open(path) as image:
        assert image.size == (360, 780)
        masked = blank_boxes(image, element_boxes(citizen, ["#qr", "#qid", "footer"]))
    result = compare_to_golden(masked, GOLDEN / "citizen-card-360.png", tolerance=0.01)
    assert result, result.detail


def test_one_tap_shows_the_full_code_and_one_more_masks_it(
    citizen: WebDriver, demo_server: DemoServer
) -> None:
    toggle = citizen.find_element(By.ID, "toggle")
    assert toggle.get_attribute("aria-pressed") == "false"
    toggle.click()
    wait_for_js(citizen, "document.getElementById('toggle').getAttribute('aria-pressed') == 'true'")
    assert citizen.execute_script(f"return {TEXT.format('document')}") == "001093029317"
    assert citizen.execute_script(f"return {TEXT.format('birth-date')}") == "1987-01-18"
    citizen.execute_script("document.getElementById('qr').scrollIntoView()")
    wait_for_js(citizen, "document.querySelector('#qr img') && document.querySelector('#qr img').complete")
    screenshot(citizen, "citizen-card-full")
    assert decoded(citizen) == [demo_server.personal_code()]
    citizen.find_element(By.ID, "toggle").click()
    wait_for_js(citizen, "document.getElementById('toggle').getAttribute('aria-pressed') == 'false'")
    assert citizen.execute_script(f"return {TEXT.format('document')}") == "******029317"
    assert decoded(citizen) == [demo_server.personal_code(masked=True)]
    assert citizen.current_url.endswith("/me")  # in place: no page load


def test_the_toggle_works_from_the_keyboard(citizen: WebDriver) -> None:
    citizen.execute_script("document.getElementById('toggle').focus()")
    citizen.execute_cdp_cmd(
        "Input.dispatchKeyEvent",
        {"type": "keyDown", "key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13, "text": "\r"},
    )
    citizen.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", "key": "Enter", "code": "Enter"})
    wait_for_js(citizen, "document.getElementById('toggle').getAttribute('aria-pressed') == 'true'")
    citizen.find_element(By.ID, "toggle").click()
    wait_for_js(citizen, "document.getElementById('toggle').getAttribute('aria-pressed') == 'false'")


def test_offline_the_safe_code_is_still_there_and_the_full_one_never_is(
    citizen: WebDriver, demo_server: DemoServer
) -> None:
    citizen.get(demo_server.url + "/me")
    wait_for_js(
        citizen, "navigator.serviceWorker.controller !== null || window.codePage.offlineReady", timeout=15
    )
    kept = citizen.execute_async_script(
        "const done = arguments[0];"
        "caches.open('uqr-pages').then((c) => c.keys().then((keys) => Promise.all(keys.map((k) => c.match(k)"
        ".then((r) => r.text())))).then((texts) => done(texts))).catch((e) => done(String(e)));"
    )
    assert kept and all("******029317" in page for page in kept), kept
    assert not any("001093029317" in page or "0944713700" in page for page in kept)
    try:
        set_offline(citizen, True)
        citizen.get(demo_server.url + "/me")
        wait_for_js(citizen, "document.getElementById('code-card')", timeout=10)
        assert citizen.execute_script(f"return {TEXT.format('document')}") == "******029317"
        assert decoded(citizen) == [demo_server.personal_code(masked=True)]
        screenshot(citizen, "citizen-card-offline")
        citizen.find_element(By.ID, "toggle").click()  # the full code needs the network
        wait_for_js(citizen, "document.getElementById('mode-label').textContent.includes('network')")
        assert citizen.execute_script(f"return {TEXT.format('document')}") == "******029317"
    finally:
        set_offline(citizen, False)


def test_the_other_citizen_pages_fit_a_phone(citizen: WebDriver, demo_server: DemoServer) -> None:
    for path, shown in (
        ("/me/household", "NGUYEN HAN BAO"),
        ("/me/declarations", "Ho"),
        ("/me/visits", "UTC+7"),
    ):
        citizen.get(demo_server.url + path)
        wait_for_js(citizen, "document.readyState == 'complete'")
        assert no_horizontal_scroll(citizen), path
        assert shown in citizen.find_element(By.TAG_NAME, "main").text, path
    png = citizen.get_screenshot_as_png()
    assert Image.open(io.BytesIO(png)).size == (360, 780)
