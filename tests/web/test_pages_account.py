"""The account page's password change through the app: CSRF, the two new passwords compared, the
service's refusals shown by field, the throttle, and this session carrying on while others end."""

from __future__ import annotations

from collections.abc import Callable

from tests.web.conftest import PASSWORD, Page, World

NEW = "another horse battery"


def _change(browser: Page, current: str, new: str = NEW, again: str | None = None):
    form = {
        "current_password": current,
        "new_password": new,
        "new_password_again": new if again is None else again,
    }
    return browser.submit("/account/password", form, "/account")


def test_changing_the_password_keeps_this_session_and_ends_the_others(
    page: Callable[..., Page], world: World
) -> None:
    browser, elsewhere = page(), page()
    browser.sign_in("khahan")
    elsewhere.sign_in("khahan")
    answer = _change(browser, PASSWORD)
    assert answer.status_code == 303 and answer.headers["location"] == "/account?changed=1"
    assert "Password changed." in browser.get("/account?changed=1").text
    assert browser.get("/me").status_code == 200  # a fresh session cookie came with the redirect
    assert elsewhere.get("/me").status_code == 303  # to the sign-in page
    assert page().sign_in("khahan", PASSWORD).status_code == 401
    assert page().sign_in("khahan", NEW).status_code == 303


def test_refusals_are_shown_by_field(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("official")
    mismatch = _change(browser, PASSWORD, again="something else")
    assert mismatch.status_code == 422 and "<b>new_password_again</b>" in mismatch.text
    wrong = _change(browser, "not my password")
    assert wrong.status_code == 422 and "<b>current_password</b>" in wrong.text
    short = _change(browser, PASSWORD, new="short")
    assert short.status_code == 422 and "<b>new_password</b>" in short.text
    assert "not my password" not in wrong.text and PASSWORD not in wrong.text  # never echoed
    assert browser.get("/console").status_code == 200  # still signed in, nothing changed


def test_the_form_needs_its_csrf_token(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("khahan")
    form = {"current_password": PASSWORD, "new_password": NEW, "new_password_again": NEW}
    assert browser.post("/account/password", form).status_code == 403
    assert page().sign_in("khahan", PASSWORD).status_code == 303  # unchanged


def test_guesses_are_throttled(page: Callable[..., Page], world: World) -> None:
    browser = page()
    browser.sign_in("gate")
    statuses = [_change(browser, f"guess {n}").status_code for n in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429
