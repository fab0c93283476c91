"""Tables of look-ups and retention (issue 11, migration 0004): idempotency keys, health records, safe codes.

A sibling of :mod:`unifiedqr.store.venue_models` on the same ``Base``; :mod:`unifiedqr.store.db`
imports it. Why the shapes:

- ``scan_keys`` holds the idempotency keys of scans **apart from** ``scan_events``: on PostgreSQL the
  events are partitioned by the UTC day of ``occurred_at``, and a unique index there would have to
  include that day, so a retried upload whose corrected time moved to another day would land twice.
  Here the key is unique by itself, scoped by venue and device (``key_scope``: ``d:<device id>``, or
  ``a:<account id>`` for a single scan without a device), and carries the event's ``occurred_at`` so
  that the stored event is found again in its one partition; ``direction`` answers a retried batch
  item without touching the events at all.
- ``health_records`` are health data: the body is encrypted JSON (``record_to_json``), the kind and
  the person in clear for look-ups, ``created_at`` indexed for the retention purge.
- ``safe_codes`` caches the signed safe ("masked") code of a person, derived from their current code
  (``source_revocation_id``) on first fetch: ECDSA signatures are randomised, so deriving it anew on
  each fetch would give a different code every time, none of which could be revoked.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from unifiedqr.store.models import Base, UTCDateTime, utcnow


class ScanKey(Base):
    """One idempotency key of one scan: ``(venue, scope, key)`` is stored once, whatever the retries."""

    __tablename__ = "scan_keys"
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), primary_key=True)
    key_scope: Mapped[str] = mapped_column(String(72), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    direction: Mapped[str] = mapped_column(String(9))


class HealthRecordRow(Base):
    """A vaccination, test or recovery of a person (encrypted body), recorded by a health official."""

    __tablename__ = "health_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    body_enc: Mapped[bytes] = mapped_column(LargeBinary)
    recorded_by_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    __table_args__ = (Index("ix_health_records_person_id_created_at", "person_id", "created_at"),)


class SafeCode(Base):
    """The signed safe code of a person, valid while ``source_revocation_id`` is their current code's."""

    __tablename__ = "safe_codes"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    code_enc: Mapped[bytes] = mapped_column(LargeBinary)
    key_id: Mapped[str] = mapped_column(String(16))
    revocation_id: Mapped[str] = mapped_column(String(32))
    source_revocation_id: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
