"""Venue staff in a real browser: the scanner page with a USB keyboard-wedge scanner (20 codes typed
at a scanner's pace, each answered within a blink), the offline queue (network blocked, scans kept,
a reload, the network back, the queue drained, a repeated upload recorded once), and camera mode
with Chromium's fake camera."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser.browser import (
    DemoServer,
    clear_viewport,
    console_errors,
    no_horizontal_scroll,
    outside_requests,
    screenshot,
    set_offline,
    set_viewport,
    sign_in,
    type_like_scanner,
    wait_for_js,
)

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

pytestmark = pytest.mark.browser

GIVEN = ["An", "Binh", "Chi", "Dung", "Giang", "Hoa", "Khanh", "Lan", "Minh", "Nga"]
SUMMARY = "window.scanner.summary()"


def api(demo_server: DemoServer, role: str) -> httpx.Client:
    account = demo_server.account(role)
    token = httpx.post(
        f"{demo_server.url}/api/v1/auth/token",
        json={"login": account["login"], "password": account["password"]},
        timeout=10,
    ).json()["access_token"]
    return httpx.Client(base_url=demo_server.url + "/api/v1", headers={"Authorization": f"Bearer {token}"})


def check_ins(demo_server: DemoServer) -> int:
    """Today's check-ins at the first venue, as its owner's API sees them."""
    with api(demo_server, "venue_owner") as owner:
        venue = demo_server.info["venues"][0]["venue_id"]
        return int(owner.get(f"/venues/{venue}/counts").json()["total_check_ins"])


@pytest.fixture(scope="module")
def codes(demo_server: DemoServer) -> list[str]:
    """Twenty more people, registered by the demo's first platform: half show their full signed code,
    half the signed safe code their card shows by default (shorter to type)."""
    key = demo_server.info["platforms"][0]["api_key"]
    out = []
    with httpx.Client(
        base_url=demo_server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ) as http:
        for i in range(20):
            body = {
                "document_number": f"079190{i:06d}",
                "full_name": f"Pham {'Thi' if i % 2 else 'Van'} {GIVEN[i % 10]}",
                "birth_date": f"19{60 + i}-0{1 + i % 9}-1{i % 10}",
            }
            answer = http.post("/api/v1/people", json=body)
            assert answer.status_code == 201, answer.text
            qid = answer.json()["qid"]
            safe = http.get(
                f"/api/v1/people/{qid}/code", params={"format": "text", "masked": str(i % 2 == 1)}
            )
            out.append(safe.text.strip())
    return out


@pytest.fixture(scope="module")
def scanner(browser: WebDriver, demo_server: DemoServer) -> WebDriver:
    account = demo_server.account("venue_staff")
    landed = sign_in(browser, demo_server.url, account["login"], account["password"])
    assert landed == f"/scanner/{demo_server.info['venues'][0]['venue_id']}"
    wait_for_js(browser, "window.scanner && window.scanner.ready", timeout=15)
    return browser


def scanned(driver: WebDriver) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = driver.execute_script(f"return {SUMMARY}")
    return result


def test_twenty_scans_from_a_keyboard_wedge_scanner(
    scanner: WebDriver, demo_server: DemoServer, codes: list[str]
) -> None:
    before = check_ins(demo_server)
    assert scanner.execute_script("return document.activeElement.id") == "scan"  # focus on load
    blinks, paces = [], []
    for i, code in enumerate(codes):
        assert scanner.execute_script("return document.activeElement.id") == "scan"  # no click needed
        paces.append(type_like_scanner(scanner, code, ms_per_char=5))
        start = time.perf_counter()
        wait_for_js(scanner, f"{SUMMARY}.length == {i + 1} && {SUMMARY}[{i}].status == 'recorded'", 5, 0.005)
        blinks.append(time.perf_counter() - start)
        box = scanner.execute_script(
            "const r = document.getElementById('result'); return [r.dataset.state, r.className, r.textContent]"
        )
        colour = scanned(scanner)[i]["colour"]  # the door's colour, as the server said
        assert box[0] == "recorded" and colour in box[1].split() and "VÀO" in box[2], box
        assert "Signature valid" in box[2], box  # the full and the safe code are both signed
    results = scanned(scanner)
    assert [r["status"] for r in results] == ["recorded"] * 20
    assert [r["direction"] for r in results] == ["in"] * 20
    assert len({r["key"] for r in results}) == 20
    assert all(r["who"].startswith("P*** ") for r in results), [r["who"] for r in results[:2]]
    assert check_ins(demo_server) - before == 20
    assert scanner.execute_script("return document.getElementById('count-in').textContent") == "20"
    assert scanner.execute_script("return document.activeElement.id") == "scan"
    # Scanners type 5-20 ms a character; each CDP key event costs ~3 ms, more on a busy machine.
    pace = statistics.median(paces)
    assert pace < 20, f"{pace:.1f} ms a character: slower than a scanner"
    assert statistics.median(blinks) < 0.3 and max(blinks) < 1.0, blinks
    screenshot(scanner, "scanner-wedge")
    assert outside_requests(scanner) == [] and console_errors(scanner) == []


def test_offline_scans_are_kept_and_uploaded_once(scanner: WebDriver, demo_server: DemoServer) -> None:
    before = check_ins(demo_server)
    phones = ["0912000401", "0912000402", "0912000403"]
    already = len(scanned(scanner))
    try:
        set_offline(scanner, True)
        wait_for_js(scanner, "!document.getElementById('offline-banner').hidden")
        for i, phone in enumerate(phones):
            type_like_scanner(scanner, phone)
            wait_for_js(scanner, f"window.scanner.pending == {i + 1}")
        assert [r["status"] for r in scanned(scanner)[already:]] == ["queued"] * 3
        assert scanner.execute_script("return document.getElementById('count-pending').textContent") == "3"
        assert scanner.execute_script("return document.getElementById('result').dataset.state") == "queued"
        screenshot(scanner, "scanner-offline")
        kept = scanner.execute_async_script(
            "const done = arguments[0]; uqrQueue.all(document.getElementById('scanner').dataset.venue)"
            ".then(done, (e) => done(String(e)));"
        )
        assert sorted(item["text"] for item in kept) == phones
        scanner.refresh()  # a reload with no network: the page comes from the service worker, the queue stays
        wait_for_js(
            scanner, "window.scanner && window.scanner.ready && window.scanner.pending == 3", timeout=15
        )
        assert check_ins(demo_server) == before
    finally:
        set_offline(scanner, False)
    wait_for_js(scanner, "window.scanner.pending == 0", timeout=20)
    assert check_ins(demo_server) - before == 3
    assert sorted(r["status"] for r in scanned(scanner)) == ["recorded"] * 3
    # The same three again, as after an upload whose answer was lost: recorded once, not twice.
    scanner.execute_async_script(
        "const [items, done] = arguments; Promise.all(items.map((i) => uqrQueue.put(i)))"
        ".then(() => window.scanner.flush()).then(() => done(true), (e) => done(String(e)));",
        kept,
    )
    wait_for_js(scanner, "window.scanner.pending == 0")
    assert sorted(r["status"] for r in scanned(scanner))[-3:] == ["already_recorded"] * 3
    assert check_ins(demo_server) - before == 3


def test_the_scanner_fits_a_phone(scanner: WebDriver, demo_server: DemoServer) -> None:
    set_viewport(scanner, 360, 740)
    try:
        scanner.refresh()
        wait_for_js(scanner, "window.scanner && window.scanner.ready")
        assert no_horizontal_scroll(scanner)
        assert scanner.execute_script("return document.activeElement.id") == "scan"
        size = scanner.execute_script(
            "return parseFloat(getComputedStyle(document.querySelector('#result .what')).fontSize)"
        )
        assert size >= 32  # readable at arm's length
    finally:
        clear_viewport(scanner)


def test_camera_mode_checks_a_visitor_in(camera_browser: WebDriver, demo_server: DemoServer) -> None:
    account = demo_server.account("venue_staff")
    sign_in(camera_browser, demo_server.url, account["login"], account["password"])
    venue = demo_server.info["venues"][0]["venue_id"]
    camera_browser.get(f"{demo_server.url}/scanner/{venue}/camera")
    wait_for_js(
        camera_browser, f"window.scanner && {SUMMARY}.length > 0 && {SUMMARY}[0].status == 'recorded'", 20
    )
    first = scanned(camera_browser)[0]
    assert first["who"] == "N***** L* K** HAN" and first["direction"] in ("in", "out", "duplicate")
    screenshot(camera_browser, "scanner-camera")
    assert outside_requests(camera_browser) == [] and console_errors(camera_browser) == []


def test_the_check_in_page_reads_a_code_from_the_camera(
    camera_browser: WebDriver, demo_server: DemoServer
) -> None:
    camera_browser.delete_all_cookies()  # anyone with a phone, not signed in
    camera_browser.get(demo_server.local_venue_url() + "/camera")
    wait_for_js(camera_browser, "document.querySelector('.box') !== null", timeout=20)
    box = camera_browser.find_element("css selector", ".box")
    assert "bad" not in (box.get_attribute("class") or "").split(), box.text
    screenshot(camera_browser, "checkin-camera")


def test_a_scan_after_a_click_elsewhere_still_lands(scanner: WebDriver, demo_server: DemoServer) -> None:
    """Someone clicked the direction buttons: the next scan still goes to the scan field, and the
    buttons still work from the keyboard (Space)."""
    before = len(scanned(scanner))
    scanner.find_element("css selector", "#modes button[data-mode='out']").click()
    assert scanner.execute_script("return document.activeElement.id") == "scan"
    scanner.execute_script("document.querySelector('#modes button[data-mode=\"auto\"]').focus()")
    scanner.execute_cdp_cmd(
        "Input.dispatchKeyEvent", {"type": "keyDown", "key": " ", "code": "Space", "text": " "}
    )
    scanner.execute_cdp_cmd("Input.dispatchKeyEvent", {"type": "keyUp", "key": " ", "code": "Space"})
    wait_for_js(scanner, "window.scanner.mode == 'auto'")
    scanner.execute_script("document.body.focus(); document.activeElement.blur()")
    type_like_scanner(scanner, "0912000601")
    wait_for_js(scanner, f"{SUMMARY}.length == {before + 1} && {SUMMARY}[{before}].status == 'recorded'")
    assert scanned(scanner)[before]["who"] == "091****601"


def test_a_live_scan_whose_answer_was_lost_is_not_counted_twice(
    scanner: WebDriver, demo_server: DemoServer
) -> None:
    """The page sends its device id with live scans, so a live scan and the same scan uploaded later
    from the queue (its answer never came) share one idempotency key space: recorded once."""
    type_like_scanner(scanner, "0912000701")
    wait_for_js(scanner, f"{SUMMARY}.length > 0 && {SUMMARY}[{SUMMARY}.length - 1].status == 'recorded'")
    before = check_ins(demo_server)
    last = scanned(scanner)[-1]
    scanner.execute_async_script(
        "const [key, done] = arguments; const venue = document.getElementById('scanner').dataset.venue;"
        "uqrQueue.put({idempotency_key: key, at: new Date().toISOString(), text: '0912000701', venue_id: venue})"
        ".then(() => window.scanner.flush()).then(() => done(true), (e) => done(String(e)));",
        last["key"],
    )
    wait_for_js(scanner, "window.scanner.pending == 0")
    assert scanned(scanner)[-1]["status"] == "already_recorded"
    assert check_ins(demo_server) == before
