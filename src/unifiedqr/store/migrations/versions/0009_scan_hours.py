"""The officials' dashboard (issue 16): scans per UTC hour, province and direction, from the events.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_hours",
        sa.Column("hour", sa.DateTime(timezone=True), nullable=False),
        sa.Column("province", sa.String(length=100), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("shard", sa.Integer(), nullable=False),
        sa.Column("scans", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("hour", "province", "direction", "shard", name=op.f("pk_scan_hours")),
    )
    if op.get_bind().dialect.name == "sqlite":  # naive UTC text, as SQLAlchemy writes it
        hour = "strftime('%Y-%m-%d %H:00:00.000000', e.occurred_at)"
    else:
        hour = "date_trunc('hour', e.occurred_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    op.execute(
        f"INSERT INTO scan_hours (hour, province, direction, shard, scans)"  # noqa: S608 (constant)
        f" SELECT {hour}, v.province, e.direction, 0, count(*)"
        " FROM scan_events e JOIN venues v ON v.id = e.venue_id"
        " WHERE e.direction IN ('in', 'out') GROUP BY 1, 2, 3"
    )


def downgrade() -> None:
    op.drop_table("scan_hours")
