"""Conformance: app assessments with the assessor's decision, and the signed public list (issue 14).

At most one approved assessment per app (vendor, name): a partial unique index, so concurrent
approvals cannot list two versions. conformance_list is one row: the list as last published.

Revision ID: 0007
Revises: 0005 (re-chained after 0004-0006 at merge)
Create Date: 2026-12-01 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None

_LISTED = sa.text("decision = 'approved'")


def upgrade() -> None:
    op.create_table(
        "conformance_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("vendor", sa.String(length=200), nullable=False),
        sa.Column("app_name", sa.String(length=200), nullable=False),
        sa.Column("app_version", sa.String(length=200), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("record_sha256", sa.String(length=64), nullable=False),
        sa.Column("submitted_by", sa.String(length=200), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conformance_assessments")),
        sa.UniqueConstraint("public_id", name=op.f("uq_conformance_assessments_public_id")),
        sa.UniqueConstraint("record_sha256", name=op.f("uq_conformance_assessments_record_sha256")),
    )
    with op.batch_alter_table("conformance_assessments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conformance_assessments_decision"), ["decision"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_conformance_assessments_submitted_at"), ["submitted_at"], unique=False
        )
        batch_op.create_index(
            "ix_conformance_assessments_vendor_app_name", ["vendor", "app_name"], unique=False
        )
        batch_op.create_index(
            "uq_conformance_assessments_listed",
            ["vendor", "app_name"],
            unique=True,
            sqlite_where=_LISTED,
            postgresql_where=_LISTED,
        )

    op.create_table(
        "conformance_list",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conformance_list")),
    )


def downgrade() -> None:
    op.drop_table("conformance_list")
    with op.batch_alter_table("conformance_assessments", schema=None) as batch_op:
        batch_op.drop_index("uq_conformance_assessments_listed")
        batch_op.drop_index("ix_conformance_assessments_vendor_app_name")
        batch_op.drop_index(batch_op.f("ix_conformance_assessments_submitted_at"))
        batch_op.drop_index(batch_op.f("ix_conformance_assessments_decision"))
    op.drop_table("conformance_assessments")
