"""Signing keys and the trust list (spec §4).

Trust list document, version 1 (other teams' tools read it; change it only with a new version)::

    {
      "version": 1,
      "keys": [
        {"key_id": "<base64url, 8 bytes of SHA-256(SPKI DER)>", "issuer": "…",
         "public_key": "<base64 SubjectPublicKeyInfo DER>",
         "valid_from": "2026-01-01T00:00:00Z", "valid_until": "2028-01-01T00:00:00Z",
         "revoked": false}
      ],
      "revoked_codes": ["<base64url of the first 16 bytes of SHA-256(raw r||s signature bytes)>"]
    }

A trust list never holds private key material. A private key file is a separate JSON document
(``"kind": "unifiedqr-signing-key"``) with the same metadata plus a PKCS#8 PEM private key; it is
written with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from unifiedqr.errors import KeyFileError

TRUST_LIST_VERSION = 1
KEY_FILE_KIND = "unifiedqr-signing-key"
MAX_TRUST_LIST_BYTES = 4 * 1024 * 1024


# ---------------------------------------------------------------------------------------------------
# Encoding helpers (strict and canonical)
# ---------------------------------------------------------------------------------------------------
def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding: only the alphabet, and the canonical encoding only.

    A non-canonical encoding (unused low bits set in the last character) would let one signature be
    written several ways; that is refused, so a one-character change never still verifies.
    """
    tail = len(text) % 4
    if tail == 1 or "+" in text or "/" in text or "=" in text or not text.isascii():
        raise ValueError("not base64url")
    if tail and _B64URL_ALPHABET.find(text[-1]) & (0b1111 if tail == 2 else 0b11):
        raise ValueError("not the canonical base64url encoding")
    try:
        return binascii.a2b_base64(
            text.encode("ascii").translate(_TO_STANDARD) + b"=" * (-len(text) % 4), strict_mode=True
        )
    except binascii.Error:
        raise ValueError("not base64url") from None


def key_id_for(public_key: ec.EllipticCurvePublicKey) -> str:
    """base64url (no padding) of the first 8 bytes of SHA-256 over the SubjectPublicKeyInfo DER."""
    return b64url_encode(hashlib.sha256(spki_der(public_key)).digest()[:8])


