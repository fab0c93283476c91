"""The holder's access log (spec §9: "the holder can see who looked at their data").

Read from the audit log, for the citizen's own person: look-ups, officials' and administrators'
reads of the record, code or declarations, venue history views that showed them, tracing reads,
exports, and consent requests and decisions (:data:`unifiedqr.services.audit.ACCESS_LOG`). Not
listed: the holder's own reads and their household declarer's (citizen rows), a platform's reads of
the people in its scope serving them, and door scans (those are the person's visit history).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import or_, select

from unifiedqr.services.audit import ACCESS_LOG, NOT_LISTED_ROLES, PLATFORM_LISTED, AuditAction
from unifiedqr.services.auth import Permission, Principal, Role
from unifiedqr.services.context import Services
from unifiedqr.store.models import AuditEvent

MAX_ENTRIES = 1000


@dataclass(frozen=True)
class AccessEntry:
    at: dt.datetime
    role: str  # as the API names roles; the host operator shows as administrator
    actor: str
    purpose: str | None
    what: str


def access_log(ctx: Services, principal: Principal) -> list[AccessEntry]:
    """Who read the caller's data, newest first (at most :data:`MAX_ENTRIES`)."""
    principal.require(Permission.SELF_ACCESS_LOG_READ)
    if principal.person_id is None:
        return []
    platform_listed = [a.value for a in PLATFORM_LISTED]
    query = (
        select(
            AuditEvent.created_at, AuditEvent.role, AuditEvent.actor, AuditEvent.purpose, AuditEvent.action
        )
        .where(
            AuditEvent.person_id == principal.person_id,
            AuditEvent.action.in_([a.value for a in ACCESS_LOG]),
            AuditEvent.role.not_in([r.value for r in NOT_LISTED_ROLES]),
            or_(
                AuditEvent.role != Role.PLATFORM.value,
                AuditEvent.action.in_(platform_listed),
            ),
        )
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(MAX_ENTRIES)
    )
    with ctx.db.read() as session:
        rows = session.execute(query).all()
    return [
        AccessEntry(
            at,
            Role.ADMINISTRATOR.value if role == Role.OPERATOR.value else role,
            actor,
            purpose,
            ACCESS_LOG[AuditAction(action)],
        )
        for at, role, actor, purpose, action in rows
    ]
