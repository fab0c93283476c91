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
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from unifiedqr.services.auth import Principal, Role
from unifiedqr.store.models import AuditEvent, utcnow


class AuditAction(enum.StrEnum):
    # reads of someone's personal data
    CODE_READ = "code.read"
    PERSON_READ = "person.read"
    DECLARATIONS_READ = "declarations.read"
    VENUE_VISITS_READ = "venue.visits.read"
    LOOKUP = "lookup"  # POST /lookups (issue 11)
    TRACING_CASE_READ = "tracing.case.read"  # the case's record, scans or venue-hours (issue 12)
    TRACING_CANDIDATES_READ = "tracing.candidates.read"  # a candidate list (JSON, rings, pictures)
    TRACING_EXPORTED = "tracing.exported"  # a candidate list as CSV
    # the holder's consent to a platform (issue 10): requests and decisions, purpose "consent"
    CONSENT_REQUESTED = "consent.requested"
    # changes to someone's personal data
    PERSON_CORRECTED = "person.corrected"
    HEALTH_RECORD_ADDED = "health_record.added"
    HEALTH_RECORDS_IMPORTED = "health_records.imported"
    TRACING_CASE_OPENED = "tracing.case.opened"
    TRACING_CASE_CLOSED = "tracing.case.closed"
    TRACING_DECIDED = "tracing.decided"  # a candidate confirmed or dismissed
    TRACING_NOTIFIED = "tracing.notified"  # a notification put in the outbox
    # credentials and keys (no person concerned)
    ACCOUNT_CREATED = "account.created"
    PASSWORD_CHANGED = "account.password_changed"  # noqa: S105 (an audit action, not a secret)
    PLATFORM_CREATED = "platform.created"
    API_KEY_ADDED = "api_key.added"
    API_KEY_REVOKED = "api_key.revoked"
    ISSUING_KEY_ROTATED = "issuing_key.rotated"
    ISSUING_KEY_REVOKED = "issuing_key.revoked"
    CODES_REISSUED = "codes.reissued"
    CONSENT_APPROVED = "consent.approved"
    CONSENT_REFUSED = "consent.refused"
    CONSENT_VOIDED = "consent.voided"
    # the venue's printed code
    VENUE_CODE_WITHDRAWN = "venue.code_withdrawn"
    # conformance assessment (issue 14): the assessor's acts on an app version's assessment
    ASSESSMENT_SUBMITTED = "assessment.submitted"
    ASSESSMENT_APPROVED = "assessment.approved"
    ASSESSMENT_REJECTED = "assessment.rejected"
    ASSESSMENT_SUPERSEDED = "assessment.superseded"
    ASSESSMENT_WITHDRAWN = "assessment.withdrawn"
    # retention and the at-rest key (the host operator; no person concerned)
    DATA_PURGED = "data.purged"
    AT_REST_KEY_ROTATED = "at_rest_key.rotated"


_INSERT = insert(AuditEvent).inline()  # Core on the connection: no unit of work

#: What the holder's access log shows (``GET /me/access-log``), as the ``what`` of each entry.
ACCESS_LOG: dict[AuditAction, str] = {
    AuditAction.LOOKUP: "lookup",
    AuditAction.PERSON_READ: "record",
    AuditAction.CODE_READ: "code",
    AuditAction.DECLARATIONS_READ: "declarations",
    AuditAction.VENUE_VISITS_READ: "venue_history",
    AuditAction.TRACING_CASE_READ: "tracing",
    AuditAction.TRACING_CANDIDATES_READ: "tracing",
    AuditAction.TRACING_EXPORTED: "export",
    AuditAction.TRACING_DECIDED: "tracing",
    AuditAction.TRACING_NOTIFIED: "tracing",
    AuditAction.CONSENT_REQUESTED: "consent_request",
    AuditAction.CONSENT_APPROVED: "consent_decision",
    AuditAction.CONSENT_REFUSED: "consent_decision",
    AuditAction.CONSENT_VOIDED: "consent_decision",
}
#: Rows by a platform are reads of the people in its scope, serving them: the log shows only the
#: platform's consent requests (it was not in scope yet) and decisions.
PLATFORM_LISTED = frozenset(
    {
        AuditAction.CONSENT_REQUESTED,
        AuditAction.CONSENT_APPROVED,
        AuditAction.CONSENT_REFUSED,
        AuditAction.CONSENT_VOIDED,
    }
)
#: Roles whose reads never show: the holder and their household declarer (citizens).
NOT_LISTED_ROLES = frozenset({Role.CITIZEN})


def row(
    principal: Principal,
    action: AuditAction,
    person_id: int | None = None,
    detail: str = "",
    purpose: str | None = None,
) -> dict[str, Any]:
    """The values of one audit row (for many at once: :func:`record_many`)."""
    return {
        "account_id": principal.account_id,
        "role": principal.role.value,
        "actor": principal.name[:200],
        "action": action.value,
        "purpose": purpose,
        "person_id": person_id,
        "detail": detail[:200],
        "created_at": utcnow(),
    }


def record(
    session: Session,
    principal: Principal,
    action: AuditAction,
    person_id: int | None = None,
    detail: str = "",
    purpose: str | None = None,
) -> None:
    """One audit row in ``session``'s transaction (``person_id`` None for acts on no one person).

    A Core insert on the session's connection, not ``session.add``: the ORM's flush cost a fifth of
    a look-up (measured, bench/lookups.py), for a row nobody reads back in the same transaction.
    """
    session.connection().execute(_INSERT, row(principal, action, person_id, detail, purpose))


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


def record_many(session: Session, rows: list[dict[str, Any]]) -> None:
    """Many audit rows in one statement (a venue's day view: one row per person shown)."""
    if rows:
        session.connection().execute(_INSERT, rows)


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
    how many rows were written: a candidate list of hundreds stays one insert.
    """
    rows = [
        row(principal, action, person_id, detail, purpose)
        for person_id, detail in reads
        if person_id is None or person_id != principal.person_id
    ]
    record_many(session, rows)
    return len(rows)
