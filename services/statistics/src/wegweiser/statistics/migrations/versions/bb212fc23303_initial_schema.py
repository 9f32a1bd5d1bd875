"""Initial schema: the tables that create_all made before there were migrations."""

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations.building_blocks import (
    create_inbox_and_outbox,
    create_indexes,
    drop_inbox_and_outbox,
    drop_tables,
    timestamp,
)

revision = "bb212fc23303"
down_revision = None


def upgrade() -> None:
    create_inbox_and_outbox()
    op.create_table(
        "stat_feed",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        timestamp("published_at"),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "stat_generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        timestamp("created_at"),
        timestamp("switched_at", nullable=True),
        timestamp("retired_at", nullable=True),
        sa.Column("target_offsets", sa.JSON(), nullable=False),
        sa.Column("start_offsets", sa.JSON(), nullable=False),
        sa.Column("live_offsets", sa.JSON(), nullable=False),
        sa.Column("events_total", sa.Integer(), nullable=False),
        sa.Column("events_read", sa.Integer(), nullable=False),
        sa.Column("events_applied", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("rate_per_s", sa.Float(), nullable=False),
        timestamp("progress_at", nullable=True),
        timestamp("caught_up_at", nullable=True),
        timestamp("published_at", nullable=True),
        sa.Column("publication_s", sa.Float(), nullable=True),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("suppressed_cells", sa.Integer(), nullable=False),
        sa.Column("unplaced_events", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    create_indexes("stat_generations", "state")


def downgrade() -> None:
    drop_tables("stat_generations", "stat_feed")
    drop_inbox_and_outbox()
