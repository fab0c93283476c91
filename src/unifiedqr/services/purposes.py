"""Why someone reads a person's data: the closed list of purposes (spec §9), checked in one place."""

from __future__ import annotations

from unifiedqr.errors import InvalidInput

PURPOSES = ("checkpoint", "venue_entry", "tracing", "treatment", "investigation", "other")


def check_purpose(purpose: object, *, required: bool = True) -> str | None:
    """One of :data:`PURPOSES`; 422 naming ``purpose`` otherwise (absent is fine when not required)."""
    if purpose is None and not required:
        return None
    if not isinstance(purpose, str) or purpose not in PURPOSES:
        raise InvalidInput("purpose", f"required: one of {', '.join(PURPOSES)}")
    return purpose
