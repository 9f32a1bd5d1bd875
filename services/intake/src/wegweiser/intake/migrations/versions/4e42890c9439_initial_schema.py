"""Initial schema: the tables that create_all made before there were migrations.

Create Date: 2026-11-26 12:50:03.554209
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations.inbox_outbox import create_inbox_and_outbox, drop_inbox_and_outbox

revision: str = "4e42890c9439"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_and_outbox()
    op.create_table(
        "arrivals",
        sa.Column("arrival_id", sa.Uuid(), nullable=False),
        sa.Column("authority_id", sa.String(length=100), nullable=False),
        sa.Column("authority_reference", sa.String(length=100), nullable=False),
        sa.Column("ags", sa.String(length=12), nullable=False),
        sa.Column("allocation_date", sa.Date(), nullable=False),
        sa.Column("facility", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("persons", sa.Text(), nullable=False),
        sa.Column("relocated_on", sa.Date(), nullable=True),
        sa.Column("withdrawn_on", sa.Date(), nullable=True),
        sa.Column("withdrawal_reason", sa.String(length=500), nullable=True),
        sa.Column("merged_into", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("arrival_id"),
        sa.UniqueConstraint("authority_id", "authority_reference"),
    )
    op.create_table(
        "duplicate_flags",
        sa.Column("flag_id", sa.Uuid(), nullable=False),
        sa.Column("arrival_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_arrival_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_person_id", sa.Uuid(), nullable=False),
        sa.Column("authority_id", sa.String(length=100), nullable=False),
        sa.Column("candidate_authority_id", sa.String(length=100), nullable=False),
        sa.Column("match", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("flag_id"),
        sa.UniqueConstraint("person_id", "candidate_person_id"),
    )
    op.create_index(op.f("ix_duplicate_flags_arrival_id"), "duplicate_flags", ["arrival_id"], unique=False)
    op.create_index(
        "ix_duplicate_flags_authority_status", "duplicate_flags", ["authority_id", "status"], unique=False
    )
    op.create_index(
        op.f("ix_duplicate_flags_candidate_arrival_id"),
        "duplicate_flags",
        ["candidate_arrival_id"],
        unique=False,
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("authority_id", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("authority_id", "key"),
    )
    op.create_index(op.f("ix_idempotency_keys_created_at"), "idempotency_keys", ["created_at"], unique=False)
    op.create_table(
        "imports",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("authority_id", sa.String(length=100), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("households_total", sa.Integer(), nullable=False),
        sa.Column("households_done", sa.Integer(), nullable=False),
        sa.Column("rows_done", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("existing", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("import_id"),
    )
    op.create_index(op.f("ix_imports_authority_id"), "imports", ["authority_id"], unique=False)
    op.create_table(
        "person_index",
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("arrival_id", sa.Uuid(), nullable=False),
        sa.Column("match_key", sa.String(length=100), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("birth_month", sa.Integer(), nullable=True),
        sa.Column("birth_day", sa.Integer(), nullable=True),
        sa.Column("nationalities", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("person_id"),
    )
    op.create_index(op.f("ix_person_index_arrival_id"), "person_index", ["arrival_id"], unique=False)
    op.create_index("ix_person_index_lookup", "person_index", ["match_key", "birth_year"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_person_index_lookup", table_name="person_index")
    op.drop_index(op.f("ix_person_index_arrival_id"), table_name="person_index")
    op.drop_table("person_index")
    op.drop_index(op.f("ix_imports_authority_id"), table_name="imports")
    op.drop_table("imports")
    op.drop_index(op.f("ix_idempotency_keys_created_at"), table_name="idempotency_keys")
    op.drop_table("idempotency_keys")
    op.drop_index(op.f("ix_duplicate_flags_candidate_arrival_id"), table_name="duplicate_flags")
    op.drop_index("ix_duplicate_flags_authority_status", table_name="duplicate_flags")
    op.drop_index(op.f("ix_duplicate_flags_arrival_id"), table_name="duplicate_flags")
    op.drop_table("duplicate_flags")
    op.drop_table("arrivals")
    drop_inbox_and_outbox()
