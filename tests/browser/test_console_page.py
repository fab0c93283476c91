"""An official in a real browser: signs in, looks a person up by scanning their code (a USB scanner
typing into the focused field) with a purpose, opens the demo's tracing case, sees the graph and the
timeline load, confirms a candidate; the dashboard's charts draw. The citizen then sees the look-up
in "who looked at my data" when that page exists (the access log is the service's)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.browser.browser import (
    By,
    DemoServer,
    console_errors,
    outside_requests,
    screenshot,
    sign_in,
    type_like_scanner,
    wait_for_js,
)

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def official(browser: WebDriver, demo_server: DemoServer) -> WebDriver:
    account = demo_server.account("health_official")
    assert sign_in(browser, demo_server.url, account["login"], account["password"]) == "/console"
    return browser


def test_the_dashboard_draws_its_charts(official: WebDriver, demo_server: DemoServer) -> None:
    official.get(demo_server.url + "/console")
    wait_for_js(official, "document.querySelector('#hourly-chart svg') !== null")
    assert int(official.find_element(By.ID, "open-cases").text) >= 1
    assert official.execute_script("return document.querySelector('#hourly-chart svg title').textContent")
    assert outside_requests(official) == [] and console_errors(official) == []


def test_a_lookup_by_scanning_a_code(official: WebDriver, demo_server: DemoServer) -> None:
    official.get(demo_server.url + "/console/lookup")
    wait_for_js(official, "document.activeElement && document.activeElement.id === 'text'")
    official.find_element(By.CSS_SELECTOR, "#purpose option[value='checkpoint']").click()
    official.find_element(By.ID, "text").click()  # the purpose chosen, focus back on the scan field
    code = demo_server.personal_code(demo_server.info["people"][0]["qid"])
    type_like_scanner(official, code)
    wait_for_js(official, "document.getElementById('lookup-result') !== null", timeout=15)
    assert official.find_element(By.ID, "full-name").text == "NGUYEN LE KHA HAN"
    assert "Valid signature" in official.find_element(By.ID, "verification").text
    screenshot(official, "console-lookup")
    assert outside_requests(official) == [] and console_errors(official) == []


def test_an_official_traces_the_demo_case(official: WebDriver, demo_server: DemoServer) -> None:
    official.get(demo_server.url + "/console/cases")
    official.find_element(By.CSS_SELECTOR, "#cases tbody tr a").click()
    wait_for_js(official, "document.getElementById('candidate-table') !== null", timeout=15)
    wait_for_js(official, "document.getElementById('case-graph').complete", timeout=15)
    assert official.execute_script("return document.getElementById('case-graph').naturalWidth") > 0
    rows = official.find_elements(By.CSS_SELECTOR, "#candidate-table tbody tr")
    assert len(rows) >= 3  # Kha Han and the two lunch visitors by phone; not the evening one
    timelines = official.find_elements(By.CSS_SELECTOR, "img.timeline")
    assert timelines
    official.execute_script("arguments[0].scrollIntoView()", timelines[0])
    wait_for_js(official, "document.querySelector('img.timeline').complete", timeout=15)
    assert official.execute_script("return document.querySelector('img.timeline').naturalWidth") > 0
    first = rows[0]
    first.find_element(By.CSS_SELECTOR, "input[name=reason]").send_keys("same lunch, ten minutes apart")
    first.find_element(By.CSS_SELECTOR, "button[value=confirmed]").click()
    wait_for_js(official, "document.getElementById('done') !== null", timeout=15)
    assert "Contact confirmed." in official.find_element(By.ID, "done").text
    assert "same lunch" in official.find_element(By.ID, "case-log").text
    assert outside_requests(official) == [] and console_errors(official) == []


def test_the_console_at_phone_width(official: WebDriver, demo_server: DemoServer) -> None:
    from tests.browser.browser import clear_viewport, no_horizontal_scroll, set_viewport

    set_viewport(official, 360, 740)
    try:
        for path in ("/console", "/console/lookup", "/console/cases"):
            official.get(demo_server.url + path)
            assert no_horizontal_scroll(official), path
    finally:
        clear_viewport(official)
