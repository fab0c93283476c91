"""COSE_Sign1 (RFC 9052) carrying CWT claims (RFC 8392) with the health certificate (HCERT).

Decoding is strict and bounded: one CBOR item with no trailing bytes, no duplicate map keys, at most
:data:`MAX_CBOR_DEPTH` nested containers, and semantic tags kept as raw :class:`cbor2.CBORTag`
values (so that no regex is compiled, no MIME parsed and no shared value makes a cycle on behalf of
a stranger's code). The envelope may be tagged 18 (COSE_Sign1), wrapped in CWT tag 61, or untagged,
as the HCERT specification allows.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from typing import Any, Final

import cbor2

#: Deepest container nesting accepted in any CBOR item (a certificate needs 5).
MAX_CBOR_DEPTH: Final = 16

TAG_COSE_SIGN1: Final = 18
TAG_CWT: Final = 61
HEADER_ALG: Final = 1
HEADER_KID: Final = 4
CLAIM_ISS: Final = 1
CLAIM_EXP: Final = 4
CLAIM_IAT: Final = 6
CLAIM_HCERT: Final = -260
HCERT_EU_DCC: Final = 1

#: Every semantic tag cbor2 would decode into a Python object stays a raw tag instead; so do 18 and
#: 61, whose contents cbor2 would otherwise decode as immutable (tuple, frozendict) values.
_RAW_TAGS: Final = (0, 1, 2, 3, 4, 5, 18, 21, 22, 23, 24, 25, 28, 29, 30, 32, 33, 34, 35, 36, 37, 52, 54, 61)
_RAW_TAGS_HIGH: Final = (256, 258, 260, 261, 1004, 1040, 55799)


def _keep_raw(tag: int) -> Any:
    return lambda value, immutable: cbor2.CBORTag(tag, value)


_SEMANTIC: Final = {tag: _keep_raw(tag) for tag in (*_RAW_TAGS, *_RAW_TAGS_HIGH)}


class CoseError(ValueError):
    """Bytes that are not a COSE_Sign1 carrying a health certificate; the message says why."""


def decode_cbor(data: bytes, what: str) -> Any:
    """Exactly one CBOR item from ``data``, decoded under the limits above."""
    stream = io.BytesIO(data)
    try:
        item = cbor2.CBORDecoder(
            stream,
            semantic_decoders=_SEMANTIC,
            max_depth=MAX_CBOR_DEPTH,
            allow_duplicate_keys=False,
        ).decode()
    except (cbor2.CBORError, ValueError, TypeError, OverflowError, RecursionError, MemoryError) as exc:
        raise CoseError(f"{what} is not valid CBOR ({exc})") from None
    if stream.tell() != len(data):
        raise CoseError(f"{what} has {len(data) - stream.tell()} bytes after its CBOR item")
    return item


@dataclass(frozen=True)
class Sign1:
    """A decoded COSE_Sign1: the exact protected bytes are kept, since the signature covers them."""

    protected_bytes: bytes
    protected: dict[Any, Any]
    unprotected: dict[Any, Any]
    payload: bytes
    signature: bytes

    def header(self, label: int) -> Any:
        """The protected header's value for ``label``, else the unprotected one's (protected wins)."""
        if label in self.protected:
            return self.protected[label]
        return self.unprotected.get(label)

    @property
    def kid(self) -> bytes | None:
        kid = self.header(HEADER_KID)
        return bytes(kid) if isinstance(kid, bytes) else None

    @property
    def alg(self) -> int | None:
        alg = self.header(HEADER_ALG)
        return alg if isinstance(alg, int) and not isinstance(alg, bool) else None

    def signed_bytes(self) -> bytes:
        """The Sig_structure ``["Signature1", protected, external_aad = h'', payload]`` (RFC 9052 §4.4)."""
        return cbor2.dumps(["Signature1", self.protected_bytes, b"", self.payload])


def decode_sign1(data: bytes) -> Sign1:
    """The COSE_Sign1 in ``data`` (tag 18, CWT tag 61 around it, or untagged)."""
    item = decode_cbor(data, "the COSE message")
    if isinstance(item, cbor2.CBORTag) and item.tag == TAG_CWT:
        item = item.value
    if isinstance(item, cbor2.CBORTag):
        if item.tag != TAG_COSE_SIGN1:
            raise CoseError(f"tag {item.tag} is not COSE_Sign1 (18)")
        item = item.value
    if not isinstance(item, list | tuple) or len(item) != 4:
        raise CoseError("a COSE_Sign1 is an array of four items")
    protected_bytes, unprotected, payload, signature = item
    if not isinstance(protected_bytes, bytes):
        raise CoseError("the protected header is not a byte string")
    protected: Any = {}
    if protected_bytes:
        protected = decode_cbor(protected_bytes, "the protected header")
    if not isinstance(protected, dict):
        raise CoseError("the protected header is not a map")
    if not isinstance(unprotected, dict):
        raise CoseError("the unprotected header is not a map")
    if not isinstance(payload, bytes):
        raise CoseError("the payload is not a byte string (detached payloads are not used by HCERT)")
    if not isinstance(signature, bytes):
        raise CoseError("the signature is not a byte string")
    return Sign1(protected_bytes, dict(protected), dict(unprotected), payload, signature)


@dataclass(frozen=True)
class Claims:
    """The CWT claims a verifier needs: issuer country, issued-at, expiry and the certificate itself."""

    issuer: str | None
    issued_at: dt.datetime | None
    expires_at: dt.datetime | None
    certificate: dict[str, Any]


def _timestamp(value: Any, name: str) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CoseError(f"the {name} claim is not a number")
    try:
        return dt.datetime.fromtimestamp(value, dt.UTC)
    except (OverflowError, OSError, ValueError):
        raise CoseError(f"the {name} claim {value!r} is not a representable time") from None


def decode_claims(payload: bytes) -> Claims:
    """The CWT claims in ``payload``: a map whose claim -260 holds the EU DCC under key 1."""
    claims = decode_cbor(payload, "the CWT payload")
    if not isinstance(claims, dict):
        raise CoseError("the CWT payload is not a map of claims")
    hcert = claims.get(CLAIM_HCERT)
    if not isinstance(hcert, dict):
        raise CoseError("the CWT has no health certificate claim (-260)")
    certificate = hcert.get(HCERT_EU_DCC)
    if not isinstance(certificate, dict):
        raise CoseError("the health certificate claim holds no EU DCC (key 1)")
    if not all(isinstance(key, str) for key in certificate):
        raise CoseError("the EU DCC has a key that is not text")
    issuer = claims.get(CLAIM_ISS)
    if issuer is not None and not isinstance(issuer, str):
        raise CoseError("the issuer claim is not text")
    return Claims(
        issuer,
        _timestamp(claims.get(CLAIM_IAT), "issued-at"),
        _timestamp(claims.get(CLAIM_EXP), "expiry"),
        certificate,
    )
