"""Conformance tables: app assessments with the assessor's decision, and the public list (issue 14, 0007).

A sibling of :mod:`unifiedqr.store.models` on the same ``Base``; :mod:`unifiedqr.store.db` imports it.
Why the shape:

- ``conformance_assessments`` holds one row per submitted assessment record (``report.json`` of
  ``unifiedqr conformance check``), normalised, with the columns the assessor filters on copied out
  of it (vendor, app name and version, verdict) and the decision beside it. ``record_sha256`` is
  unique, so a retried submission lands once. No personal data: the record holds what was read on a
  synthetic test person's screen, and the evidence images stay with the assessment centre.
- At most one assessment per app (vendor, name) is ``approved`` at a time: the partial unique index
  ``uq_conformance_assessments_listed`` says so in the database, so two assessors approving two
  versions at once cannot both list theirs (the service replaces the older one first).
- ``conformance_list`` is a single row (``id`` 1): the signed public list as last published, and its
  ``sequence``. Every publication locks the row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has
  one writer), so sequences grow strictly even with decisions made in several processes at once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from unifiedqr.store.models import Base, UTCDateTime, utcnow

#: The decisions an assessment can be in (``superseded``: a later approval of the app replaced it).
DECISIONS = ("pending", "approved", "rejected", "withdrawn", "superseded")
_LISTED = text("decision = 'approved'")


class ConformanceAssessment(Base):
    """One app version's assessment as submitted, and the assessor's decision on it."""

    __tablename__ = "conformance_assessments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(40), unique=True)
    vendor: Mapped[str] = mapped_column(String(200))
    app_name: Mapped[str] = mapped_column(String(200))
    app_version: Mapped[str] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(8))
    assessed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    record: Mapped[str] = mapped_column(Text)
    record_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    submitted_by: Mapped[str] = mapped_column(String(200))
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decision: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    reasons: Mapped[str] = mapped_column(Text, default="[]")  # a JSON list of text
    decided_by: Mapped[str | None] = mapped_column(String(200))  # the account or operator (audit: who)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_conformance_assessments_vendor_app_name", "vendor", "app_name"),
        Index(
            "uq_conformance_assessments_listed",
            "vendor",
            "app_name",
            unique=True,
            sqlite_where=_LISTED,
            postgresql_where=_LISTED,
        ),
    )


class ConformanceList(Base):
    """The public list as last published (one row, ``id`` 1): its sequence and signed document."""

    __tablename__ = "conformance_list"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[str] = mapped_column(String(16))
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    document: Mapped[str] = mapped_column(Text)
