"""Contact tracing: cases, their decision log, tracers' reviews and the notification outbox (issue 12).

Candidates are derived from scan_events on reading, so nothing here copies who met whom; the
tables hold what people decided and what was sent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 00:17:53
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tracing_cases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("case_keys", sa.LargeBinary(), nullable=False),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("rule_config", sa.Text(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("onset", sa.DateTime(timezone=True), nullable=True),
        sa.Column("isolation", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("opened_by_account_id", sa.Integer(), nullable=True),
        sa.Column("opened_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["opened_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_tracing_cases_opened_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_tracing_cases_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_cases")),
        sa.UniqueConstraint("public_id", name=op.f("uq_tracing_cases_public_id")),
    )
    with op.batch_alter_table("tracing_cases", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracing_cases_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracing_cases_person_id"), ["person_id"], unique=False)
        batch_op.create_index("ix_tracing_cases_status_created_at", ["status", "created_at"], unique=False)

    op.create_table(
        "tracing_case_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=24), nullable=False),
        sa.Column("subject", sa.String(length=40), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_tracing_case_log_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tracing_cases.id"],
            name=op.f("fk_tracing_case_log_case_id_tracing_cases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_case_log")),
    )
    with op.batch_alter_table("tracing_case_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracing_case_log_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracing_case_log_created_at"), ["created_at"], unique=False)

    op.create_table(
        "tracing_notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.LargeBinary(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("platform_account_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("message", sa.String(length=1000), nullable=False),
        sa.Column("venue_name", sa.String(length=200), nullable=False),
        sa.Column("exposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tracing_cases.id"],
            name=op.f("fk_tracing_notifications_case_id_tracing_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_tracing_notifications_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["platform_account_id"],
            ["accounts.id"],
            name=op.f("fk_tracing_notifications_platform_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tracing_notifications")),
        sa.UniqueConstraint("public_id", name=op.f("uq_tracing_notifications_public_id")),
    )
    with op.batch_alter_table("tracing_notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracing_notifications_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracing_notifications_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracing_notifications_person_id"), ["person_id"], unique=False)
        batch_op.create_index(
            "ix_tracing_notifications_platform_account_id_status",
            ["platform_account_id", "status"],
            unique=False,
        )

    op.create_table(
        "tracing_reviews",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.LargeBinary(length=16), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_tracing_reviews_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["tracing_cases.id"],
            name=op.f("fk_tracing_reviews_case_id_tracing_cases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_tracing_reviews_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("case_id", "person_key", name=op.f("pk_tracing_reviews")),
    )
    with op.batch_alter_table("tracing_reviews", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_tracing_reviews_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_tracing_reviews_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tracing_reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracing_reviews_person_id"))
        batch_op.drop_index(batch_op.f("ix_tracing_reviews_created_at"))

    op.drop_table("tracing_reviews")
    with op.batch_alter_table("tracing_notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_tracing_notifications_platform_account_id_status")
        batch_op.drop_index(batch_op.f("ix_tracing_notifications_person_id"))
        batch_op.drop_index(batch_op.f("ix_tracing_notifications_created_at"))
        batch_op.drop_index(batch_op.f("ix_tracing_notifications_case_id"))

    op.drop_table("tracing_notifications")
    with op.batch_alter_table("tracing_case_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tracing_case_log_created_at"))
        batch_op.drop_index(batch_op.f("ix_tracing_case_log_case_id"))

    op.drop_table("tracing_case_log")
    with op.batch_alter_table("tracing_cases", schema=None) as batch_op:
        batch_op.drop_index("ix_tracing_cases_status_created_at")
        batch_op.drop_index(batch_op.f("ix_tracing_cases_person_id"))
        batch_op.drop_index(batch_op.f("ix_tracing_cases_created_at"))

    op.drop_table("tracing_cases")
