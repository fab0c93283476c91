"""The citizen's own data through the app: who looked at it (``/me/access``) and other apps' consent
requests (``/me/consents``): entries in words, names escaped, roles and CSRF enforced, approve and
decline end to end, and a request that can no longer be answered said so in the house style."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest

from tests.support import OPERATOR, create_account
from tests.web.conftest import PASSWORD, Page, World
from unifiedqr.services import accounts, consents, lookups, registry
from unifiedqr.services.context import Services
from unifiedqr.web import my_data, words

SCRIPT = "<script>alert(1)</script>"


def signed_in(page: Callable[..., Page], login: str = "khahan") -> Page:
    browser = page()
    assert browser.sign_in(login).status_code == 303
    return browser


def official_looks_up(ctx: Services, qid: str, purpose: str = "checkpoint", login: str = "official") -> None:
    official = ctx.credential(accounts.login(ctx, login, PASSWORD).access_token)
    lookups.lookup(ctx, official, lookups.Lookup(qid, purpose))


def ask_consent(ctx: Services, name: str = "PC-Covid", document: str = "001093029317") -> str:
    """A second app registers someone the first one registered: a consent request (its id)."""
    other = accounts.create_platform(ctx, OPERATOR, name)
    app = ctx.authenticate("Bearer " + other.api_key)
    asked = registry.register(ctx, app, registry.Registration(document, "Nguyen Le Kha Han", "1987-01-18"))
    assert isinstance(asked, consents.ConsentRequired)
    return asked.consent_id


def statuses(ctx: Services, login: str = "khahan") -> dict[str, str]:
    holder = ctx.credential(accounts.login(ctx, login, PASSWORD).access_token)
    return {c.consent_id: c.status for c in consents.for_holder(ctx, holder)}


# -- who looked at my data ------------------------------------------------------------------------
def test_an_officials_look_up_shows_with_its_purpose_in_words(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    browser = signed_in(page)
    empty = browser.get("/me/access")
    assert empty.status_code == 200
    assert 'id="access-empty"' in empty.text and "Nobody has looked at your data yet" in empty.text
    assert 'href="/me/visits"' in empty.text, "door scans are in My visits"

    official_looks_up(ctx, world.citizen_qid, "checkpoint")
    official_looks_up(ctx, world.child_qid, "treatment")  # someone else: not on this page
    answer = browser.get("/me/access")
    assert answer.status_code == 200
    body = answer.text[answer.text.index("<tbody>", answer.text.index('id="access-log"')) :]
    rows = re.findall(r"<tr>(.*?)</tr>", body[: body.index("</tbody>")], re.S)
    assert len(rows) == 1, rows
    assert "Official" in rows[0]
    assert "Cán bộ y tế" in rows[0] and "Health official" in rows[0]
    assert "Chốt kiểm soát" in rows[0] and "Checkpoint" in rows[0]
    assert "Tra cứu mã QR" in rows[0] and "Looked up your code" in rows[0]
    assert "checkpoint" not in rows[0], "the purpose in words, not its code"
    assert "Medical treatment" not in answer.text
    assert 'aria-current="page"' in answer.text and 'href="/me/access"' in answer.text


def test_the_access_log_is_newest_first_in_vietnam_time(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    official_looks_up(ctx, world.citizen_qid, "investigation")
    official_looks_up(ctx, world.citizen_qid, "tracing")
    text = signed_in(page).get("/me/access").text
    assert text.index("Contact tracing") < text.index("Investigation")
    now = ctx.now() + ctx.venues.rules.offset
    assert now.strftime("%d/%m/%Y") in text


def test_a_consent_request_shows_in_the_access_log(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    ask_consent(ctx, "PC-Covid")
    text = signed_in(page).get("/me/access").text
    assert "PC-Covid" in text and "Asking your consent" in text and "Consent request" in text


def test_actor_names_are_escaped(page: Callable[..., Page], world: World, ctx: Services) -> None:
    create_account(ctx, role="health_official", name=SCRIPT, password=PASSWORD, username="sneaky")
    official_looks_up(ctx, world.citizen_qid, login="sneaky")
    ask_consent(ctx, SCRIPT + " app")
    browser = signed_in(page)
    for path in ("/me/access", "/me/consents"):
        text = browser.get(path).text
        assert SCRIPT not in text, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, path


def test_every_value_has_words() -> None:
    """Each role, purpose and ``what`` the service can list has its words; an unknown one shows as is."""
    assert words.words(words.PURPOSE_WORDS, "checkpoint") == ("Chốt kiểm soát", "Checkpoint")
    assert words.words(words.PURPOSE_WORDS, None) == words.NO_PURPOSE
    assert words.words(words.PURPOSE_WORDS, "new_one") == ("new_one", "new_one")
    assert set(my_data.STATUS) == {
        consents.PENDING,
        consents.APPROVED,
        consents.REFUSED,
        consents.VOIDED,
        consents.EXPIRED,
    }


# -- who may see them -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/me/access", "/me/consents"])
def test_no_session_goes_to_sign_in(page: Callable[..., Page], world: World, path: str) -> None:
    answer = page().get(path)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/?next=" + path


@pytest.mark.parametrize("login", ["gate", "official", "admin"])
@pytest.mark.parametrize("path", ["/me/access", "/me/consents"])
def test_other_roles_are_refused(page: Callable[..., Page], world: World, login: str, path: str) -> None:
    answer = signed_in(page, login).get(path)
    assert answer.status_code == 403
    assert answer.headers["content-type"].startswith("text/html")
    assert "You may not see this page" in answer.text


def test_the_menu_shows_the_pages_to_citizens_only(page: Callable[..., Page], world: World) -> None:
    mine = signed_in(page).get("/me").text
    assert 'href="/me/access"' in mine and 'href="/me/consents"' in mine
    gate = signed_in(page, "gate").get("/scanner").text
    assert 'href="/me/access"' not in gate and 'href="/me/consents"' not in gate


# -- consent requests -----------------------------------------------------------------------------
def test_no_requests(page: Callable[..., Page], world: World) -> None:
    text = signed_in(page).get("/me/consents").text
    assert 'id="consents-empty"' in text
    assert "6-digit code" in text, "the other way to agree is explained"


def test_a_pending_request_for_me_and_one_for_my_child(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    ask_consent(ctx, "PC-Covid")
    other = accounts.create_platform(ctx, OPERATOR, "Bluezone")
    app = ctx.authenticate("Bearer " + other.api_key)
    asked = registry.register(ctx, app, registry.Registration("001215000123", "Nguyen Han Bao", "2015-06-01"))
    assert isinstance(asked, consents.ConsentRequired)
    text = signed_in(page).get("/me/consents").text
    assert "PC-Covid" in text and "Bluezone" in text
    assert "NGUYEN LE KHA HAN (tôi" in text, "the holder's own request says so"
    assert "NGUYEN HAN BAO" in text and "NGUYEN HAN BAO (tôi" not in text
    assert text.count('name="decision" value="approve"') == 2
    assert text.count('name="decision" value="decline"') == 2
    assert "Waiting for you" in text
    assert "see and use this person" in text


def test_approve_end_to_end(page: Callable[..., Page], world: World, ctx: Services) -> None:
    consent_id = ask_consent(ctx)
    browser = signed_in(page)
    answer = browser.submit(f"/me/consents/{consent_id}", {"decision": "approve"}, "/me/consents")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/me/consents?done=approved"
    assert statuses(ctx) == {consent_id: "approved"}
    after = browser.get(answer.headers["location"]).text
    assert 'id="consent-done"' in after and "You approved the request" in after
    assert "Approved" in after and 'name="decision"' not in after


def test_decline_end_to_end(page: Callable[..., Page], world: World, ctx: Services) -> None:
    consent_id = ask_consent(ctx)
    browser = signed_in(page)
    answer = browser.submit(f"/me/consents/{consent_id}", {"decision": "decline"}, "/me/consents")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/me/consents?done=declined"
    assert statuses(ctx) == {consent_id: "refused"}
    after = browser.get(answer.headers["location"]).text
    assert "You declined the request" in after and "Declined" in after


def test_a_post_without_the_right_csrf_token_decides_nothing(
    page: Callable[..., Page], world: World, ctx: Services
) -> None:
    consent_id = ask_consent(ctx)
    browser = signed_in(page)
    path = f"/me/consents/{consent_id}"
    assert browser.post(path, {"decision": "approve"}).status_code == 403
    assert browser.post(path, {"decision": "approve", "csrf": "forged"}).status_code == 403
    other = signed_in(page)  # another session of the same citizen: its token is not this one's
    wrong = browser.post(path, {"decision": "approve", "csrf": other.form_token("/me/consents")})
    assert wrong.status_code == 403
    assert statuses(ctx) == {consent_id: "pending"}


def test_another_role_cannot_decide(page: Callable[..., Page], world: World, ctx: Services) -> None:
    consent_id = ask_consent(ctx)
    official = signed_in(page, "official")
    answer = official.submit(f"/me/consents/{consent_id}", {"decision": "approve"}, "/account")
    assert answer.status_code == 403
    assert statuses(ctx) == {consent_id: "pending"}


def test_an_unknown_decision_is_refused(page: Callable[..., Page], world: World, ctx: Services) -> None:
    consent_id = ask_consent(ctx)
    answer = signed_in(page).submit(f"/me/consents/{consent_id}", {"decision": "maybe"}, "/me/consents")
    assert answer.status_code == 422 and "Choose Approve or Decline" in answer.text
    assert statuses(ctx) == {consent_id: "pending"}


def test_an_already_answered_request_says_so(page: Callable[..., Page], world: World, ctx: Services) -> None:
    consent_id = ask_consent(ctx)
    browser = signed_in(page)
    assert (
        browser.submit(f"/me/consents/{consent_id}", {"decision": "decline"}, "/me/consents").status_code
        == 303
    )
    again = browser.submit(f"/me/consents/{consent_id}", {"decision": "approve"}, "/me/consents")
    assert again.status_code == 409
    assert 'id="consent-error"' in again.text and "already answered" in again.text
    assert statuses(ctx) == {consent_id: "refused"}


def test_an_expired_request_says_so(
    page: Callable[..., Page], world: World, ctx: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    consent_id = ask_consent(ctx)
    browser = signed_in(page)
    token = browser.form_token("/me/consents")
    later = dt.datetime.now(dt.UTC) + consents.CODE_TTL + dt.timedelta(seconds=1)
    monkeypatch.setattr(ctx, "now", lambda: later)
    listed = browser.get("/me/consents").text
    assert "Expired" in listed and 'name="decision"' not in listed
    answer = browser.post(f"/me/consents/{consent_id}", {"decision": "approve", "csrf": token})
    assert answer.status_code == 410
    assert 'id="consent-error"' in answer.text and "expired" in answer.text
    assert statuses(ctx) == {consent_id: "expired"}


def test_someone_elses_request_is_not_found(page: Callable[..., Page], world: World, ctx: Services) -> None:
    app = ctx.authenticate("Bearer " + world.platform_key)
    binh = registry.register(ctx, app, registry.Registration("079088001234", "Tran Van Binh", "1988-11-30"))
    assert isinstance(binh, registry.Issued)
    create_account(ctx, role="citizen", name="Binh", password=PASSWORD, username="other", qid=binh.qid)
    consent_id = ask_consent(ctx)
    stranger = signed_in(page, "other")
    answer = stranger.submit(f"/me/consents/{consent_id}", {"decision": "approve"}, "/me/consents")
    assert answer.status_code == 404 and "No such request" in answer.text
    missing = signed_in(page).submit("/me/consents/cns_nothing", {"decision": "approve"}, "/me/consents")
    assert missing.status_code == 404
    assert statuses(ctx) == {consent_id: "pending"}
