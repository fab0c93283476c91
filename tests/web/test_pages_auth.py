"""Sessions through the app: signing in at ``/``, each role's landing page, role gating, CSRF,
signing out (here and everywhere), the security headers, and sessions kept apart from API tokens."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from tests.web.conftest import PASSWORD, Page, World
from unifiedqr.services.context import Services
from unifiedqr.web import sessions

LOGINS = {
    "citizen": ("khahan", "/me"),
    "venue_staff": ("gate", "/scanner"),
    "health_official": ("official", "/console"),
    "administrator": ("admin", "/console"),
}


def test_root_is_the_sign_in_form(page: Callable[..., Page]) -> None:
    answer = page().get("/")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    form = answer.text[answer.text.index('<form method="post" action="/"') :]
    assert 'name="login"' in form and 'name="password"' in form and 'name="csrf"' in form
    assert 'type="password"' in form and 'autocomplete="current-password"' in form
    assert '<label for="login">' in answer.text and '<label for="password">' in answer.text


@pytest.mark.parametrize("role", sorted(LOGINS))
def test_each_role_lands_on_its_own_page(page: Callable[..., Page], world: World, role: str) -> None:
    login, home = LOGINS[role]
    browser = page()
    answer = browser.sign_in(login)
    assert answer.status_code == 303 and answer.headers["location"] == home
    landed = browser.get(home, follow_redirects=True)
    assert landed.status_code == 200, landed.text[:300]
    assert browser.get("/").headers["location"] == home  # signed in: / sends you home


def test_the_owner_lands_on_their_venues(page: Callable[..., Page], world: World) -> None:
    browser = page()
    assert browser.sign_in(world.owner_login, world.owner_password).headers["location"] == "/venues"
    assert world.venue.name in browser.get("/venues").text


def test_session_cookie_flags(page: Callable[..., Page], world: World) -> None:
    answer = page().sign_in("khahan")
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(sessions.COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http in development
    secure = page("https://testserver").sign_in("khahan")
    cookie = next(c for c in secure.headers.get_list("set-cookie") if c.startswith(sessions.COOKIE + "="))
    assert "; Secure" in cookie


def test_wrong_password_gives_no_session(page: Callable[..., Page], world: World) -> None:
    browser = page()
    answer = browser.sign_in("khahan", "wrong password")
    assert answer.status_code == 401
    assert "Wrong login or password" in answer.text
    assert not any(c.startswith(sessions.COOKIE + "=uqs") for c in answer.headers.get_list("set-cookie"))
    assert browser.get("/me").status_code == 303


def test_sign_in_needs_its_csrf_token_from_a_browser(page: Callable[..., Page], world: World) -> None:
    browser = page()
    forged = browser.post(
        "/", {"login": "khahan", "password": PASSWORD}, headers={"Origin": "https://evil.example"}
    )
    assert forged.status_code == 403 and "expired" in forged.text
    wrong = browser.post("/", {"login": "khahan", "password": PASSWORD, "csrf": "x" * 32})
    assert wrong.status_code == 403
    # A script (no Origin, no Sec-Fetch-Site: no victim browser to borrow) may sign in without one.
    assert page().post("/", {"login": "khahan", "password": PASSWORD}).status_code == 303


def test_next_goes_back_to_a_local_page_only(page: Callable[..., Page], world: World) -> None:
    assert page().sign_in("khahan", next_=world.venue_path).headers["location"] == world.venue_path
    for hostile in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        assert page().sign_in("khahan", next_=hostile).headers["location"] == "/me"


def test_anonymous_pages_send_to_sign_in(page: Callable[..., Page], world: World) -> None:
    browser = page()
    for path in (
        "/me",
        "/me/declarations",
        "/scanner",
        "/venues",
        "/console",
        f"/venues/{world.venue.venue_id}",
    ):
        answer = browser.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/?next=" + path.split("?")[0]), path


@pytest.mark.parametrize(
    ("login", "path", "status"),
    [
        ("khahan", "/scanner", 403),
        ("khahan", "/venues", 403),
        ("khahan", "/console", 403),
        ("gate", "/me", 403),
        ("gate", "/venues", 403),
        ("official", "/me", 403),
        ("official", "/scanner", 403),
    ],
)
def test_pages_outside_ones_role_are_refused(
    page: Callable[..., Page], world: World, login: str, path: str, status: int
) -> None:
    browser = page()
    browser.sign_in(login)
    answer = browser.get(path)
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("text/html")  # the house style, not JSON
    assert "You may not see this page" in answer.text


def test_another_venue_is_not_found(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("gate")
    assert browser.get("/scanner/AAAAAAAAAAA").status_code == 404
    owner = page()
    owner.sign_in(world.owner_login, world.owner_password)
    assert owner.get("/venues/AAAAAAAAAAA").status_code == 404
    assert "Page not found" in page().get("/no/such/page").text


def test_posts_without_the_csrf_token_are_refused(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("khahan")
    form = {
        "kind": "health",
        "qid": world.citizen_qid,
        "address_province": "Hà Nội",
        "address_district": "Ba Đình",
    }
    assert browser.post("/me/declarations", form).status_code == 403
    assert browser.post("/me/declarations", {**form, "csrf": "forged"}).status_code == 403
    other = page()
    other.sign_in("khahan")  # another session's token is no good here either
    assert browser.post("/me/declarations", {**form, "csrf": other.form_token("/me")}).status_code == 403
    assert browser.submit("/me/declarations", form, "/me").status_code == 303


def test_security_headers(page: Callable[..., Page], world: World) -> None:
    browser = page()
    signin = browser.get("/")
    browser.sign_in("khahan")
    for answer in (signin, browser.get("/me"), browser.get("/me/visits"), page().get("/nope")):
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
        assert "'unsafe-inline'" not in csp and "wasm-unsafe-eval" not in csp
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "no-store" in answer.headers["cache-control"]
        assert not re.search(r"<script>|<style>| on[a-z]+=\"", answer.text), "inline script or style"
    assert browser.get("/static/css/app.css").headers["x-content-type-options"] == "nosniff"
    api = browser.get("/api/v1/health")
    assert "content-security-policy" not in api.headers  # the API is not a page


def test_signing_out_ends_the_session_here(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("khahan")
    token = browser.form_token("/me")
    cookie = browser.http.cookies.get(sessions.COOKIE)
    answer = browser.post("/signout", {"csrf": token})
    assert answer.status_code == 303
    assert any(
        c.startswith(sessions.COOKIE + "=;") and "Max-Age=0" in c
        for c in answer.headers.get_list("set-cookie")
    )
    assert browser.get("/me").status_code == 303
    assert cookie is not None


def test_signing_out_everywhere_voids_every_session_and_token(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    phone, laptop = page(), page()
    phone.sign_in("khahan")
    laptop.sign_in("khahan")
    api = page()
    token = api.post("/api/v1/auth/token", json={"login": "khahan", "password": PASSWORD}).json()[
        "access_token"
    ]
    assert laptop.submit("/signout/everywhere", {}, "/me").status_code == 303
    assert phone.get("/me").status_code == 303
    assert laptop.get("/me").status_code == 303
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_a_removed_staff_members_session_ends(page: Callable[..., Page], world: World, ctx: Services) -> None:
    from tests.support import OPERATOR
    from unifiedqr.services import venues

    browser = page()
    browser.sign_in("gate")
    assert browser.get(f"/scanner/{world.venue.venue_id}").status_code == 200
    staff = venues.list_staff(ctx, OPERATOR, world.venue.venue_id)
    venues.remove_staff(ctx, OPERATOR, world.venue.venue_id, staff[0].account_id)
    assert browser.get(f"/scanner/{world.venue.venue_id}").status_code == 303


def test_a_session_is_not_an_api_token_nor_the_reverse(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("khahan")
    cookie = browser.http.cookies.get(sessions.COOKIE)
    assert cookie and cookie.startswith("uqs1.")
    api = page()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {cookie}"}).status_code == 401
    token = api.post("/api/v1/auth/token", json={"login": "khahan", "password": PASSWORD}).json()[
        "access_token"
    ]
    stranger = page()
    stranger.http.cookies.set(sessions.COOKIE, token)
    assert stranger.get("/me").status_code == 303


def test_the_scanner_gets_a_short_lived_api_token_by_header(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("gate")
    token = re.search(
        r'name="csrf-token" content="([^"]+)"', browser.get(f"/scanner/{world.venue.venue_id}").text
    )
    assert token
    assert browser.post("/session/api-token").status_code == 403  # no CSRF header
    answer = browser.post("/session/api-token", headers={"X-CSRF-Token": token[1]})
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    bearer = answer.json()["access_token"]
    scan = browser.post(
        f"/api/v1/venues/{world.venue.venue_id}/scans",
        json={"phone": "0912000333"},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert scan.status_code == 201
    citizen = page()
    citizen.sign_in("khahan")
    csrf = citizen.form_token("/me")
    assert citizen.post("/session/api-token", headers={"X-CSRF-Token": csrf}).status_code == 403


def test_sign_in_is_throttled_like_the_api(page: Callable[..., Page], world: World) -> None:
    """Failures for one login from one address are limited (UNIFIEDQR_LIMIT_LOGIN): 429, Retry-After."""
    browser = page()
    limit = browser.http.app.state.services.settings.limits.login.count
    for _ in range(limit):
        assert browser.sign_in("khahan", "wrong password").status_code == 401
    blocked = browser.sign_in("khahan")  # even the right password, until the window passes
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) > 0
    assert "Too many failed sign-ins" in blocked.text
    assert not any(c.startswith(sessions.COOKIE + "=uqs") for c in blocked.headers.get_list("set-cookie"))
