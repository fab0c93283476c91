"""Signed venue codes: ``https://<host>/v/<venue id>/<key id>.<signature>`` (spec §5 and §6).

A phone's plain camera opens the URL (the check-in page); an app verifies it offline with the trust
list. The signature covers the exact text before the last ``/`` (scheme, host, path and venue id),
so a poster whose host or id was altered never verifies. With an 11-character venue id and a host of
30 characters the URL is about 145 characters: a version-8 symbol at error correction M.

``http://`` bases exist for development only (``unifiedqr demo`` prints codes that open its own
``http://127.0.0.1:PORT`` check-in page): every function refuses them unless called with
``allow_http=True``, which the services pass only outside production (``Settings.production``).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from unifiedqr.codes.signing import Status, Verification, sign_bytes, verify_signed_bytes
from unifiedqr.codes.trust import SigningKey, TrustList
from unifiedqr.errors import SigningError, VenueCodeError

MAX_VENUE_URL = 160
_PATH = r"/v/(?P<venue>[A-Za-z0-9_-]{6,32})/(?P<sig>[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{20,120})"
_VENUE_URL = re.compile(r"(?P<base>https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)" + _PATH)
_BASE = re.compile(r"https://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")
#: Development only (``allow_http=True``): the same shapes over ``http://`` as well.
_DEV_VENUE_URL = re.compile(r"(?P<base>https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?)" + _PATH)
_DEV_BASE = re.compile(r"https?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?")
_VENUE_ID = re.compile(r"[A-Za-z0-9_-]{6,32}")


@dataclass(frozen=True, slots=True)
class VenueCode:
    base_url: str
    venue_id: str
    signature: str

    @property
    def signed_text(self) -> str:
        return f"{self.base_url}/v/{self.venue_id}"

    @property
    def url(self) -> str:
        return f"{self.signed_text}/{self.signature}"

    def __str__(self) -> str:
        return self.url


def is_venue_url(text: str, *, allow_http: bool = False) -> bool:
    return (_DEV_VENUE_URL if allow_http else _VENUE_URL).fullmatch(text.strip()) is not None


def parse_venue_url(text: str, *, allow_http: bool = False) -> VenueCode:
    value = text.strip() if isinstance(text, str) else ""
    if len(value) > MAX_VENUE_URL:
        raise VenueCodeError("venue code", f"is longer than {MAX_VENUE_URL} characters")
    match = (_DEV_VENUE_URL if allow_http else _VENUE_URL).fullmatch(value)
    if not match:
        raise VenueCodeError("venue code", "is not https://<host>/v/<venue id>/<key id>.<signature>")
    return VenueCode(match["base"], match["venue"], match["sig"])


def is_base_url(base_url: str, *, allow_http: bool = False) -> bool:
    """``https://<host>[:port]`` (or ``http://`` too with ``allow_http``), nothing after it."""
    return (_DEV_BASE if allow_http else _BASE).fullmatch(base_url) is not None


def sign_venue(
    base_url: str, venue_id: str, key: SigningKey, at: dt.datetime, *, allow_http: bool = False
) -> VenueCode:
    base = base_url.rstrip("/")
    if not is_base_url(base, allow_http=allow_http):
        raise VenueCodeError("base_url", "must be https://<host>[:port] with nothing after it")
    if not _VENUE_ID.fullmatch(venue_id):
        raise VenueCodeError("venue_id", "must be 6-32 characters of the base64url alphabet")
    if not key.is_valid_at(at):
        raise SigningError("key", f"signing key {key.key_id} is not valid at {at.isoformat()}")
    signed = f"{base}/v/{venue_id}"
    code = VenueCode(base, venue_id, sign_bytes(signed.encode("ascii"), key))
    if len(code.url) > MAX_VENUE_URL:
        raise VenueCodeError("base_url", f"makes the venue code longer than {MAX_VENUE_URL} characters")
    return code


def verify_venue(text: str, trust: TrustList, at: dt.datetime, *, allow_http: bool = False) -> Verification:
    try:
        code = parse_venue_url(text, allow_http=allow_http)
    except VenueCodeError as exc:
        return Verification(Status.MALFORMED, reason=str(exc))
    return verify_signed_bytes(code.signed_text.encode("ascii"), code.signature, trust, at)
