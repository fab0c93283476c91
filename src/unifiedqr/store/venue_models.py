"""Venue tables: venues, entrances, staff, scan batches and scan events (issue 6, migration 0002).

A sibling of :mod:`unifiedqr.store.models` on the same ``Base`` (so Alembic and ``metadata`` see one
schema); :mod:`unifiedqr.store.db` imports it, so every process that opens the database knows these
tables. Why the shape:

- ``scan_events`` is the busiest table of the system (tens of millions of rows a day nationally), so
  it is narrow: integer foreign keys, a 16-byte keyed hash of the visitor (``person_key``) instead
  of any identity in clear, the masked name/phone the owner may see, and the full identity only
  encrypted (``identity_enc``, for authorities). It holds *events*; visits are derived on reading.
- idempotency keys are unique in a table of their own (``scan_keys``,
  :mod:`unifiedqr.store.access_models`): an offline device's retried upload lands once, even when
  two retries race, because the database, not the application, says no; ``key_scope`` here names
  the device (or account) the key belongs to, so the event of a key is found again exactly.
- ``(venue_id, occurred_at)`` serves the owner's day view, ``(person_key, occurred_at)`` the visit
  rules (same person's last scan, next check-in elsewhere) and contact tracing; ``occurred_at``
  alone the retention purge (spec §9, 30 days).
- On PostgreSQL the table is range-partitioned by the UTC day of ``occurred_at`` (migration 0004,
  :mod:`unifiedqr.store.scan_rows`): the purge drops whole days, and queries bounded in time read
  only their days. The primary key there is ``(id, occurred_at)``, as partitioning requires.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from unifiedqr.store.models import Base, UTCDateTime, utcnow

#: An integer primary key that is BIGINT on PostgreSQL and the rowid alias on SQLite.
EventId = BigInteger().with_variant(Integer(), "sqlite")


class Venue(Base):
    """A registered venue; ``public_id`` is the opaque random id inside its signed code."""

    __tablename__ = "venues"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    province: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100))
    commune: Mapped[str] = mapped_column(String(100))
    street: Mapped[str] = mapped_column(String(200))
    owner_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="RESTRICT"), index=True)
    owner_phone_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    owner_phone_enc: Mapped[bytes] = mapped_column(LargeBinary)
    default_stay_minutes: Mapped[int | None] = mapped_column(Integer)
    code_signature: Mapped[str] = mapped_column(String(128))
    code_base_url: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Entrance(Base):
    """A scanner point of a venue (a door, a gate); every venue has at least one."""

    __tablename__ = "venue_entrances"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("venue_id", "name"),)


class VenueStaff(Base):
    """Which staff accounts scan for which venue (the owner is not listed: ownership implies it)."""

    __tablename__ = "venue_staff"
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    __table_args__ = (Index("ix_venue_staff_account_id", "account_id"),)


class ScanBatch(Base):
    """One offline upload: who sent it, the device's clock at sending and the skew measured."""

    __tablename__ = "scan_batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    venue_id: Mapped[int] = mapped_column(ForeignKey("venues.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    device_id: Mapped[str] = mapped_column(String(64))
    device_sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    clock_skew_seconds: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ScanEvent(Base):
    """One scan (either direction); see the module docstring for why it looks like this.

    ``direction`` is what the visit rules said at ingest (``in``, ``out`` or ``duplicate``);
    ``explicit`` is what the scanner asked for, if anything, so visits can be re-derived exactly.
    ``device_at`` is the device's own time stamp, ``occurred_at`` that time corrected for the
    device's measured clock skew (they differ only for skewed devices).
    """

    __tablename__ = "scan_events"
    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    # No foreign keys (migration 0004): attaching a day's partition would otherwise lock the venues
    # and batches tables against inserts; the services write only ids they have just resolved.
    venue_id: Mapped[int] = mapped_column(Integer)
    entrance_id: Mapped[int | None] = mapped_column(Integer)
    batch_id: Mapped[int | None] = mapped_column(Integer)
    account_id: Mapped[int | None] = mapped_column(Integer)
    person_key: Mapped[bytes] = mapped_column(LargeBinary(16))
    person_id: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(8))
    code_kind: Mapped[str] = mapped_column(String(16))
    verification: Mapped[str] = mapped_column(String(24))
    explicit: Mapped[str | None] = mapped_column(String(3))
    direction: Mapped[str] = mapped_column(String(9))
    name_masked: Mapped[str] = mapped_column(String(120))
    phone_masked: Mapped[str | None] = mapped_column(String(16))
    identity_enc: Mapped[bytes] = mapped_column(LargeBinary)
    idempotency_key: Mapped[str | None] = mapped_column(String(64))
    key_scope: Mapped[str | None] = mapped_column(String(72))
    device_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    __table_args__ = (
        Index("ix_scan_events_venue_id_occurred_at", "venue_id", "occurred_at"),
        Index("ix_scan_events_person_key_occurred_at", "person_key", "occurred_at"),
        # The visit toggle's look-back (issue 10 #6): one visitor's last counted scan at a venue in
        # O(log n), however many duplicates a flood added (they are not in this index).
        Index(
            "ix_scan_events_counted",
            "venue_id",
            "person_key",
            "occurred_at",
            sqlite_where=text("direction <> 'duplicate'"),
            postgresql_where=text("direction <> 'duplicate'"),
        ),
    )


class ScanHour(Base):
    """Scans per UTC hour, province and direction (duplicates not counted): the officials' dashboard
    reads these instead of a day's events (``store/scan_hours.py`` keeps them, in the transaction
    that inserts the events). Each transaction adds to one of ``SHARDS`` rows of its key, picked at
    random, so concurrent writers in one province seldom wait on the same row. Counts only."""

    __tablename__ = "scan_hours"
    hour: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    province: Mapped[str] = mapped_column(String(100), primary_key=True)
    direction: Mapped[str] = mapped_column(String(3), primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True)
    scans: Mapped[int] = mapped_column(Integer)
