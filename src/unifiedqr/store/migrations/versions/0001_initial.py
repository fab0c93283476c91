"""Platform schema: accounts, API keys, people, documents, households, trust keys, declarations, audit.

Documents, phones, BHYT numbers, code texts and declaration bodies exist only encrypted from this
first revision on (issue 5); every personal table indexes created_at for purging by age.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-27 15:57:57.160241
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "households",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
        sa.UniqueConstraint("public_id", name=op.f("uq_households_public_id")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_created_at"), ["created_at"], unique=False)

    op.create_table(
        "trust_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_trust_keys")),
    )
    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("qid", sa.String(length=18), nullable=False),
        sa.Column("full_name", sa.String(length=100), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("phone_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("insurance_enc", sa.LargeBinary(), nullable=True),
        sa.Column("proxy_person_id", sa.Integer(), nullable=True),
        sa.Column("household_id", sa.Integer(), nullable=True),
        sa.Column("code_enc", sa.LargeBinary(), nullable=False),
        sa.Column("code_key_id", sa.String(length=16), nullable=False),
        sa.Column("code_revocation_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"],
            ["households.id"],
            name=op.f("fk_people_household_id_households"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proxy_person_id"],
            ["people.id"],
            name=op.f("fk_people_proxy_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("qid", name=op.f("uq_people_qid")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_code_key_id"), ["code_key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_household_id"), ["household_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_phone_hash"), ["phone_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_people_proxy_person_id"), ["proxy_person_id"], unique=False)

    op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=True),
        sa.Column("phone_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("phone_enc", sa.LargeBinary(), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("token_version", sa.Integer(), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_accounts_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_accounts")),
        sa.UniqueConstraint("phone_hash", name=op.f("uq_accounts_phone_hash")),
        sa.UniqueConstraint("public_id", name=op.f("uq_accounts_public_id")),
        sa.UniqueConstraint("username", name=op.f("uq_accounts_username")),
    )
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_accounts_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_accounts_person_id"), ["person_id"], unique=False)

    op.create_table(
        "person_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("doc_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("doc_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_documents_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_documents")),
        sa.UniqueConstraint("doc_hash", name=op.f("uq_person_documents_doc_hash")),
    )
    with op.batch_alter_table("person_documents", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_person_documents_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_documents_person_id"), ["person_id"], unique=False)

    op.create_table(
        "revoked_codes",
        sa.Column("revocation_id", sa.String(length=32), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_revoked_codes_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("revocation_id", name=op.f("pk_revoked_codes")),
    )
    with op.batch_alter_table("revoked_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_revoked_codes_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_revoked_codes_person_id"), ["person_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_api_keys_account_id_accounts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("public_id", name=op.f("uq_api_keys_public_id")),
    )
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_api_keys_created_at"), ["created_at"], unique=False)

    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_audit_events_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_audit_events_person_id_people"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_events_person_id"), ["person_id"], unique=False)

    op.create_table(
        "declarations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("submitted_by_account_id", sa.Integer(), nullable=True),
        sa.Column("declared_by_person_id", sa.Integer(), nullable=True),
        sa.Column("on_behalf", sa.Boolean(), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["declared_by_person_id"],
            ["people.id"],
            name=op.f("fk_declarations_declared_by_person_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_declarations_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_declarations_submitted_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_declarations")),
        sa.UniqueConstraint("public_id", name=op.f("uq_declarations_public_id")),
    )
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_declarations_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            "ix_declarations_person_id_created_at", ["person_id", "created_at"], unique=False
        )

    op.create_table(
        "person_platforms",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_person_platforms_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_platforms_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", "account_id", name=op.f("pk_person_platforms")),
    )
    with op.batch_alter_table("person_platforms", schema=None) as batch_op:
        batch_op.create_index("ix_person_platforms_account_id", ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_person_platforms_created_at"), ["created_at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("person_platforms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_platforms_created_at"))
        batch_op.drop_index("ix_person_platforms_account_id")

    op.drop_table("person_platforms")
    with op.batch_alter_table("declarations", schema=None) as batch_op:
        batch_op.drop_index("ix_declarations_person_id_created_at")
        batch_op.drop_index(batch_op.f("ix_declarations_created_at"))

    op.drop_table("declarations")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_person_id"))
        batch_op.drop_index(batch_op.f("ix_audit_events_created_at"))
        batch_op.drop_index(batch_op.f("ix_audit_events_account_id"))

    op.drop_table("audit_events")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_created_at"))
        batch_op.drop_index(batch_op.f("ix_api_keys_account_id"))

    op.drop_table("api_keys")
    with op.batch_alter_table("revoked_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_codes_person_id"))
        batch_op.drop_index(batch_op.f("ix_revoked_codes_created_at"))

    op.drop_table("revoked_codes")
    with op.batch_alter_table("person_documents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_documents_person_id"))
        batch_op.drop_index(batch_op.f("ix_person_documents_created_at"))

    op.drop_table("person_documents")
    with op.batch_alter_table("accounts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_accounts_person_id"))
        batch_op.drop_index(batch_op.f("ix_accounts_created_at"))

    op.drop_table("accounts")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_proxy_person_id"))
        batch_op.drop_index(batch_op.f("ix_people_phone_hash"))
        batch_op.drop_index(batch_op.f("ix_people_household_id"))
        batch_op.drop_index(batch_op.f("ix_people_created_at"))
        batch_op.drop_index(batch_op.f("ix_people_code_key_id"))

    op.drop_table("people")
    op.drop_table("trust_keys")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_created_at"))

    op.drop_table("households")
