"""Initial schema: the tables that create_all made before there were migrations."""

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations import shared

revision = "4e42890c9439"
down_revision = None

# Intake's own tables, in the order upgrade() creates them; downgrade() drops them the other way round.
TABLES = ("arrivals", "duplicate_flags", "idempotency_keys", "imports", "person_index")


def upgrade() -> None:
    shared.create_inbox_and_outbox()
    _create_arrivals()
    shared.create_idempotency_keys(owner="authority_id", owner_length=100)
    _create_imports()
    _create_person_index()


def _create_arrivals() -> None:
    """Arrivals and the flags of possible duplicates among them."""
    op.create_table(
        "arrivals",
        sa.Column("arrival_id", sa.Uuid(), primary_key=True),
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
        shared.timestamp("created_at"),
        shared.timestamp("updated_at"),
        sa.UniqueConstraint("authority_id", "authority_reference"),
    )
    op.create_table(
        "duplicate_flags",
        sa.Column("flag_id", sa.Uuid(), primary_key=True),
        sa.Column("arrival_id", sa.Uuid(), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_arrival_id", sa.Uuid(), nullable=False),
        sa.Column("candidate_person_id", sa.Uuid(), nullable=False),
        sa.Column("authority_id", sa.String(length=100), nullable=False),
        sa.Column("candidate_authority_id", sa.String(length=100), nullable=False),
        sa.Column("match", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        shared.timestamp("flagged_at"),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        shared.timestamp("decided_at", nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.UniqueConstraint("person_id", "candidate_person_id"),
    )
    shared.create_indexes("duplicate_flags", "arrival_id")
    op.create_index(
        "ix_duplicate_flags_authority_status", "duplicate_flags", ["authority_id", "status"], unique=False
    )
    shared.create_indexes("duplicate_flags", "candidate_arrival_id")


def _create_imports() -> None:
    op.create_table(
        "imports",
        sa.Column("import_id", sa.Uuid(), primary_key=True),
        sa.Column("authority_id", sa.String(length=100), nullable=False),
        sa.Column("uploaded_by", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=True),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        *shared.columns(
            sa.Integer(),
            "rows_total",
            "households_total",
            "households_done",
            "rows_done",
            "created",
            "existing",
        ),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("error", sa.String(length=2000), nullable=True),
        shared.timestamp("created_at"),
        shared.timestamp("updated_at"),
        shared.timestamp("lease_until", nullable=True),
    )
    shared.create_indexes("imports", "authority_id")


def _create_person_index() -> None:
    """Each person's match key, date of birth and nationalities: where possible duplicates are looked up."""
    op.create_table(
        "person_index",
        sa.Column("person_id", sa.Uuid(), primary_key=True),
        sa.Column("arrival_id", sa.Uuid(), nullable=False),
        sa.Column("match_key", sa.String(length=100), nullable=False),
        sa.Column("birth_year", sa.Integer(), nullable=False),
        sa.Column("birth_month", sa.Integer(), nullable=True),
        sa.Column("birth_day", sa.Integer(), nullable=True),
        sa.Column("nationalities", sa.String(length=40), nullable=False),
    )
    shared.create_indexes("person_index", "arrival_id")
    op.create_index("ix_person_index_lookup", "person_index", ["match_key", "birth_year"], unique=False)


def downgrade() -> None:
    shared.drop_tables(*reversed(TABLES))
    shared.drop_inbox_and_outbox()
