"""Initial schema: the tables that create_all made before there were migrations.

Create Date: 2026-11-26 12:50:04.002893
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations.inbox_outbox import create_inbox_and_outbox, drop_inbox_and_outbox

revision: str = "bb212fc23303"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_and_outbox()
    op.create_table(
        "stat_feed",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_table(
        "stat_generations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("switched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("target_offsets", sa.JSON(), nullable=False),
        sa.Column("start_offsets", sa.JSON(), nullable=False),
        sa.Column("live_offsets", sa.JSON(), nullable=False),
        sa.Column("events_total", sa.Integer(), nullable=False),
        sa.Column("events_read", sa.Integer(), nullable=False),
        sa.Column("events_applied", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("malformed", sa.Integer(), nullable=False),
        sa.Column("rate_per_s", sa.Float(), nullable=False),
        sa.Column("progress_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("caught_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("publication_s", sa.Float(), nullable=True),
        sa.Column("cells", sa.Integer(), nullable=False),
        sa.Column("suppressed_cells", sa.Integer(), nullable=False),
        sa.Column("unplaced_events", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_stat_generations_state"), "stat_generations", ["state"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_stat_generations_state"), table_name="stat_generations")
    op.drop_table("stat_generations")
    op.drop_table("stat_feed")
    drop_inbox_and_outbox()
