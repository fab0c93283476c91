"""Scans a node accepted from the ingest stream that the database then refused (issue 15, migration 0008).

In stream mode the door was answered 202 before the database saw the scan; what only the database
can decide (a platform's person not in its scope, a staff member removed meanwhile, an entrance
deleted) is decided by the consumer, and a refusal is kept here, with its reason, where the venue's
owner and the submitting account can read it (``GET /venues/{id}/rejections``,
``GET /checkins/rejections``). Nothing personal is stored: the idempotency key, the field and the
reason. Purged with the scans (30 days).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from unifiedqr.store.models import Base, UTCDateTime, utcnow


class IngestRejection(Base):
    __tablename__ = "ingest_rejections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    key_scope: Mapped[str] = mapped_column(String(80))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    field: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(300))
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    __table_args__ = (
        Index("ix_ingest_rejections_venue_id_created_at", "venue_id", "created_at"),
        Index("ix_ingest_rejections_account_id_created_at", "account_id", "created_at"),
    )
