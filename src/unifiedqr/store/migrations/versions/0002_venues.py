"""Venues: venues, entrances, staff, offline scan batches and scan events (issue 6).

scan_events is the hot table: unique (venue_id, idempotency_key) makes retried uploads land once;
(venue_id, occurred_at) and (person_key, occurred_at) serve the day view and the visit rules.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 16:07:38.906474
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "venues",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("province", sa.String(length=100), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=False),
        sa.Column("commune", sa.String(length=100), nullable=False),
        sa.Column("street", sa.String(length=200), nullable=False),
        sa.Column("owner_account_id", sa.Integer(), nullable=False),
        sa.Column("owner_phone_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("owner_phone_enc", sa.LargeBinary(), nullable=False),
        sa.Column("default_stay_minutes", sa.Integer(), nullable=True),
        sa.Column("code_signature", sa.String(length=128), nullable=False),
        sa.Column("code_base_url", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_account_id"],
            ["accounts.id"],
            name=op.f("fk_venues_owner_account_id_accounts"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venues")),
        sa.UniqueConstraint("public_id", name=op.f("uq_venues_public_id")),
    )
    with op.batch_alter_table("venues", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_venues_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_venues_owner_account_id"), ["owner_account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_venues_owner_phone_hash"), ["owner_phone_hash"], unique=False)

    op.create_table(
        "scan_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.String(length=64), nullable=False),
        sa.Column("device_sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clock_skew_seconds", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_scan_batches_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_scan_batches_venue_id_venues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_batches")),
    )
    with op.batch_alter_table("scan_batches", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scan_batches_received_at"), ["received_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_scan_batches_venue_id"), ["venue_id"], unique=False)

    op.create_table(
        "venue_entrances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=32), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_entrances_venue_id_venues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_venue_entrances")),
        sa.UniqueConstraint("public_id", name=op.f("uq_venue_entrances_public_id")),
        sa.UniqueConstraint("venue_id", "name", name=op.f("uq_venue_entrances_venue_id_name")),
    )
    op.create_table(
        "venue_staff",
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_venue_staff_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_venue_staff_venue_id_venues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("venue_id", "account_id", name=op.f("pk_venue_staff")),
    )
    with op.batch_alter_table("venue_staff", schema=None) as batch_op:
        batch_op.create_index("ix_venue_staff_account_id", ["account_id"], unique=False)

    op.create_table(
        "scan_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("entrance_id", sa.Integer(), nullable=True),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("person_key", sa.LargeBinary(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("code_kind", sa.String(length=16), nullable=False),
        sa.Column("verification", sa.String(length=24), nullable=False),
        sa.Column("explicit", sa.String(length=3), nullable=True),
        sa.Column("direction", sa.String(length=9), nullable=False),
        sa.Column("name_masked", sa.String(length=120), nullable=False),
        sa.Column("phone_masked", sa.String(length=16), nullable=True),
        sa.Column("identity_enc", sa.LargeBinary(), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=True),
        sa.Column("device_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["scan_batches.id"],
            name=op.f("fk_scan_events_batch_id_scan_batches"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["entrance_id"],
            ["venue_entrances.id"],
            name=op.f("fk_scan_events_entrance_id_venue_entrances"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_scan_events_venue_id_venues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scan_events")),
        sa.UniqueConstraint(
            "venue_id", "idempotency_key", name=op.f("uq_scan_events_venue_id_idempotency_key")
        ),
    )
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_scan_events_person_key_occurred_at", ["person_key", "occurred_at"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_scan_events_received_at"), ["received_at"], unique=False)
        batch_op.create_index(
            "ix_scan_events_venue_id_occurred_at", ["venue_id", "occurred_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("scan_events", schema=None) as batch_op:
        batch_op.drop_index("ix_scan_events_venue_id_occurred_at")
        batch_op.drop_index(batch_op.f("ix_scan_events_received_at"))
        batch_op.drop_index("ix_scan_events_person_key_occurred_at")

    op.drop_table("scan_events")
    with op.batch_alter_table("venue_staff", schema=None) as batch_op:
        batch_op.drop_index("ix_venue_staff_account_id")

    op.drop_table("venue_staff")
    op.drop_table("venue_entrances")
    with op.batch_alter_table("scan_batches", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scan_batches_venue_id"))
        batch_op.drop_index(batch_op.f("ix_scan_batches_received_at"))

    op.drop_table("scan_batches")
    with op.batch_alter_table("venues", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_venues_owner_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_venues_owner_account_id"))
        batch_op.drop_index(batch_op.f("ix_venues_created_at"))

    op.drop_table("venues")
