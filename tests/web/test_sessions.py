"""The session cookie and CSRF tokens on their own: forgery, expiry (idle and absolute), renewal."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from tests.web.conftest import PASSWORD, World
from unifiedqr.services import accounts
from unifiedqr.services.context import Services
from unifiedqr.web import sessions


def claims(ctx: Services) -> sessions.SessionClaims:
    return sessions.new_claims(ctx, accounts.login(ctx, "khahan", PASSWORD).access_token)


def test_a_cookie_round_trips_and_forgeries_do_not(ctx: Services, world: World) -> None:
    made = claims(ctx)
    value = sessions.encode(ctx, made)
    assert value.startswith("uqs1.") and sessions.decode(ctx, value) == made
    body, mac = value.removeprefix("uqs1.").split(".")
    for forged in (
        "uqs1." + body + "." + mac[:-2] + ("AA" if mac[-2:] != "AA" else "BB"),
        "uqs1." + body[:-2] + "xx." + mac,
        value[:-1],
        "uqt_" + value[5:],
        "",
        "uqs1.",
        "uqs1." + "a" * 500,
    ):
        assert sessions.decode(ctx, forged) is None, forged


def test_idle_and_absolute_expiry(ctx: Services, world: World) -> None:
    made = claims(ctx)
    value = sessions.encode(ctx, made)
    ttl = ctx.settings.web.session_ttl_seconds
    assert sessions.decode(ctx, value, now=made.expires_at + 1) is None
    long_ago = dataclasses.replace(
        made,
        signed_in_at=int(time.time()) - ctx.settings.web.session_max_age_seconds - 10,
        expires_at=made.expires_at,
    )
    assert sessions.decode(ctx, sessions.encode(ctx, long_ago)) is None
    assert sessions.renewed(ctx, made) is None  # fresh: nothing to renew
    later = made.signed_in_at + ttl - 60
    slid = sessions.renewed(ctx, made, now=later)
    assert slid is not None and slid.expires_at == later + ttl and slid.nonce == made.nonce
    near_the_end = made.signed_in_at + ctx.settings.web.session_max_age_seconds - 10
    capped = sessions.renewed(ctx, made, now=near_the_end)
    assert (
        capped is not None
        and capped.expires_at == made.signed_in_at + ctx.settings.web.session_max_age_seconds
    )


def test_csrf_tokens_belong_to_their_session(ctx: Services, world: World) -> None:
    one, two = claims(ctx), claims(ctx)
    token = sessions.csrf_token(ctx, one.nonce)
    assert sessions.csrf_ok(ctx, one.nonce, token)
    assert not sessions.csrf_ok(ctx, two.nonce, token)
    assert not sessions.csrf_ok(ctx, one.nonce, None)
    assert not sessions.csrf_ok(ctx, None, token)
    assert not sessions.csrf_ok(ctx, one.nonce, token + "x" * 40)


def test_a_session_principal_follows_the_accounts_token_version(ctx: Services, world: World) -> None:
    made = claims(ctx)
    principal = ctx.session_principal(made.nonce, made.account_id, made.token_version)
    assert principal.role.value == "citizen"
    accounts.logout_everywhere(ctx, principal)
    import pytest

    from unifiedqr.errors import Unauthenticated

    with pytest.raises(Unauthenticated):
        ctx.session_principal(made.nonce, made.account_id, made.token_version)


def test_a_session_in_use_is_renewed_by_the_page_it_opens(ctx: Services, world: World, app: Any) -> None:
    """Past half of its idle lifetime, any page answers with a fresh cookie (the same session)."""
    from tests.web.conftest import Page

    made = claims(ctx)
    old = dataclasses.replace(made, expires_at=int(time.time()) + 60)
    browser = Page(app)
    try:
        browser.http.cookies.set(sessions.COOKIE, sessions.encode(ctx, old))
        answer = browser.get("/me")
        assert answer.status_code == 200
        fresh = [c for c in answer.headers.get_list("set-cookie") if c.startswith(sessions.COOKIE + "=uqs1.")]
        assert len(fresh) == 1 and "HttpOnly" in fresh[0]
        renewed = sessions.decode(ctx, fresh[0].split(";")[0].split("=", 1)[1])
        assert renewed is not None and renewed.nonce == made.nonce
        assert renewed.expires_at > old.expires_at + 3600
    finally:
        browser.close()


def test_signing_out_is_not_undone_by_a_renewal(ctx: Services, world: World, app: Any) -> None:
    from tests.web.conftest import Page

    old = dataclasses.replace(claims(ctx), expires_at=int(time.time()) + 60)
    browser = Page(app)
    try:
        browser.http.cookies.set(sessions.COOKIE, sessions.encode(ctx, old))
        answer = browser.post("/signout", {"csrf": sessions.csrf_token(ctx, old.nonce)})
        assert answer.status_code == 303
        set_cookies = [
            c for c in answer.headers.get_list("set-cookie") if c.startswith(sessions.COOKIE + "=")
        ]
        assert set_cookies == [c for c in set_cookies if "Max-Age=0" in c] and set_cookies
    finally:
        browser.close()
