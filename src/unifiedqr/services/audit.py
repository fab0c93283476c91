"""The audit log: who read or changed whose data, as a closed set of actions.

Why a closed enum (as PyPI's warehouse names its events): a typo is an AttributeError at import
time, the holder's access log and the privacy documentation can list every action, and a test can
check that each read endpoint writes its action. Rows are written in the caller's session, so an
audit row commits or rolls back with the act it records; the operator on the server's host has no
account and is recorded by name (``actor``), like everyone else.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from sqlalchemy import insert
from sqlalchemy.orm import Session

from unifiedqr.services.auth import Principal
from unifiedqr.store.models import AuditEvent


class AuditAction(enum.StrEnum):
    # reads of someone's personal data
    CODE_READ = "code.read"
    PERSON_READ = "person.read"
    DECLARATIONS_READ = "declarations.read"
    VENUE_VISITS_READ = "venue.visits.read"
    TRACING_CASE_READ = "tracing.case.read"  # the case's record, scans or venue-hours
    TRACING_CANDIDATES_READ = "tracing.candidates.read"  # a candidate list (JSON, rings, pictures)
    TRACING_EXPORTED = "tracing.exported"  # a candidate list as CSV
    # changes to someone's personal data
    PERSON_CORRECTED = "person.corrected"
    TRACING_CASE_OPENED = "tracing.case.opened"
    TRACING_CASE_CLOSED = "tracing.case.closed"
    TRACING_DECIDED = "tracing.decided"  # a candidate confirmed or dismissed
    TRACING_NOTIFIED = "tracing.notified"  # a notification put in the outbox
    # credentials and keys (no person concerned)
    ACCOUNT_CREATED = "account.created"
    PLATFORM_CREATED = "platform.created"
    API_KEY_ADDED = "api_key.added"
    API_KEY_REVOKED = "api_key.revoked"
    ISSUING_KEY_ROTATED = "issuing_key.rotated"
    ISSUING_KEY_REVOKED = "issuing_key.revoked"
    CODES_REISSUED = "codes.reissued"


def record(
    session: Session,
    principal: Principal,
    action: AuditAction,
    person_id: int | None = None,
    detail: str = "",
    purpose: str | None = None,
) -> None:
    """One audit row in ``session``'s transaction (``person_id`` None for acts on no one person)."""
    session.add(
        AuditEvent(
            account_id=principal.account_id,
            role=principal.role.value,
            actor=principal.name[:200],
            action=action.value,
            purpose=purpose,
            person_id=person_id,
            detail=detail[:200],
        )
    )


def record_read(
    session: Session,
    principal: Principal,
    action: AuditAction,
    person_id: int,
    detail: str = "",
    purpose: str | None = None,
) -> None:
    """A read of ``person_id``'s data; the holder reading their own data is not recorded."""
    if principal.person_id != person_id:
        record(session, principal, action, person_id, detail, purpose)


def record_reads(
    session: Session,
    principal: Principal,
    action: AuditAction,
    reads: Iterable[tuple[int | None, str]],
    purpose: str | None = None,
) -> int:
    """One row per ``(person_id, detail)`` read at once (a list of people), in one statement.

    ``person_id`` None names someone with no person row (a visitor known only by phone or card;
    ``detail`` then says who). The holder's own row is skipped, as in :func:`record_read`. Returns
    how many rows were written. One multi-row insert: a candidate list of hundreds stays cheap.
    """
    base = {
        "account_id": principal.account_id,
        "role": principal.role.value,
        "actor": principal.name[:200],
        "action": action.value,
        "purpose": purpose,
    }
    rows = [
        {**base, "person_id": person_id, "detail": detail[:200]}
        for person_id, detail in reads
        if person_id is None or person_id != principal.person_id
    ]
    if rows:
        session.execute(insert(AuditEvent), rows)
    return len(rows)
