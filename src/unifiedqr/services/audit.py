"""The audit log: who read or changed whose data, as a closed set of actions.

Why a closed enum (as PyPI's warehouse names its events): a typo is an AttributeError at import
time, the holder's access log and the privacy documentation can list every action, and a test can
check that each read endpoint writes its action. Rows are written in the caller's session, so an
audit row commits or rolls back with the act it records; the operator on the server's host has no
account and is recorded by name (``actor``), like everyone else.
"""

from __future__ import annotations

import enum

from sqlalchemy.orm import Session

from unifiedqr.services.auth import Principal
from unifiedqr.store.models import AuditEvent


class AuditAction(enum.StrEnum):
    # reads of someone's personal data
    CODE_READ = "code.read"
    PERSON_READ = "person.read"
    DECLARATIONS_READ = "declarations.read"
    VENUE_VISITS_READ = "venue.visits.read"
    # changes to someone's personal data
    PERSON_CORRECTED = "person.corrected"
    # credentials and keys (no person concerned)
    ACCOUNT_CREATED = "account.created"
    PLATFORM_CREATED = "platform.created"
    API_KEY_ADDED = "api_key.added"
    API_KEY_REVOKED = "api_key.revoked"
    ISSUING_KEY_ROTATED = "issuing_key.rotated"
    ISSUING_KEY_REVOKED = "issuing_key.revoked"
    CODES_REISSUED = "codes.reissued"
    # holder consent across platforms (issue 10): purpose "consent", in the holder's access log
    CONSENT_REQUESTED = "consent.requested"
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
    session: Session, principal: Principal, action: AuditAction, person_id: int, detail: str = ""
) -> None:
    """A read of ``person_id``'s data; the holder reading their own data is not recorded."""
    if principal.person_id != person_id:
        record(session, principal, action, person_id, detail)
