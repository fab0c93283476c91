"""A citizen's own check-ins: where and when their code (or their phone) was scanned, newest first.

The citizen's "my visit history" page reads this. A scan is keyed by ``person_key`` (the keyed hash
of ``qid:<QID>`` when the scan named a registered person: see ``services.visitors.resolve``), so
one indexed range read on ``(person_key, occurred_at)`` finds them, wherever they were made: staff
scans, the citizen's own check-ins, offline batches. Reading one's own data is not audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select

from unifiedqr.errors import InvalidInput
from unifiedqr.services.auth import Permission, Principal
from unifiedqr.services.context import Services
from unifiedqr.services.visitors import visitor_key
from unifiedqr.store.models import Person
from unifiedqr.store.venue_models import ScanEvent, Venue

MAX_DAYS = 30
MAX_ROWS = 200


@dataclass(frozen=True)
class MyCheckin:
    venue_name: str
    venue_type: str
    province: str
    district: str
    occurred_at: dt.datetime
    direction: str  # in | out | duplicate
    source: str  # staff | citizen | web | batch


def my_checkins(ctx: Services, principal: Principal, days: int = 14) -> list[MyCheckin]:
    """The caller's own scans of the last ``days`` days (at most 200), newest first."""
    principal.require(Permission.SELF_PEOPLE_READ)
    if not 1 <= days <= MAX_DAYS:
        raise InvalidInput("days", f"must be 1 to {MAX_DAYS}")
    since = ctx.now() - dt.timedelta(days=days)
    with ctx.db.read() as session:
        qid = session.scalars(select(Person.qid).where(Person.id == principal.person_id)).first()
        if qid is None or principal.person_id is None:
            return []
        rows = session.execute(
            select(
                Venue.name,
                Venue.kind,
                Venue.province,
                Venue.district,
                ScanEvent.occurred_at,
                ScanEvent.direction,
                ScanEvent.source,
            )
            .join(Venue, Venue.id == ScanEvent.venue_id)
            .where(
                ScanEvent.person_key == visitor_key(ctx.vault, "qid:" + qid), ScanEvent.occurred_at >= since
            )
            .order_by(ScanEvent.occurred_at.desc(), ScanEvent.id.desc())
            .limit(MAX_ROWS)
        ).all()
    return [MyCheckin(*row) for row in rows]
