"""Changing one's own password (``POST /me/password``) through the real app, on both databases:
the old password and every other token stop working, the answer's fresh token works, a wrong
current password is a form error (422) that counts against the log-in throttle, platforms are 403."""

from __future__ import annotations

from tests.support import create_account

PASSWORD = "the first password"


def _citizenless_user(ctx, client_for, name: str = "minh"):
    create_account(ctx, role="health_official", name=name, password=PASSWORD, username=name)
    client = client_for(None)
    client.login(name, PASSWORD)
    return client


def test_a_new_password_ends_every_other_token(ctx, client_for):
    user = _citizenless_user(ctx, client_for)
    other_device = client_for(None)
    other_device.login("minh", PASSWORD)
    answer = user.raw(
        "POST", "/me/password", json={"current_password": PASSWORD, "new_password": "a new one 2"}
    )
    assert answer.status_code == 200, answer.text
    fresh = answer.json()["access_token"]
    assert other_device.raw("GET", "/me").status_code == 401
    assert user.raw("GET", "/me").status_code == 401  # the token that asked ended too
    assert client_for(fresh).raw("GET", "/me").status_code == 200
    assert (
        client_for(None).raw("POST", "/auth/token", json={"login": "minh", "password": PASSWORD}).status_code
        == 401
    )
    again = client_for(None).raw("POST", "/auth/token", json={"login": "minh", "password": "a new one 2"})
    assert again.status_code == 200


def test_refusals_name_the_field(ctx, client_for):
    user = _citizenless_user(ctx, client_for)
    cases = [
        ({"current_password": "wrong password", "new_password": "a new one 2"}, "current_password"),
        ({"current_password": PASSWORD, "new_password": "short"}, "new_password"),
        ({"current_password": PASSWORD, "new_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD}, "new_password"),
        ({"current_password": PASSWORD, "new_password": "a new one 2", "extra": 1}, "extra"),
    ]
    for body, field in cases:
        answer = user.raw("POST", "/me/password", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert answer.json()["field"] == field, (body, answer.json())
    assert user.raw("GET", "/me").status_code == 200  # nothing changed


def test_guessing_the_current_password_is_throttled(ctx, client_for):
    user = _citizenless_user(ctx, client_for)
    statuses = [
        user.raw(
            "POST", "/me/password", json={"current_password": f"guess {n}", "new_password": "a new one 2"}
        ).status_code
        for n in range(ctx.settings.limits.login.count + 1)
    ]
    assert statuses[:-1] == [422] * ctx.settings.limits.login.count and statuses[-1] == 429
    right = user.raw(
        "POST", "/me/password", json={"current_password": PASSWORD, "new_password": "a new one 2"}
    )
    assert right.status_code == 429 and "Retry-After" in right.headers  # right or wrong, until it passes


def test_who_may_change_a_password(ctx, client_for, make_platform):
    anonymous = client_for(None).raw(
        "POST", "/me/password", json={"current_password": "x", "new_password": "y" * 8}
    )
    assert anonymous.status_code == 401
    platform = make_platform("P").raw(
        "POST", "/me/password", json={"current_password": "x", "new_password": "y" * 8}
    )
    assert platform.status_code == 403 and platform.json()["field"] == "password"
