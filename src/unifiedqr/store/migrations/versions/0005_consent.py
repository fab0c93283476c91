"""Hardening (issue 10): holder consent, the SMS outbox, withdrawals per venue, the toggle's index.

- ``consents`` and ``sms_outbox`` (store/consent_models.py);
- ``revoked_codes.venue_id``: whose poster a withdrawn code was (withdrawals per venue are limited);
- ``ix_scan_events_counted``: a partial index over the scans that are not duplicates, so the
  visit toggle finds a visitor's last counted scan without walking a flood of duplicates.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

COUNTED = sa.text("direction <> 'duplicate'")


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("otp_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("request_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_consents_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_consents_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consents")),
        sa.UniqueConstraint("public_id", name=op.f("uq_consents_public_id")),
    )
    with op.batch_alter_table("consents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consents_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_consents_created_at"), ["created_at"], unique=False)
        batch_op.create_index("ix_consents_person_id_account_id", ["person_id", "account_id"], unique=False)

    op.create_table(
        "sms_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("to_enc", sa.LargeBinary(), nullable=False),
        sa.Column("text_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sms_outbox")),
    )
    with op.batch_alter_table("sms_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sms_outbox_created_at"), ["created_at"], unique=False)

    with op.batch_alter_table("revoked_codes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("venue_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_revoked_codes_venue_id"), ["venue_id"], unique=False)

    op.create_index(
        "ix_scan_events_counted",
        "scan_events",
        ["venue_id", "person_key", "occurred_at"],
        unique=False,
        sqlite_where=COUNTED,
        postgresql_where=COUNTED,
    )


def downgrade() -> None:
    op.drop_index("ix_scan_events_counted", table_name="scan_events")
    with op.batch_alter_table("revoked_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_codes_venue_id"))
        batch_op.drop_column("venue_id")
    op.drop_table("sms_outbox")
    op.drop_table("consents")
