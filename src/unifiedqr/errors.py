"""The one exception root of the package and its leaves.

Every leaf names the *field* that was wrong and the *reason*, so that a CLI prints one useful line
and the HTTP edge can turn it into a problem-details body without guessing. Leaves also subclass
the matching built-in (``ValueError``, ``LookupError``, ``PermissionError``) so that callers who do
not know this package still catch them sensibly.
"""

from __future__ import annotations


class UnifiedQRError(Exception):
    """Root of every error this package raises on purpose."""


class InvalidInput(UnifiedQRError, ValueError):
    """Input that breaks a rule: ``field`` names where, ``reason`` says why."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class PayloadError(InvalidInput):
    """A personal QR payload (v1.1) that does not follow the format."""


class PayloadTooLarge(PayloadError):
    """Input refused before parsing because it is longer than the explicit limit."""


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


class NotFound(UnifiedQRError, LookupError):
    """The thing does not exist, or the caller may not know that it exists (we answer 404 for both)."""

    def __init__(self, what: str, reason: str = "not found") -> None:
        super().__init__(f"{what}: {reason}")
        self.field = what
        self.reason = reason


class PermissionDenied(UnifiedQRError, PermissionError):
    """Authenticated, but the role lacks the permission (outside one's scope is NotFound instead)."""

    def __init__(self, permission: str, reason: str = "permission denied") -> None:
        super().__init__(f"{permission}: {reason}")
        self.field = permission
        self.reason = reason


class Unauthenticated(UnifiedQRError, PermissionError):
    """No credentials, or credentials that do not check out."""

    def __init__(self, reason: str = "missing or invalid credentials") -> None:
        super().__init__(reason)
        self.field = "Authorization"
        self.reason = reason


class Conflict(UnifiedQRError, ValueError):
    """The request contradicts what is stored (the body must not reveal what is stored)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class ConfigError(UnifiedQRError, RuntimeError):
    """Settings that are missing or unsafe (for example placeholder secrets in production)."""
