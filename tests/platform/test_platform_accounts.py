"""Log-in, tokens, API keys and their rotation."""

from __future__ import annotations

import time
from dataclasses import replace

from platform_helpers import person_body
from tests.support import OPERATOR, create_account

from unifiedqr.services import accounts
from unifiedqr.services.auth import issue_token


def test_login_by_username_and_by_phone(ctx, anon, client_for):
    create_account(
        ctx,
        role="health_official",
        name="Official",
        username="official",
        phone="0912345678",
        password="correct horse",
    )
    by_name = anon.login("official", "correct horse")
    assert by_name["token_type"] == "bearer" and by_name["expires_in"] == ctx.settings.token_ttl_seconds
    assert anon.me()["role"] == "health_official"
    other = client_for(None)
    other.login("+84 912 345 678", "correct horse")
    assert other.me()["account_id"] == by_name["account_id"]


def test_wrong_credentials_are_one_vague_401(ctx, anon):
    create_account(ctx, role="health_official", name="O", username="official", password="correct horse")
    for login, password in [
        ("official", "wrong horse"),
        ("nobody", "correct horse"),
        ("0999999999", "x" * 8),
    ]:
        response = anon.raw("POST", "/auth/token", json={"login": login, "password": password})
        assert response.status_code == 401
        assert response.json()["detail"].endswith("wrong login or password")
    assert anon.raw("POST", "/auth/token", json={"login": "official"}).status_code == 422
    assert anon.raw("POST", "/auth/token", json={"login": 5, "password": "x"}).json()["field"] == "login"


def test_tampered_expired_and_logged_out_tokens_are_refused(ctx, make_user, client_for):
    user = make_user("administrator")
    token = user.token
    assert token is not None
    body, _, mac = token.partition(".")
    assert client_for(body + "." + mac[::-1]).raw("GET", "/me").status_code == 401
    assert client_for(token + "x").raw("GET", "/me").status_code == 401
    assert client_for("uqt_garbage").raw("GET", "/me").status_code == 401
    assert client_for("something-else").raw("GET", "/me").status_code == 401
    account_id = user.me()
    expired, _ = issue_token(ctx.vault, 1, 0, -10)
    assert client_for(expired).raw("GET", "/me").json()["detail"].endswith("expired; log in again")
    assert account_id["role"] == "administrator"
    assert user.raw("POST", "/auth/logout").status_code == 204
    assert client_for(token).raw("GET", "/me").status_code == 401


def test_authorization_header_shapes(anon):
    for header in ["Basic dXNlcjpwYXNz", "Bearer", "uqr_x", "Bearer    "]:
        response = anon.raw("GET", "/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_api_key_rotation_without_downtime(ctx, make_platform, client_for):
    platform = make_platform()
    new = platform.add_api_key(platform.platform_id, "2026 rotation")
    rotated = client_for(new["api_key"])
    assert rotated.register(**person_body())["created"] is True
    assert platform.register(**person_body())["created"] is True, "the old key still works until revoked"
    listed = rotated.list_api_keys(platform.platform_id)
    assert len(listed) == 2 and all("api_key" not in k for k in listed)
    rotated.revoke_api_key(platform.platform_id, platform.api_key_id)
    assert platform.raw("POST", "/people", json=person_body()).status_code == 401
    assert rotated.register(**person_body())["created"] is True
    assert rotated.raw("DELETE", f"/platforms/{platform.platform_id}/api-keys/key_nope").status_code == 404


def test_api_keys_are_stored_only_as_keyed_hashes(ctx, make_platform):
    platform = make_platform()
    from sqlalchemy import select

    from unifiedqr.store.models import ApiKey

    with ctx.db.read() as session:
        stored = session.scalars(select(ApiKey.key_hash)).all()
    assert platform.token is not None
    assert all(platform.token.encode() not in h and len(h) == 32 for h in stored)


def test_revoked_key_cache_expires_in_another_process(ctx, make_platform, client_for):
    """Another process's cache honours a revocation within api_key_cache_seconds."""
    from unifiedqr.services.context import Services

    platform = make_platform()
    other = Services(replace(ctx.settings, api_key_cache_seconds=0.2))
    try:
        principal = other.authenticate(f"Bearer {platform.token}")
        assert principal.role.value == "platform"
        accounts.revoke_api_key(ctx, OPERATOR, platform.platform_id, platform.api_key_id)
        time.sleep(0.3)
        import pytest

        from unifiedqr.errors import Unauthenticated

        with pytest.raises(Unauthenticated):
            other.authenticate(f"Bearer {platform.token}")
    finally:
        other.close()


def test_account_creation_rejections(make_user):
    admin = make_user("administrator")
    good = {"role": "health_official", "name": "N", "username": "health.one", "password": "correct horse"}
    assert admin.raw("POST", "/accounts", json=good).status_code == 201
    cases = [
        ({**good, "username": "health.one"}, 409, "username"),
        ({**good, "username": "A!"}, 422, "username"),
        ({**good, "username": "fresh", "password": "short"}, 422, "password"),
        ({**good, "username": "fresh", "role": "king"}, 422, "role"),
        ({**good, "username": "fresh", "role": "platform"}, 422, "role"),
        ({**good, "username": "fresh", "role": "citizen"}, 422, "qid"),
        ({**good, "username": "fresh", "role": "citizen", "qid": "123456789012345678"}, 404, "qid"),
        ({**good, "username": None, "phone": "123"}, 422, "phone"),
        ({**good, "username": None}, 422, "username"),
    ]
    for body, status, field in cases:
        response = admin.raw("POST", "/accounts", json=body)
        assert (response.status_code, response.json()["field"]) == (status, field), body
    assert admin.raw("POST", "/platforms", json={"name": ""}).status_code == 422
    assert admin.raw("POST", "/platforms", json={}).json()["field"] == "name"
