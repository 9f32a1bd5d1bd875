"""When a webhook delivery was last attempted: the admin desk shows when a partner's latest error was."""

from alembic import op

from wegweiser.common.migrations import shared

revision = "e7a3c51f2b90"
down_revision = "d021201a84f8"


def upgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.add_column(shared.timestamp("last_attempt_at", nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries", schema=None) as batch_op:
        batch_op.drop_column("last_attempt_at")
