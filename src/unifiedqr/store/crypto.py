"""At-rest protection of personal columns: AES-256-GCM for values, HMAC-SHA256 for equality look-ups.

Why both: deduplication needs "is this document already registered?" without storing the document,
so each protected value gets a keyed hash (same input, same hash; useless without the key) beside
its ciphertext. Two sub-keys are derived from the one configured at-rest key with HKDF, one per
use, so the hash key never doubles as the encryption key. The column name goes into the AES-GCM
associated data, so a ciphertext copied into another column (say a phone into a document) does not
decrypt. Ciphertext layout: version byte ``0x01`` | 12-byte random nonce | ciphertext+tag.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from unifiedqr.errors import ConfigError

_VERSION = b"\x01"
_NONCE = 12


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class Vault:
    """Encrypts, decrypts and hashes personal values with keys derived from the at-rest key."""

    def __init__(self, master_key: bytes) -> None:
        if len(master_key) != 32:
            raise ConfigError("at_rest_key", "must be 32 bytes")
        self._aead = AESGCM(_derive(master_key, b"unifiedqr/at-rest/aes-gcm/v1"))
        self._mac_key = _derive(master_key, b"unifiedqr/at-rest/hmac/v1")
        self._secret_key = _derive(master_key, b"unifiedqr/credentials/v1")

    def encrypt(self, column: str, value: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return _VERSION + nonce + self._aead.encrypt(nonce, value.encode("utf-8"), column.encode("ascii"))

    def decrypt(self, column: str, blob: bytes) -> str:
        if len(blob) < 1 + _NONCE + 16 or blob[:1] != _VERSION:
            raise ConfigError(column, "stored value is not in the expected format")
        try:
            plain = self._aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], column.encode("ascii"))
        except InvalidTag:
            raise ConfigError(column, "stored value does not decrypt (wrong at-rest key?)") from None
        return plain.decode("utf-8")

    def encrypt_optional(self, column: str, value: str | None) -> bytes | None:
        return None if value is None else self.encrypt(column, value)

    def decrypt_optional(self, column: str, blob: bytes | None) -> str | None:
        return None if blob is None else self.decrypt(column, blob)

    def lookup_hash(self, purpose: str, value: str) -> bytes:
        """Keyed hash for equality look-ups; ``purpose`` separates domains (document, phone, ...)."""
        return hmac.new(
            self._mac_key, purpose.encode("ascii") + b"\x00" + value.encode("utf-8"), hashlib.sha256
        ).digest()

    def credential_hash(self, secret: str) -> bytes:
        """Keyed hash of a high-entropy credential (API key): a stolen table cannot be replayed."""
        return hmac.new(self._secret_key, secret.encode("utf-8"), hashlib.sha256).digest()

    def sign_token(self, message: bytes) -> bytes:
        return hmac.new(self._secret_key, b"token\x00" + message, hashlib.sha256).digest()
