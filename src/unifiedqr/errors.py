"""The one exception root of the package and its leaves.

Every error carries three things: the ``field`` that was wrong (empty when the error is about no
particular input), the ``reason`` in words, and a stable ``code`` (a member of :class:`Code`, or of
:class:`unifiedqr.codes.signing.Status` when a signature check refused something) that programs can
branch on while the words improve. The CLI prints ``field: reason``; the HTTP edge
(:mod:`unifiedqr.api.problems`) maps the class to a status and copies the three into a
problem-details body, without guessing. Leaves also subclass the matching built-in (``ValueError``,
``LookupError``, ``PermissionError``) so that callers who do not know this package still catch them.
"""

from __future__ import annotations

import enum


class Code(enum.StrEnum):
    """Stable error codes: part of the API (problem details ``errors[].code``, batch item results)."""

    INVALID = "invalid"  # input that breaks a rule
    MALFORMED = "malformed"  # input that cannot be read at all
    TOO_LARGE = "too_large"
    BATCH_TOO_LARGE = "batch_too_large"
    NOT_FOUND = "not_found"
    UNAUTHENTICATED = "unauthenticated"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    CONFIG = "config"
    SIGNING = "signing"
    # scans and venue codes (docs/venues.md: "errors[0].reason starts with the name")
    WRONG_KIND = "wrong_kind"
    UNKNOWN_VENUE = "unknown_venue"
    FUTURE_TIMESTAMP = "future_timestamp"
    TOO_OLD = "too_old"
    DUPLICATE_KEY = "duplicate_key"
    # throttling, overload and consent (issue 10)
    RATE_LIMITED = "rate_limited"
    BUSY = "busy"
    GONE = "gone"


class UnifiedQRError(Exception):
    """Root of every error this package raises on purpose: ``field``, ``reason`` and ``code``."""

    default_code: Code = Code.INVALID

    def __init__(self, field: str, reason: str, *, code: str | None = None) -> None:
        super().__init__(f"{field}: {reason}" if field else reason)
        self.field = field
        self.reason = reason
        self.code: str = code or self.default_code


class InvalidInput(UnifiedQRError, ValueError):
    """Input that breaks a rule: ``field`` names where, ``reason`` says why."""


class PayloadError(InvalidInput):
    """A personal QR payload (v1.1) that does not follow the format."""


class PayloadTooLarge(PayloadError):
    """Input refused before parsing because it is longer than the explicit limit."""

    default_code = Code.TOO_LARGE


class NameFormatError(InvalidInput):
    """A person's name that cannot be normalised (empty, digits, unsupported script)."""


class CCCDError(InvalidInput):
    """A chip ID card (CCCD) QR text that does not follow the card's format."""


class VenueCodeError(InvalidInput):
    """A venue code URL that does not follow this project's format."""


class KeyFileError(InvalidInput):
    """A signing key file or trust list that cannot be read."""


class SigningError(UnifiedQRError, ValueError):
    """Signing refused (for example with a key outside its validity window)."""

    default_code = Code.SIGNING


class NotFound(UnifiedQRError, LookupError):
    """The thing does not exist, or the caller may not know that it exists (we answer 404 for both)."""

    default_code = Code.NOT_FOUND

    def __init__(self, field: str, reason: str = "not found") -> None:
        super().__init__(field, reason)


class PermissionDenied(UnifiedQRError, PermissionError):
    """Authenticated, but the role lacks the permission (outside one's scope is NotFound instead)."""

    default_code = Code.FORBIDDEN

    def __init__(self, permission: str, reason: str = "permission denied") -> None:
        super().__init__(permission, reason)


class Unauthenticated(UnifiedQRError, PermissionError):
    """No credentials, or credentials that do not check out (the field is the header)."""

    default_code = Code.UNAUTHENTICATED

    def __init__(self, reason: str = "missing or invalid credentials") -> None:
        super().__init__("Authorization", reason)


class Conflict(UnifiedQRError, ValueError):
    """The request contradicts what is stored (the body must not reveal what is stored)."""

    default_code = Code.CONFLICT


class ConfigError(UnifiedQRError, RuntimeError):
    """Settings that are missing or unsafe: ``field`` names the setting (``UNIFIEDQR_...``)."""

    default_code = Code.CONFIG


class ScanRejected(InvalidInput):
    """A scan or code refused for a named reason (``code``: ``wrong_kind``, ``code_revoked``, ...).

    ``reason`` keeps the documented form ``<code>: <explanation>`` (docs/venues.md), so that clients
    written against it keep working; new clients read ``code``.
    """

    def __init__(self, field: str, code: str, explanation: str) -> None:
        super().__init__(field, f"{code}: {explanation}", code=code)
        self.explanation = explanation


class TooManyRequests(UnifiedQRError):
    """A rate limit is reached (HTTP 429): ``retry_after`` is the whole seconds until it lifts."""

    default_code = Code.RATE_LIMITED

    def __init__(self, field: str, reason: str, retry_after: int) -> None:
        super().__init__(field, reason)
        self.retry_after = max(1, int(retry_after))


class Overloaded(UnifiedQRError):
    """The server is at a bounded capacity (HTTP 503) and the wait for it ran out; try again shortly."""

    default_code = Code.BUSY

    def __init__(self, field: str, reason: str, retry_after: int = 1) -> None:
        super().__init__(field, reason)
        self.retry_after = max(1, int(retry_after))


class Gone(UnifiedQRError, LookupError):
    """The thing existed but can no longer be used (HTTP 410): an expired or voided consent."""

    default_code = Code.GONE
