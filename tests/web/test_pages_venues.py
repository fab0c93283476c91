"""The owner's and the scanner's pages and the check-in landing page through the app: registering a
venue, the chart and masked history, poster, team; HTML escaping; the signed-in check-in; the camera
pages' CSP."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.web.conftest import PASSWORD, Page, World
from unifiedqr.services import accounts, checkins
from unifiedqr.services.context import Services
from unifiedqr.web.chart import Series, hourly_bars, nice_step

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def owner(page: Callable[..., Page], world: World) -> Page:
    browser = page()
    assert browser.sign_in(world.owner_login, world.owner_password).status_code == 303
    return browser


def registration(**changes: str) -> dict[str, str]:
    form = {
        "name": "Tiệm Bánh Mì",
        "type": "shop",
        "province": "Hà Nội",
        "district": "Ba Đình",
        "commune": "Điện Biên",
        "street": "5 Hoàng Diệu",
        "owner_phone": "0912345678",
        "entrances": "cửa chính, cửa sau",
    }
    return {**form, **changes}


def test_an_owner_registers_a_venue_and_prints_its_poster(page: Callable[..., Page], world: World) -> None:
    browser = owner(page, world)
    answer = browser.submit("/venues", registration(), "/venues")
    assert answer.status_code == 303
    venue_path = answer.headers["location"].split("?")[0]
    text = browser.get(answer.headers["location"]).text
    assert "Tiệm Bánh Mì" in text and "Registered" in text
    assert "cửa chính" in browser.get(venue_path + "/team").text
    poster = browser.get(venue_path + "/poster.pdf")
    assert poster.status_code == 200 and poster.headers["content-type"] == "application/pdf"
    assert poster.content.startswith(b"%PDF")
    assert browser.get(venue_path + "/poster.png").headers["content-type"] == "image/png"
    assert browser.get(venue_path + "/poster.gif").status_code == 422
    assert "Tiệm Bánh Mì" in browser.get("/venues").text


def test_a_registration_is_refused_by_the_apis_rules(page: Callable[..., Page], world: World) -> None:
    browser = owner(page, world)
    answer = browser.submit("/venues", registration(type="castle"), "/venues")
    assert answer.status_code == 422 and 'id="form-error"' in answer.text and "type" in answer.text
    assert 'value="Tiệm Bánh Mì"' in answer.text


def test_the_venue_day_has_a_chart_and_masked_visits(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    staff = ctx.credential(accounts.login(ctx, "gate", PASSWORD).access_token)
    for text in (world.citizen_code, "0912000111", "0912000222"):
        checkins.staff_scan(ctx, staff, checkins.StaffScan(world.venue.venue_id, text=text))
    text = owner(page, world).get(f"/venues/{world.venue.venue_id}").text
    chart = text[text.index('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') :]
    chart = chart[: chart.index("</svg>")]
    assert 'role="img"' in chart and "<title" in chart and "<desc" in chart
    assert chart.count(": 3</title>") == 1  # the hour with three check-ins
    assert re.search(r'<b id="total-in">3</b>', text)
    assert "N***** L* K** HAN" in text and "091****111" in text
    assert "NGUYEN LE KHA HAN" not in text and "0912000111" not in text


def test_the_team_page_adds_and_removes_staff_and_entrances(page: Callable[..., Page], world: World) -> None:
    browser = owner(page, world)
    team = f"/venues/{world.venue.venue_id}/team"
    assert (
        browser.submit(f"/venues/{world.venue.venue_id}/entrances", {"name": "side"}, team).status_code == 303
    )
    added = browser.submit(
        f"/venues/{world.venue.venue_id}/staff",
        {"name": "Lan", "username": "lan.gate", "password": PASSWORD},
        team,
    )
    assert added.status_code == 303
    text = browser.get(team).text
    assert "side" in text and "lan.gate" in text
    taken = browser.submit(
        f"/venues/{world.venue.venue_id}/staff",
        {"name": "X", "username": "lan.gate", "password": PASSWORD},
        team,
    )
    assert taken.status_code == 422 and PASSWORD not in taken.text  # the password is never echoed
    account = re.search(r'/staff/(acc_[A-Za-z0-9_-]+)/remove"', text)
    assert account
    assert (
        browser.submit(f"/venues/{world.venue.venue_id}/staff/{account[1]}/remove", {}, team).status_code
        == 303
    )


def test_everything_shown_is_escaped(page: Callable[..., Page], world: World) -> None:
    browser = owner(page, world)
    answer = browser.submit("/venues", registration(name=HOSTILE, street=HOSTILE), "/venues")
    assert answer.status_code == 303
    for path in (answer.headers["location"], "/venues"):
        text = browser.get(path).text
        assert HOSTILE not in text and "<script>alert" not in text and "<img src=x" not in text
        assert "&lt;script&gt;" in text
    team = f"/venues/{world.venue.venue_id}/team"
    browser.submit(
        f"/venues/{world.venue.venue_id}/staff",
        {"name": HOSTILE, "username": "mai.gate", "password": PASSWORD},
        team,
    )
    assert "<script>alert" not in browser.get(team).text
    signin = page().post("/", {"login": HOSTILE, "password": "x"})
    assert "<script>alert" not in signin.text and "&lt;script&gt;" in signin.text
    assert "<script>alert" not in page().get("/?next=" + HOSTILE).text


def test_the_chart_is_pure_svg() -> None:
    svg = hourly_bars("T <x>", "D & d", [Series("In <b>", [0] * 23 + [7], "#000")])
    assert "<x>" not in svg and "&lt;x&gt;" in svg and "&amp;" in svg
    assert "23:00 In &lt;b&gt;: 7" in svg
    assert [nice_step(v) for v in (0, 4, 5, 9, 23, 399)] == [1, 1, 2, 5, 10, 100]


def test_the_scanner_page(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("gate")
    home = browser.get("/scanner")
    assert home.status_code == 303 and home.headers["location"] == f"/scanner/{world.venue.venue_id}"
    text = browser.get(home.headers["location"]).text
    assert 'id="scan"' in text and "autofocus" in text[text.index('id="scan"') :][:200]
    assert 'data-venue="' + world.venue.venue_id in text and "front" in text and "back" in text
    camera = browser.get(f"/scanner/{world.venue.venue_id}/camera")
    assert "'wasm-unsafe-eval'" in camera.headers["content-security-policy"]
    assert "zxing-reader.iife.js" in camera.text
    assert "wasm-unsafe-eval" not in browser.get(home.headers["location"]).headers["content-security-policy"]


def test_the_landing_page_offers_sign_in_and_the_camera(page: Callable[..., Page], world: World) -> None:
    text = page().get(world.venue_path).text
    assert 'name="code"' in text and 'name="phone"' in text  # the anonymous form stays
    assert f'href="/?next={world.venue_path}"' in text or "/?next=%2Fv%2F" in text
    assert f'href="{world.venue_path}/camera"' in text
    camera = page().get(world.venue_path + "/camera")
    assert camera.status_code == 200 and "'wasm-unsafe-eval'" in camera.headers["content-security-policy"]
    assert f'action="{world.venue_path}"' in camera.text  # it submits the same anonymous form
    assert page().get(world.venue_path[:-3] + "AAA/camera").status_code == 422


def test_a_signed_in_citizen_checks_in_with_one_tap(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("khahan", next_=world.venue_path)
    text = browser.get(world.venue_path).text
    assert 'id="signed-in-checkin"' in text and "Nguyen Le Kha Han" in text
    assert browser.post(world.venue_path + "/me", {"direction": "in"}).status_code == 403  # no CSRF
    done = browser.submit(world.venue_path + "/me", {"direction": "in"}, world.venue_path)
    assert done.status_code == 201
    assert "Checked in" in done.text and "UTC+7" in done.text and "Vietnam time" in done.text
    out = browser.submit(world.venue_path + "/me", {"direction": "out"}, world.venue_path)
    assert "Checked out" in out.text
    assert 'class="pill out"' in browser.get("/me/visits").text
    staff = page()
    staff.sign_in("gate")  # no check-in permission: the landing page offers no button
    assert 'id="signed-in-checkin"' not in staff.get(world.venue_path).text
