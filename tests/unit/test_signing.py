"""Sign/verify round trips, every named outcome, and the one-character tamper table."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.strategies import personal_codes
from unifiedqr.codes.display import masked_variant
from unifiedqr.codes.payload import PersonalCode, format_code, parse
from unifiedqr.codes.signing import (
    Status,
    revocation_id_of,
    sign_code,
    split_signature,
    verify_code,
    verify_payload,
)
from unifiedqr.codes.trust import SigningKey, TrustList, b64url_decode, b64url_encode
from unifiedqr.errors import SigningError

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = T0 + dt.timedelta(days=10)
KEY = SigningKey.generate("Test platform", T0, valid_days=365)
OTHER = SigningKey.generate("Other", T0, valid_days=365)
TRUST = TrustList().with_key(KEY.public())
SAMPLE = parse("001093029317|NGUYEN LE KHA HAN|1987-01-18|0|162979388586171100|<1<HS4010120878821<0944713700")
SIGNED = format_code(sign_code(SAMPLE, KEY, NOW))


def test_signature_layout() -> None:
    code = parse(SIGNED)
    assert SIGNED.startswith(format_code(SAMPLE) + "<")
    assert code.signed and code.phone == "0944713700" and code.extra == ()
    key_id, raw = split_signature(code.signature or "")
    assert key_id == KEY.key_id and len(raw) == 64 and len(key_id) == 11
    assert code.signed_text == format_code(SAMPLE)


@pytest.mark.parametrize(
    ("trust", "at", "status"),
    [
        (TRUST, NOW, Status.VALID),
        (TrustList(), NOW, Status.UNKNOWN_KEY),
        (TrustList().with_key(OTHER.public()), NOW, Status.UNKNOWN_KEY),
        (TRUST, T0 - dt.timedelta(seconds=1), Status.KEY_NOT_YET_VALID),
        (TRUST, T0 + dt.timedelta(days=365), Status.KEY_EXPIRED),
        (TRUST.with_key_revoked(KEY.key_id), NOW, Status.KEY_REVOKED),
    ],
)
def test_outcomes(trust: TrustList, at: dt.datetime, status: Status) -> None:
    assert verify_payload(SIGNED, trust, at).status is status


def test_unsigned_malformed_and_code_revoked() -> None:
    assert verify_payload(format_code(SAMPLE), TRUST, NOW).status is Status.UNSIGNED
    assert verify_payload("not a code", TRUST, NOW).status is Status.MALFORMED
    revoked = TRUST.with_codes_revoked([revocation_id_of(parse(SIGNED).signature or "")])
    assert verify_payload(SIGNED, revoked, NOW).status is Status.CODE_REVOKED
    # Withdrawing one code leaves the key's other codes valid.
    other = format_code(sign_code(parse(SIGNED.replace("0944713700", "0912345678")), KEY, NOW))
    assert verify_payload(other, revoked, NOW).status is Status.VALID


def test_signed_by_a_key_claiming_another_id_is_bad() -> None:
    forged = sign_code(SAMPLE, OTHER, NOW)
    impostor = forged.with_signature(KEY.key_id + forged.signature[11:])  # type: ignore[index]
    assert verify_code(impostor, TRUST, NOW).status is Status.BAD_SIGNATURE


def test_refuses_to_sign_outside_validity() -> None:
    with pytest.raises(SigningError):
        sign_code(SAMPLE, KEY, T0 + dt.timedelta(days=400))


ALPHABET = string.ascii_letters + string.digits + "-_.<|*= "


@pytest.mark.parametrize("position", range(len(SIGNED)))
def test_any_one_character_changed_is_never_valid(position: int) -> None:
    original = SIGNED[position]
    for replacement in ALPHABET:
        if replacement == original:
            continue
        tampered = SIGNED[:position] + replacement + SIGNED[position + 1 :]
        assert verify_payload(tampered, TRUST, NOW).status is not Status.VALID, (position, replacement)


def test_non_canonical_last_character_is_rejected() -> None:
    raw = b64url_decode(SIGNED.rsplit(".", 1)[1])
    encoded = b64url_encode(raw)
    # 86 characters carry 516 bits for 512: the last character has 4 unused bits.
    last = encoded[-1]
    index = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".index(last)
    sibling = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[index | 1]
    if sibling == last:
        sibling = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"[index & ~1]
    with pytest.raises(ValueError):
        b64url_decode(encoded[:-1] + sibling)
    tampered = SIGNED[:-1] + sibling
    assert verify_payload(tampered, TRUST, NOW).status is Status.BAD_SIGNATURE


@settings(max_examples=40, deadline=None)
@given(personal_codes())
def test_sign_verify_round_trip(code: PersonalCode) -> None:
    signed = sign_code(code, KEY, NOW)
    text = format_code(signed)
    again = parse(text)
    assert again == signed and again.unsigned() == code
    assert verify_payload(text, TRUST, NOW).status is Status.VALID
    masked = format_code(sign_code(masked_variant(code), KEY, NOW))
    assert verify_payload(masked, TRUST, NOW).status is Status.VALID


def test_resigning_replaces_the_signature() -> None:
    twice = sign_code(parse(SIGNED), KEY, NOW)
    assert format_code(twice).count(".") == 1
    assert verify_code(twice, TRUST, NOW).valid


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=300), st.binary(max_size=300)))
def test_verify_never_raises(data: str | bytes) -> None:
    assert verify_payload(data, TRUST, NOW).status in set(Status)


@settings(max_examples=200)
@given(st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=0, max_size=120))
def test_forged_signature_fields_never_verify(forged: str) -> None:
    text = format_code(SAMPLE) + "<" + KEY.key_id + "." + forged
    assert verify_payload(text, TRUST, NOW).status is not Status.VALID
