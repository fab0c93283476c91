"""Stream mode (issue 15): what the database refused after a node had accepted it.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 03:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_rejections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("venue_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("key_scope", sa.String(length=80), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("field", sa.String(length=100), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_rejections")),
    )
    op.create_index(op.f("ix_ingest_rejections_created_at"), "ingest_rejections", ["created_at"])
    op.create_index(
        "ix_ingest_rejections_venue_id_created_at", "ingest_rejections", ["venue_id", "created_at"]
    )
    op.create_index(
        "ix_ingest_rejections_account_id_created_at", "ingest_rejections", ["account_id", "created_at"]
    )


def downgrade() -> None:
    op.drop_table("ingest_rejections")
