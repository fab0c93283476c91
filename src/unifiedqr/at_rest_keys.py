"""The at-rest key file and its key ring: one root key for hashes, versioned keys for encryption.

Why a ring: rotating the key that encrypts personal columns must not stop the service, so during a
rotation every process reads ciphertexts of both the old and the new key, and each ciphertext says
which one it needs (its first byte, :mod:`unifiedqr.store.crypto`). Version 1 is derived from the
root key (the layout every database began with); a rotation adds version ``n + 1``, random, and
makes it current; old versions stay in the file so that backups remain readable.

What is **not** rotated: the HMAC keys derived from the root (document, phone and visitor hashes,
API-key hashes, token signatures). Re-keying them would mean recomputing every hash from decrypted
values and voiding every API key; docs/privacy.md says so.

File (JSON, mode 0600)::

    {"kind": "unifiedqr-at-rest-key", "version": 1, "key": "<root, base64url>",
     "current": 2, "keys": {"2": "<base64url>"}}

``current`` and ``keys`` are absent in a file that was never rotated (version 1 is current).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from unifiedqr.config import AT_REST_KEY_BYTES, AT_REST_KEY_KIND, decode_at_rest_key, read_at_rest_key_file
from unifiedqr.errors import ConfigError

MAX_VERSION = 255


@dataclass(frozen=True)
class AtRestKeys:
    """The root key, the encryption keys by version (1 is the root's own), the version to write."""

    root: bytes = field(repr=False)
    keys: Mapping[int, bytes] = field(repr=False)
    current: int = 1

    @classmethod
    def single(cls, root: bytes) -> AtRestKeys:
        return cls(root, {1: root}, 1)


def read_keys(path: Path) -> AtRestKeys:
    """The ring in a key file (a file never rotated has version 1 only)."""
    root = read_at_rest_key_file(path)
    data = json.loads(path.read_bytes()[:65536])
    keys: dict[int, bytes] = {1: root}
    for version, text in (data.get("keys") or {}).items():
        number = int(version) if str(version).isdigit() else 0
        if not 2 <= number <= MAX_VERSION or not isinstance(text, str):
            raise ConfigError(str(path), f"key version {version!r} is not 2..{MAX_VERSION}")
        keys[number] = decode_at_rest_key(text, f"{path}: keys.{version}")
    current = data.get("current", 1)
    if current not in keys:
        raise ConfigError(str(path), f"current key {current!r} is not in the file")
    return AtRestKeys(root, keys, current)


def add_key(path: Path) -> AtRestKeys:
    """Add a random key as version ``n + 1`` and make it current; the file is replaced atomically."""
    ring = read_keys(path)
    version = max(ring.keys) + 1
    if version > MAX_VERSION:
        raise ConfigError(str(path), f"more than {MAX_VERSION} key versions")
    data = json.loads(path.read_bytes()[:65536])
    data.setdefault("keys", {})[str(version)] = _b64(os.urandom(AT_REST_KEY_BYTES))
    data["current"] = version
    assert data.get("kind") == AT_REST_KEY_KIND
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(json.dumps(data))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
    return read_keys(path)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