def spki_der(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def code_revocation_id(signature_bytes: bytes) -> str:
    """The trust list's ``revoked_codes`` entry for one code: base64url of SHA-256(signature)[:16]."""
    return b64url_encode(hashlib.sha256(signature_bytes).digest()[:16])


def format_time(value: dt.datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, whole seconds."""
    return value.astimezone(dt.UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, field_name: str = "time") -> dt.datetime:
    """RFC 3339 / ISO 8601; a value without an offset is taken as UTC."""
    if not isinstance(text, str):
        raise KeyFileError(field_name, "must be an RFC 3339 time string")
    try:
        value = dt.datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError:
        raise KeyFileError(field_name, f"{text!r} is not an RFC 3339 time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


# ---------------------------------------------------------------------------------------------------
# Keys
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrustedKey:
    """One public key of the trust list, with its validity window."""

    key_id: str
    issuer: str
    public_key_der: bytes
    valid_from: dt.datetime
    valid_until: dt.datetime
    revoked: bool = False
    _loaded: ec.EllipticCurvePublicKey | None = field(default=None, compare=False, repr=False)

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        if self._loaded is not None:
            return self._loaded
        key = serialization.load_der_public_key(self.public_key_der)
        if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, ec.SECP256R1):
            raise KeyFileError("public_key", "must be an ECDSA P-256 key")
        object.__setattr__(self, "_loaded", key)
        return key

    def to_json(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "issuer": self.issuer,
            "public_key": base64.b64encode(self.public_key_der).decode("ascii"),
            "valid_from": format_time(self.valid_from),
            "valid_until": format_time(self.valid_until),
            "revoked": self.revoked,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "keys[]") -> TrustedKey:
        if not isinstance(data, Mapping):
            raise KeyFileError(where, "must be an object")
        for name in ("key_id", "issuer", "public_key", "valid_from", "valid_until"):
            if not isinstance(data.get(name), str):
                raise KeyFileError(f"{where}.{name}", "is missing or not a string")
        try:
            der = base64.b64decode(data["public_key"], validate=True)
        except (binascii.Error, ValueError):
            raise KeyFileError(f"{where}.public_key", "is not base64") from None
        try:
            loaded = serialization.load_der_public_key(der)
        except ValueError:
            raise KeyFileError(f"{where}.public_key", "is not a SubjectPublicKeyInfo DER key") from None
        if not isinstance(loaded, ec.EllipticCurvePublicKey) or not isinstance(loaded.curve, ec.SECP256R1):
            raise KeyFileError(f"{where}.public_key", "must be an ECDSA P-256 key")
        if key_id_for(loaded) != data["key_id"]:
            raise KeyFileError(f"{where}.key_id", "does not match the public key")
        revoked = data.get("revoked", False)
        if not isinstance(revoked, bool):
            raise KeyFileError(f"{where}.revoked", "must be true or false")
        return cls(
            key_id=data["key_id"],
            issuer=data["issuer"],
            public_key_der=der,
            valid_from=parse_time(data["valid_from"], f"{where}.valid_from"),
            valid_until=parse_time(data["valid_until"], f"{where}.valid_until"),
            revoked=revoked,
            _loaded=loaded,
        )


@dataclass(frozen=True)
class SigningKey:
    """A private issuing key with its metadata. Never put one in a trust list."""

    private_key: ec.EllipticCurvePrivateKey
    issuer: str
    valid_from: dt.datetime
    valid_until: dt.datetime
    key_id: str = ""

    def __post_init__(self) -> None:
        if not self.key_id:
            object.__setattr__(self, "key_id", key_id_for(self.private_key.public_key()))

    @classmethod
    def generate(cls, issuer: str, valid_from: dt.datetime, valid_days: int = 730) -> SigningKey:
        if valid_days < 1:
            raise KeyFileError("valid_days", "must be at least 1")
        if not issuer.strip():
            raise KeyFileError("issuer", "is empty")
        start = valid_from.astimezone(dt.UTC).replace(microsecond=0)
        return cls(
            ec.generate_private_key(ec.SECP256R1()),
            issuer.strip(),
            start,
            start + dt.timedelta(days=valid_days),
        )

    def public(self) -> TrustedKey:
        public_key = self.private_key.public_key()
        return TrustedKey(
            self.key_id,
            self.issuer,
            spki_der(public_key),
            self.valid_from,
            self.valid_until,
            False,
            public_key,
        )

    def is_valid_at(self, at: dt.datetime) -> bool:
        return self.valid_from <= at < self.valid_until

    def to_json(self) -> dict[str, Any]:
        pem = self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode("ascii")
        return {"kind": KEY_FILE_KIND, "version": 1, **self.public().to_json(), "private_key": pem}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SigningKey:
        if not isinstance(data, Mapping) or data.get("kind") != KEY_FILE_KIND:
            raise KeyFileError("key file", f"is not a signing key file (kind {KEY_FILE_KIND!r} expected)")
        pem = data.get("private_key")
        if not isinstance(pem, str):
            raise KeyFileError("private_key", "is missing")
        try:
            key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        except (ValueError, TypeError):
            raise KeyFileError("private_key", "is not an unencrypted PKCS#8 PEM key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or not isinstance(key.curve, ec.SECP256R1):
            raise KeyFileError("private_key", "must be an ECDSA P-256 key")
        public = TrustedKey.from_json(
            {**data, "key_id": data.get("key_id", key_id_for(key.public_key()))}, "key"
        )
        if public.public_key_der != spki_der(key.public_key()):
            raise KeyFileError("public_key", "does not match the private key")
        return cls(key, public.issuer, public.valid_from, public.valid_until, public.key_id)

    @classmethod
    def from_bytes(cls, raw: bytes) -> SigningKey:
        return cls.from_json(_load_json(raw, "key file"))


def _load_json(raw: bytes, what: str) -> Any:
    if len(raw) > MAX_TRUST_LIST_BYTES:
        raise KeyFileError(what, f"is larger than {MAX_TRUST_LIST_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyFileError(what, f"is not valid JSON ({exc})") from None


# ---------------------------------------------------------------------------------------------------
# Trust list
# ---------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TrustList:
    """Issuer public keys and revoked single codes; immutable, so one instance serves many threads."""

    keys: Mapping[str, TrustedKey] = field(default_factory=dict)
    revoked_codes: frozenset[str] = frozenset()

    def get(self, key_id: str) -> TrustedKey | None:
        return self.keys.get(key_id)

    def with_key(self, key: TrustedKey) -> TrustList:
        if key.key_id in self.keys and self.keys[key.key_id].public_key_der != key.public_key_der:
            raise KeyFileError("key_id", "collides with a different key already on the list")
        keys = dict(self.keys)
        keys[key.key_id] = key
        return TrustList(keys, self.revoked_codes)

    def with_key_revoked(self, key_id: str) -> TrustList:
        if key_id not in self.keys:
            raise KeyFileError("key_id", f"{key_id!r} is not on the trust list")
        keys = dict(self.keys)
        keys[key_id] = replace(keys[key_id], revoked=True)
        return TrustList(keys, self.revoked_codes)

    def with_codes_revoked(self, revocation_ids: Iterable[str]) -> TrustList:
        return TrustList(self.keys, self.revoked_codes | frozenset(revocation_ids))

    def to_json(self) -> dict[str, Any]:
        return {
            "version": TRUST_LIST_VERSION,
            "keys": [
                self.keys[k].to_json() for k in sorted(self.keys, key=lambda k: self.keys[k].valid_from)
            ],
            "revoked_codes": sorted(self.revoked_codes),
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: Any) -> TrustList:
        if not isinstance(data, Mapping):
            raise KeyFileError("trust list", "must be a JSON object")
        if data.get("version") != TRUST_LIST_VERSION:
            raise KeyFileError("version", f"must be {TRUST_LIST_VERSION}, got {data.get('version')!r}")
        raw_keys = data.get("keys", [])
        if not isinstance(raw_keys, list):
            raise KeyFileError("keys", "must be a list")
        if any(isinstance(k, Mapping) and "private_key" in k for k in raw_keys):
            raise KeyFileError("keys", "a trust list must not hold private key material")
        keys: dict[str, TrustedKey] = {}
        for index, raw in enumerate(raw_keys):
            key = TrustedKey.from_json(raw, f"keys[{index}]")
            keys[key.key_id] = key
        revoked = data.get("revoked_codes", [])
        if not isinstance(revoked, list) or not all(isinstance(r, str) for r in revoked):
            raise KeyFileError("revoked_codes", "must be a list of strings")
        return cls(keys, frozenset(revoked))

    @classmethod
    def from_bytes(cls, raw: bytes) -> TrustList:
        return cls.from_json(_load_json(raw, "trust list"))
