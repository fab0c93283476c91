"""At-rest protection of personal columns: AES-256-GCM for values, HMAC-SHA256 for equality look-ups.

Why both: deduplication needs "is this document already registered?" without storing the document,
so each protected value gets a keyed hash (same input, same hash; useless without the key) beside
its ciphertext. Two sub-keys are derived from the one configured at-rest key with HKDF, one per
use, so the hash key never doubles as the encryption key. The column name goes into the AES-GCM
associated data, so a ciphertext copied into another column (say a phone into a document) does not
decrypt. Ciphertext layout: key version byte | 12-byte random nonce | ciphertext+tag.

Rotation (:mod:`unifiedqr.at_rest_keys`, ``unifiedqr admin rotate-at-rest-key``): the version byte
names the encryption key (``0x01``: derived from the root key, as every database began); a process
meeting a version it does not hold reloads the key file once and reads it, and picks up a new
current version for writing within ``reload_seconds``, so a rotation needs no restart.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from unifiedqr.errors import ConfigError

_NONCE = 12
Loader = Callable[[], tuple[Mapping[int, bytes], int]]


def _derive(master: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(master)


class Vault:
    """Encrypts, decrypts and hashes personal values with keys derived from the at-rest key.

    ``keys`` maps encryption key versions to key material (default: version 1, the root key
    itself) and ``current`` is the version new ciphertexts use; ``loader`` re-reads them (the key
    file) when a ciphertext names an unknown version and every ``reload_seconds``.
    """

    def __init__(
        self,
        master_key: bytes,
        keys: Mapping[int, bytes] | None = None,
        current: int = 1,
        loader: Loader | None = None,
        reload_seconds: float = 30.0,
    ) -> None:
        if len(master_key) != 32:
            raise ConfigError("at_rest_key", "must be 32 bytes")
        self._mac_key = _derive(master_key, b"unifiedqr/at-rest/hmac/v1")
        self._secret_key = _derive(master_key, b"unifiedqr/credentials/v1")
        self._aeads: dict[int, AESGCM] = {}
        self._loader = loader
        self._every = reload_seconds
        self._lock = threading.Lock()
        self._install(keys or {1: master_key}, current)
        self._next_load = time.monotonic() + reload_seconds
        self._next_miss = 0.0

    def _install(self, keys: Mapping[int, bytes], current: int) -> None:
        for version, material in keys.items():
            if version not in self._aeads:
                self._aeads[version] = AESGCM(
                    _derive(material, f"unifiedqr/at-rest/aes-gcm/v{version}".encode())
                )
        if current not in self._aeads:
            raise ConfigError("at_rest_key", f"no key of version {current}")
        self._current = current
        self._prefix = bytes([current])

    @property
    def current_version(self) -> int:
        return self._current

    @staticmethod
    def version_of(blob: bytes) -> int:
        return blob[0] if blob else 0

    def reload(self) -> None:
        """Re-read the key ring (a rotation in another process); keeps the old one if that fails."""
        if self._loader is None:
            return
        with self._lock:
            keys, current = self._loader()
            self._install(keys, current)
            self._next_load = time.monotonic() + self._every

    def _due(self) -> None:
        if self._loader is not None and time.monotonic() > self._next_load:
            try:
                self.reload()
            except ConfigError:  # a half-written or unreadable file: try again next time
                self._next_load = time.monotonic() + self._every

    def encrypt(self, column: str, value: str) -> bytes:
        self._due()
        nonce = os.urandom(_NONCE)
        aead = self._aeads[self._current]
        return self._prefix + nonce + aead.encrypt(nonce, value.encode("utf-8"), column.encode("ascii"))

    def decrypt(self, column: str, blob: bytes) -> str:
        if len(blob) < 1 + _NONCE + 16:
            raise ConfigError(column, "stored value is not in the expected format")
        aead = self._aeads.get(blob[0])
        if aead is None and self._loader is not None and time.monotonic() > self._next_miss:
            self._next_miss = time.monotonic() + 1.0  # a key rotated in since start: look once a second
            self.reload()
            aead = self._aeads.get(blob[0])
        if aead is None:
            raise ConfigError(column, f"stored value needs at-rest key version {blob[0]}, not loaded")
        try:
            plain = aead.decrypt(blob[1 : 1 + _NONCE], blob[1 + _NONCE :], column.encode("ascii"))
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
