"""The outbox notifies its relay when a transaction queued events (PostgreSQL), instead of a poll."""

from wegweiser.common.migrations import shared

revision = "f7409b3c2d43"
down_revision = "bb212fc23303"


def upgrade() -> None:
    shared.notify_outbox_inserts()


def downgrade() -> None:
    shared.drop_outbox_notify()
