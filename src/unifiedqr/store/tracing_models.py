"""Contact-tracing tables: cases, their decision log, tracers' reviews and the notification outbox (issue 12).

A sibling of :mod:`unifiedqr.store.models` on the same ``Base`` (so Alembic and ``metadata`` see one
schema); :mod:`unifiedqr.store.db` imports it. Why the shape:

- **Candidates are not stored.** They are derived from ``scan_events`` on every read (an index range
  per case scan), so a late offline upload or a purge shows up at once and nothing holds a copy of
  who met whom beyond the retention of the scans. What *is* stored is what people decided: the
  case (who, which window, under which rule), the tracer's review of each candidate
  (``tracing_reviews``: confirmed or dismissed, with a reason), the log of decisions, and what was
  sent to whom (``tracing_notifications``, the outbox platforms read and acknowledge).
- People are named by ``person_key`` (the 16-byte keyed hash the scans carry) and, when registered,
  ``person_id``: a visitor known only by a phone or an ID card has no person row but is a candidate
  all the same.
- ``case_keys`` holds every key the case's scans may carry (their QID's, their phone's, their
  card's), 16 bytes each: the case's own scans are read by those keys, and none of them is ever a
  candidate.
- ``rule_config`` is the rule as it stood when the case was opened (JSON): definitions changed
  repeatedly during the epidemic, and an open case must not change its answers because a setting did.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from unifiedqr.store.models import Base, UTCDateTime, utcnow


class TracingCase(Base):
    """A confirmed case under investigation: whose scans, which window, which rule, open or closed."""

    __tablename__ = "tracing_cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    case_keys: Mapped[bytes] = mapped_column(LargeBinary)
    rule: Mapped[str] = mapped_column(String(32))
    rule_config: Mapped[str] = mapped_column(Text)
    window_start: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    window_end: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    onset: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    isolation: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), default="open")
    opened_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    opened_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (Index("ix_tracing_cases_status_created_at", "status", "created_at"),)


class TracingLogEntry(Base):
    """One decision on a case: opened, confirmed, dismissed, notified, closed, reopened (append-only)."""

    __tablename__ = "tracing_case_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(24))
    subject: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(500), default="")
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    role: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class TracingReview(Base):
    """A tracer's current decision on one candidate of one case (the log keeps every earlier one)."""

    __tablename__ = "tracing_reviews"
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id", ondelete="CASCADE"), primary_key=True)
    person_key: Mapped[bytes] = mapped_column(LargeBinary(16), primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TracingNotification(Base):
    """What was sent to one candidate and when; the registering platform reads and acknowledges it.

    ``channel``: ``platform`` (in the outbox of ``platform_account_id``) or ``manual`` (a visitor
    known only by phone or card: no platform can reach them, the tracer calls). ``status``:
    ``pending`` until the platform acknowledges (``acknowledged``), or ``manual``.
    """

    __tablename__ = "tracing_notifications"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("tracing_cases.id", ondelete="CASCADE"), index=True)
    person_key: Mapped[bytes] = mapped_column(LargeBinary(16))
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"), index=True)
    platform_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(1000))
    venue_name: Mapped[str] = mapped_column(String(200))
    exposed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16))
    sent_by: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_tracing_notifications_platform_account_id_status", "platform_account_id", "status"),
    )
