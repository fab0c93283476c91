"""Base45 (RFC 9285): the RFC's examples, strictness, and round trips."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from unifiedqr.codes.dcc.base45 import ALPHABET, Base45Error, b45decode, b45encode

RFC_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("data", "text"), RFC_EXAMPLES)
def test_rfc_9285_examples(data: bytes, text: str) -> None:
    assert b45encode(data) == text
    assert b45decode(text) == data


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("GGW", "more than two bytes"),  # 65536
        ("ZZZ", "more than two bytes"),
        (":::", "more than two bytes"),
        ("::", "more than one byte"),  # 2024 > 255
        ("A", "single character"),
        ("ABCD", "single character"),
        ("abc", "not in the Base45 alphabet"),
        ("AB=", "not in the Base45 alphabet"),
        ("ÄBC", "not in the Base45 alphabet"),
    ],
)
def test_non_canonical_text_is_refused(text: str, reason: str) -> None:
    with pytest.raises(Base45Error, match=reason):
        b45decode(text)


def test_error_names_the_position() -> None:
    with pytest.raises(Base45Error, match="character 5 "):
        b45decode("QED8W#X0")


def test_empty() -> None:
    assert b45decode("") == b"" and b45encode(b"") == ""


@given(st.binary(max_size=600))
def test_round_trip(data: bytes) -> None:
    text = b45encode(data)
    assert set(text) <= set(ALPHABET)
    assert len(text) == len(data) // 2 * 3 + len(data) % 2 * 2
    assert b45decode(text) == data


@given(st.text(alphabet=ALPHABET, max_size=60))
def test_decode_is_canonical(text: str) -> None:
    """Any text that decodes is exactly what encoding those bytes gives back."""
    try:
        data = b45decode(text)
    except Base45Error:
        return
    assert b45encode(data) == text
