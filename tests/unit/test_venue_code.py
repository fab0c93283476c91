from __future__ import annotations

import datetime as dt

import pytest

from unifiedqr.codes.classify import classify
from unifiedqr.codes.signing import Status, revocation_id_of
from unifiedqr.codes.trust import SigningKey, TrustList
from unifiedqr.codes.venue import MAX_VENUE_URL, parse_venue_url, sign_venue, verify_venue
from unifiedqr.errors import VenueCodeError

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(days=1)
KEY = SigningKey.generate("Platform", T0, 365)
TRUST = TrustList().with_key(KEY.public())
CODE = sign_venue("https://qr.platform.example.vn", "Vn8x2kQ9aZc", KEY, NOW)


def test_venue_code_shape_and_verification() -> None:
    url = CODE.url
    assert url.startswith("https://qr.platform.example.vn/v/Vn8x2kQ9aZc/")
    assert len(url) <= MAX_VENUE_URL
    assert classify(url).kind == "venue"
    assert parse_venue_url(url) == CODE
    assert verify_venue(url, TRUST, NOW).status is Status.VALID


@pytest.mark.parametrize("position", range(8, 200))
def test_altered_venue_code_is_never_valid(position: int) -> None:
    url = CODE.url
    if position >= len(url):
        return
    for ch in "aZ0-_./":
        if url[position] == ch:
            continue
        tampered = url[:position] + ch + url[position + 1 :]
        assert verify_venue(tampered, TRUST, NOW).status is not Status.VALID


def test_withdrawn_poster() -> None:
    revoked = TRUST.with_codes_revoked([revocation_id_of(CODE.signature)])
    assert verify_venue(CODE.url, revoked, NOW).status is Status.CODE_REVOKED


def test_bad_inputs() -> None:
    with pytest.raises(VenueCodeError):
        sign_venue("http://insecure.example", "Vn8x2kQ9aZc", KEY, NOW)
    with pytest.raises(VenueCodeError):
        sign_venue("https://x.example", "bad id!", KEY, NOW)
    with pytest.raises(VenueCodeError):
        sign_venue("https://" + "a" * 80 + ".example", "Vn8x2kQ9aZc", KEY, NOW)
    assert verify_venue("https://x.example/v/abc", TRUST, NOW).status is Status.MALFORMED
