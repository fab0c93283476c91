"""Look-ups and retention: keys apart, day partitions, health records, safe codes, append-only audit.

- ``scan_keys``: idempotency keys scoped by venue and device (or account), unique by themselves;
  ``scan_events`` loses its unique ``(venue_id, idempotency_key)``, its foreign keys and the
  ``received_at`` index, and gains ``key_scope`` and an ``occurred_at`` index (the purge's);
- PostgreSQL: ``scan_events`` becomes range-partitioned by the UTC day of ``occurred_at``
  (primary key ``(id, occurred_at)``); the rows are copied into their days;
- ``health_records`` and ``safe_codes``; ``audit_events`` indexed by ``(person_id, created_at)``;
- PostgreSQL: ``audit_events`` is append-only (a trigger refuses UPDATE, DELETE and TRUNCATE unless
  the table's owner purges through ``unifiedqr.audit_purge``; the foreign keys may still null a
  deleted account's or person's id).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

from unifiedqr.store import scan_partitions

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_SCOPE = (
    "CASE WHEN b.device_id IS NOT NULL THEN 'd:' || b.device_id"
    " ELSE 'a:' || CAST(COALESCE(e.account_id, 0) AS VARCHAR) END"
)

_NEXT_ID = "nextval('scan_events_id_seq')"
APPEND_ONLY = """
CREATE OR REPLACE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('unifiedqr.audit_purge', true) = 'on'
       AND pg_has_role(current_user, (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER') THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'UPDATE'
       AND (NEW.id, NEW.role, NEW.actor, NEW.action, NEW.purpose, NEW.detail, NEW.created_at)
           IS NOT DISTINCT FROM
           (OLD.id, OLD.role, OLD.actor, OLD.action, OLD.purpose, OLD.detail, OLD.created_at)
       AND (NEW.account_id IS NULL OR NEW.account_id = OLD.account_id)
       AND (NEW.person_id IS NULL OR NEW.person_id = OLD.person_id) THEN
        RETURN NEW;  -- ON DELETE SET NULL of a removed account or person
    END IF;
    RAISE EXCEPTION 'audit_events is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
"""


def _new_tables() -> None:
    op.create_table(
        "scan_keys",
        sa.Column("venue_id", sa.Integer(), nullable=False),
        sa.Column("key_scope", sa.String(length=72), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("direction", sa.String(length=9), nullable=False),
        sa.ForeignKeyConstraint(
            ["venue_id"], ["venues.id"], name=op.f("fk_scan_keys_venue_id_venues"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("venue_id", "key_scope", "idempotency_key", name=op.f("pk_scan_keys")),
    )
    op.create_index(op.f("ix_scan_keys_occurred_at"), "scan_keys", ["occurred_at"])
    op.create_table(
        "health_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("body_enc", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_by_account_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_health_records_person_id_people"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_account_id"],
            ["accounts.id"],
            name=op.f("fk_health_records_recorded_by_account_id_accounts"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_health_records")),
        sa.UniqueConstraint("public_id", name=op.f("uq_health_records_public_id")),
    )
    op.create_index(op.f("ix_health_records_created_at"), "health_records", ["created_at"])
    op.create_index("ix_health_records_person_id_created_at", "health_records", ["person_id", "created_at"])
    op.create_table(
        "safe_codes",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("code_enc", sa.LargeBinary(), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("revocation_id", sa.String(length=32), nullable=False),
        sa.Column("source_revocation_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_safe_codes_person_id_people"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_safe_codes")),
    )
    op.create_index(op.f("ix_safe_codes_created_at"), "safe_codes", ["created_at"])
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index("ix_audit_events_person_id")
        batch.create_index("ix_audit_events_person_id_created_at", ["person_id", "created_at"])


def _keys_from(events: str) -> None:
    op.execute(
        "INSERT INTO scan_keys (venue_id, key_scope, idempotency_key, occurred_at, direction)"  # noqa: S608
        f" SELECT e.venue_id, {_SCOPE}, e.idempotency_key, e.occurred_at, e.direction"
        f" FROM {events} e LEFT JOIN scan_batches b ON b.id = e.batch_id WHERE e.idempotency_key IS NOT NULL"
    )


def _sqlite_events() -> None:
    with op.batch_alter_table("scan_events", recreate="always") as batch:
        batch.add_column(sa.Column("key_scope", sa.String(length=72), nullable=True))
        batch.drop_constraint("uq_scan_events_venue_id_idempotency_key", type_="unique")
        batch.drop_constraint("fk_scan_events_venue_id_venues", type_="foreignkey")
        batch.drop_constraint("fk_scan_events_entrance_id_venue_entrances", type_="foreignkey")
        batch.drop_constraint("fk_scan_events_batch_id_scan_batches", type_="foreignkey")
        batch.drop_index("ix_scan_events_received_at")
        batch.create_index("ix_scan_events_occurred_at", ["occurred_at"])
    _keys_from("scan_events")
    op.execute(
        "UPDATE scan_events SET key_scope = (SELECT k.key_scope FROM scan_keys k"
        " WHERE k.venue_id = scan_events.venue_id AND k.idempotency_key = scan_events.idempotency_key)"
        " WHERE idempotency_key IS NOT NULL"
    )


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column(
            "id", sa.BigInteger(), server_default=sa.text("nextval('scan_events_id_seq')"), nullable=False
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
        sa.Column("key_scope", sa.String(length=72), nullable=True),
        sa.Column("device_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
    ]


def _postgresql_events() -> None:
    op.execute("ALTER TABLE scan_events RENAME TO scan_events_old")
    op.execute("ALTER TABLE scan_events_old RENAME CONSTRAINT pk_scan_events TO pk_scan_events_old")
    for index in ("person_key_occurred_at", "received_at", "venue_id_occurred_at"):
        op.execute(f"DROP INDEX ix_scan_events_{index}")
    op.create_table(
        "scan_events",
        *_columns(),
        sa.PrimaryKeyConstraint("id", "occurred_at", name=op.f("pk_scan_events")),
        postgresql_partition_by="RANGE (occurred_at)",
    )
    op.create_index("ix_scan_events_venue_id_occurred_at", "scan_events", ["venue_id", "occurred_at"])
    op.create_index("ix_scan_events_person_key_occurred_at", "scan_events", ["person_key", "occurred_at"])
    op.create_index("ix_scan_events_occurred_at", "scan_events", ["occurred_at"])
    bind = op.get_bind()
    days = set(
        bind.execute(
            sa.text("SELECT DISTINCT CAST(occurred_at AT TIME ZONE 'UTC' AS date) FROM scan_events_old")
        ).scalars()
    )
    today = dt.datetime.now(dt.UTC).date()
    days |= {today + dt.timedelta(days=n) for n in range(-32, 4)}
    for day in sorted(days):
        scan_partitions.create_day(bind, day)
    columns = ", ".join(c.name for c in _columns() if c.name != "key_scope")
    prefixed = ", ".join(f"e.{c.name}" for c in _columns() if c.name != "key_scope")
    op.execute(
        f"INSERT INTO scan_events ({columns}, key_scope)"  # noqa: S608
        f" SELECT {prefixed}, CASE WHEN e.idempotency_key IS NULL THEN NULL ELSE {_SCOPE} END"
        " FROM scan_events_old e LEFT JOIN scan_batches b ON b.id = e.batch_id"
    )
    _keys_from("scan_events_old")
    op.execute("ALTER SEQUENCE scan_events_id_seq OWNED BY scan_events.id")
    op.execute("DROP TABLE scan_events_old")
    op.execute(APPEND_ONLY)


def upgrade() -> None:
    _new_tables()
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_events()
    else:
        _sqlite_events()


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_events_no_truncate ON audit_events")
        op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
        op.execute("DROP FUNCTION audit_events_append_only()")
        op.execute("CREATE TABLE scan_events_flat (LIKE scan_events INCLUDING DEFAULTS)")
        op.execute("INSERT INTO scan_events_flat SELECT * FROM scan_events")
        op.execute("ALTER SEQUENCE scan_events_id_seq OWNED BY scan_events_flat.id")
        op.execute("DROP TABLE scan_events CASCADE")
        op.execute("ALTER TABLE scan_events_flat RENAME TO scan_events")
        op.execute("ALTER TABLE scan_events ADD CONSTRAINT pk_scan_events PRIMARY KEY (id)")
        op.drop_column("scan_events", "key_scope")
        op.create_index("ix_scan_events_venue_id_occurred_at", "scan_events", ["venue_id", "occurred_at"])
        op.create_index("ix_scan_events_person_key_occurred_at", "scan_events", ["person_key", "occurred_at"])
        op.create_index(op.f("ix_scan_events_received_at"), "scan_events", ["received_at"])
        op.create_unique_constraint(
            op.f("uq_scan_events_venue_id_idempotency_key"), "scan_events", ["venue_id", "idempotency_key"]
        )
    else:
        with op.batch_alter_table("scan_events", recreate="always") as batch:
            batch.drop_index("ix_scan_events_occurred_at")
            batch.create_index(op.f("ix_scan_events_received_at"), ["received_at"])
            batch.drop_column("key_scope")
            batch.create_unique_constraint(
                op.f("uq_scan_events_venue_id_idempotency_key"), ["venue_id", "idempotency_key"]
            )
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_index("ix_audit_events_person_id_created_at")
        batch.create_index("ix_audit_events_person_id", ["person_id"])
    op.drop_table("safe_codes")
    op.drop_table("health_records")
    op.drop_table("scan_keys")
