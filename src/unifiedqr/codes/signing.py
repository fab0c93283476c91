"""Sign and verify codes with ECDSA P-256 against a trust list and a given time (spec §4).

The signed-bytes rule: the signature covers the exact UTF-8 text in front of the separator that
precedes it (for a personal code the ``<`` before the last EXT sub-field; for a venue code the ``/``
before the last path segment); the separator itself is not signed. The signature is written
``<key id>.<base64url of the raw 64-byte r||s>``, both parts canonical base64url without padding.

Nothing here reads a clock or a file: the caller passes the time and the trust list.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from unifiedqr.codes.payload import PersonalCode, decode_input, parse_text
from unifiedqr.codes.trust import SigningKey, TrustList, b64url_decode, b64url_encode, code_revocation_id
from unifiedqr.errors import InvalidInput, SigningError

_ECDSA_SHA256 = ec.ECDSA(hashes.SHA256())
SIGNATURE_BYTES = 64
KEY_ID_CHARS = 11
#: ``<11-char key id>.<86-char base64url of 64 bytes>``
SIGNATURE_CHARS = KEY_ID_CHARS + 1 + 86


class Status(enum.Enum):
    """Every outcome of a verification, by name (the CLI prints ``.value``)."""

    VALID = "valid"
    UNSIGNED = "unsigned"
    UNKNOWN_KEY = "unknown_key"
    KEY_NOT_YET_VALID = "key_not_yet_valid"
    KEY_EXPIRED = "key_expired"
    KEY_REVOKED = "key_revoked"
    CODE_REVOKED = "code_revoked"
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"


class Verification(NamedTuple):
    """The outcome of one verification (a named tuple: built at every door, kept cheap)."""

    status: Status
    key_id: str | None = None
    issuer: str | None = None
    reason: str = ""

    @property
    def valid(self) -> bool:
        return self.status is Status.VALID


def sign_bytes(message: bytes, key: SigningKey) -> str:
    """``<key id>.<base64url r||s>`` over ``message``."""
    der = key.private_key.sign(message, _ECDSA_SHA256)
    r, s = decode_dss_signature(der)
    return key.key_id + "." + b64url_encode(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


def sign_code(code: PersonalCode, key: SigningKey, at: dt.datetime) -> PersonalCode:
    """Return ``code`` signed with ``key`` (any previous signature replaced).

    Refuses a key outside its validity window at ``at``: a code signed so would never verify.
    """
    if not key.is_valid_at(at):
        raise SigningError("key", f"signing key {key.key_id} is not valid at {at.isoformat()}")
    unsigned = code.unsigned()
    return unsigned.with_signature(sign_bytes(unsigned.signed_text.encode("utf-8"), key))


def split_signature(signature: str) -> tuple[str, bytes]:
    """``(key id, raw r||s)``; InvalidInput (field ``signature``) for anything not strictly of that form."""
    key_id, sep, encoded = signature.partition(".")
    if not sep or len(key_id) != KEY_ID_CHARS:
        raise InvalidInput("signature", "must be '<key id>.<signature>'")
    try:
        raw = b64url_decode(encoded)
    except ValueError as exc:
        raise InvalidInput("signature", str(exc)) from None
    if len(raw) != SIGNATURE_BYTES:
        raise InvalidInput("signature", f"has {len(raw)} bytes, not {SIGNATURE_BYTES}")
    return key_id, raw


def verify_signed_bytes(message: bytes, signature: str, trust: TrustList, at: dt.datetime) -> Verification:
    """The outcome for ``message`` carrying ``signature``, with ``trust`` at time ``at``.

    Order of checks: key known, key not revoked, signature correct, code not revoked, key valid at
    ``at``. A bad signature is reported as such even when the key is also out of date. This is the
    hot path at every door, so it is written flat (measured against raw P-256 in bench/verify.py).
    """
    key_id = signature[:KEY_ID_CHARS]
    trusted = trust.keys.get(key_id)
    if trusted is None:
        return Verification(Status.UNKNOWN_KEY, key_id, None, "no key with this id on the trust list")
    if trusted.revoked:
        return Verification(Status.KEY_REVOKED, key_id, trusted.issuer, "the issuing key was revoked")
    if len(signature) != SIGNATURE_CHARS or signature[KEY_ID_CHARS] != ".":
        return Verification(Status.BAD_SIGNATURE, key_id, trusted.issuer, "the signature is not 64 bytes")
    try:
        raw = b64url_decode(signature[KEY_ID_CHARS + 1 :])
        trusted.public_key.verify(
            encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
            message,
            _ECDSA_SHA256,
        )
    except (InvalidSignature, ValueError):
        return Verification(Status.BAD_SIGNATURE, key_id, trusted.issuer, "the signature does not match")
    if trust.revoked_codes and code_revocation_id(raw) in trust.revoked_codes:
        return Verification(Status.CODE_REVOKED, key_id, trusted.issuer, "this code was withdrawn")
    if at < trusted.valid_from:
        return Verification(Status.KEY_NOT_YET_VALID, key_id, trusted.issuer, "the key is not valid yet")
    if at >= trusted.valid_until:
        return Verification(Status.KEY_EXPIRED, key_id, trusted.issuer, "the key has expired")
    return Verification(Status.VALID, key_id, trusted.issuer)


def verify_code(code: PersonalCode, trust: TrustList, at: dt.datetime) -> Verification:
    if code.signature is None:
        return Verification(Status.UNSIGNED, reason="the code carries no signature")
    return verify_signed_bytes(code.signed_text.encode("utf-8"), code.signature, trust, at)


def verify_payload(data: str | bytes, trust: TrustList, at: dt.datetime) -> Verification:
    """Parse (leniently: other platforms' codes are reported, not rejected) and verify a payload."""
    try:
        text = decode_input(data)
        code = parse_text(text, lenient=True)
    except InvalidInput as exc:
        return Verification(Status.MALFORMED, reason=str(exc))
    signature = code.signature
    if signature is None:
        return Verification(Status.UNSIGNED, reason="the code carries no signature")
    # The signed bytes are the text before the '<' in front of the signature, exactly as received.
    return verify_signed_bytes(text[: -len(signature) - 1].encode("utf-8"), signature, trust, at)


def revocation_id_of(signature: str) -> str:
    """The ``revoked_codes`` entry that withdraws the code carrying ``signature``."""
    _, raw = split_signature(signature)
    return code_revocation_id(raw)
