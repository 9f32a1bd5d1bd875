"""Initial schema: the tables that create_all made before there were migrations."""

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations import shared

revision = "bb212fc23303"
down_revision = None

# Statistics' own tables, in the order upgrade() creates them; downgrade() drops them the other way round.
TABLES = ("stat_feed", "stat_generations")


def upgrade() -> None:
    shared.create_inbox_and_outbox()
    op.create_table(
        "stat_feed",
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        shared.timestamp("published_at"),
    )
    op.create_table(
        "stat_generations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        shared.timestamp("created_at"),
        shared.timestamp("switched_at", nullable=True),
        shared.timestamp("retired_at", nullable=True),
        *shared.columns(sa.JSON(), "target_offsets", "start_offsets", "live_offsets"),
        *shared.columns(
            sa.Integer(), "events_total", "events_read", "events_applied", "duplicates", "malformed"
        ),
        sa.Column("rate_per_s", sa.Float(), nullable=False),
        shared.timestamp("progress_at", nullable=True),
        shared.timestamp("caught_up_at", nullable=True),
        shared.timestamp("published_at", nullable=True),
        sa.Column("publication_s", sa.Float(), nullable=True),
        *shared.columns(sa.Integer(), "cells", "suppressed_cells", "unplaced_events"),
        sa.Column("error", sa.String(), nullable=True),
    )
    shared.create_indexes("stat_generations", "state")


def downgrade() -> None:
    shared.drop_tables(*reversed(TABLES))
    shared.drop_inbox_and_outbox()
