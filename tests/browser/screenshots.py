"""Make the screenshots in ``docs/`` (the citizen's card, the scanner, the owner's chart, the officials'
dashboard, look-up and tracing graph) from a fresh
``unifiedqr demo`` in headless Chromium: ``python -m tests.browser.screenshots [--out docs]``.

Not a test: run it after a deliberate change to the pages and review the pictures like code. The
owner's chart shows yesterday, filled through the offline-upload API with a plausible day of visits
(a lunch and a dinner peak), so the picture does not depend on the hour it is made.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from tests.browser.browser import By, DemoServer, sign_in, start_chrome, type_like_scanner, wait_for_js

LOCAL = dt.timezone(dt.timedelta(hours=7))


def token(demo: DemoServer, role: str) -> str:
    account = demo.account(role)
    answer = httpx.post(
        f"{demo.url}/api/v1/auth/token", json={"login": account["login"], "password": account["password"]}
    )
    return str(answer.json()["access_token"])


def a_day_of_visits(demo: DemoServer, seed: int = 16) -> None:
    """Yesterday at the first venue: visitors arriving around lunch and dinner, leaving later."""
    rng = random.Random(seed)
    day = dt.datetime.now(LOCAL).date() - dt.timedelta(days=1)
    scans: list[dict[str, Any]] = []
    for n in range(170):
        hour = rng.choice(
            [7, 8, 9, 10, 11, 11, 11, 12, 12, 12, 12, 13, 14, 15, 17, 18, 18, 18, 19, 19, 19, 20, 21]
        )
        start = dt.datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=LOCAL)
        phone = f"09{rng.randrange(10**8):08d}"
        scans.append({"idempotency_key": f"shot-{n}-in", "at": start.isoformat(), "phone": phone})
        if rng.random() < 0.7:
            end = start + dt.timedelta(minutes=rng.randrange(25, 95))
            scans.append({"idempotency_key": f"shot-{n}-out", "at": end.isoformat(), "phone": phone})
    venue = demo.info["venues"][0]["venue_id"]
    answer = httpx.post(
        f"{demo.url}/api/v1/scan-batches",
        json={"venue_id": venue, "device_id": "screenshots", "scans": scans},
        headers={"Authorization": f"Bearer {token(demo, 'venue_staff')}"},
        timeout=60,
    )
    answer.raise_for_status()


def device(driver: Any, width: int, height: int, scale: float, mobile: bool) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
    )


def shoot(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        demo = DemoServer(Path(tmp) / "demo").start()
        driver = start_chrome(Path(tmp) / "profile", loopback_only=True)
        try:
            a_day_of_visits(demo)
            citizen = demo.account("citizen")
            device(driver, 390, 844, 2, True)
            sign_in(driver, demo.url, citizen["login"], citizen["password"])
            wait_for_js(driver, "document.getElementById('code-card')")
            driver.execute_script("document.activeElement.blur()")
            (out / "web-citizen-card.png").write_bytes(driver.get_screenshot_as_png())

            staff = demo.account("venue_staff")
            device(driver, 1100, 820, 1, False)
            sign_in(driver, demo.url, staff["login"], staff["password"])
            wait_for_js(driver, "window.scanner && window.scanner.ready")
            type_like_scanner(driver, "0912000111")
            time.sleep(0.4)
            type_like_scanner(driver, demo.personal_code())
            wait_for_js(
                driver,
                "window.scanner.summary().length == 2 && window.scanner.summary()[1].status == 'recorded'",
            )
            time.sleep(0.4)  # the flash animation ends
            (out / "web-scanner.png").write_bytes(driver.get_screenshot_as_png())

            owner = demo.account("venue_owner")
            sign_in(driver, demo.url, owner["login"], owner["password"])
            yesterday = (dt.datetime.now(LOCAL).date() - dt.timedelta(days=1)).isoformat()
            driver.get(f"{demo.url}/venues/{demo.info['venues'][0]['venue_id']}?date={yesterday}")
            driver.execute_script("document.getElementById('day-title').scrollIntoView()")
            driver.execute_script("window.scrollBy(0, -16)")
            assert driver.find_element(By.ID, "total-in").text != "0"
            (out / "web-owner-chart.png").write_bytes(driver.get_screenshot_as_png())

            official = demo.account("health_official")
            sign_in(driver, demo.url, official["login"], official["password"])
            driver.get(f"{demo.url}/console?date={yesterday}")
            wait_for_js(driver, "document.querySelector('#province-chart svg') !== null")
            (out / "web-console-dashboard.png").write_bytes(driver.get_screenshot_as_png())
            driver.get(f"{demo.url}/console/lookup")
            driver.find_element(By.CSS_SELECTOR, "#purpose option[value='checkpoint']").click()
            driver.find_element(By.ID, "text").click()
            type_like_scanner(driver, demo.personal_code())
            wait_for_js(driver, "document.getElementById('lookup-result') !== null")
            driver.execute_script("document.getElementById('lookup-result').scrollIntoView()")
            driver.execute_script("window.scrollBy(0, -90)")
            (out / "web-console-lookup.png").write_bytes(driver.get_screenshot_as_png())
            device(driver, 1100, 1700, 1, False)  # the whole graph (30 people drawn) in one picture
            driver.get(f"{demo.url}/console/cases")
            driver.find_element(By.CSS_SELECTOR, "#cases tbody tr a").click()
            wait_for_js(driver, "document.getElementById('case-graph').complete")
            wait_for_js(driver, "document.getElementById('case-graph').naturalWidth > 0")
            graph = driver.find_element(By.ID, "case-graph")
            driver.execute_script("arguments[0].scrollIntoView()", graph)
            (out / "web-tracing-graph.png").write_bytes(graph.screenshot_as_png)
        finally:
            driver.quit()
            demo.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[2] / "docs")
    shoot(parser.parse_args().out)


if __name__ == "__main__":
    main()
