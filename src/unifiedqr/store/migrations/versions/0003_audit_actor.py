"""Audit rows name their actor (the host operator has no account) and may carry a purpose.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 23:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=200), nullable=False, server_default=""))
        batch.add_column(sa.Column("purpose", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("purpose")
        batch.drop_column("actor")
