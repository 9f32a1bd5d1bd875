"""The outbox notifies its relay when a transaction queued events (PostgreSQL), instead of a poll."""

from wegweiser.common.migrations import shared

revision = "e63f9a2b1c32"
down_revision = "7d3a1b2f9c43"


def upgrade() -> None:
    shared.notify_outbox_inserts()


def downgrade() -> None:
    shared.drop_outbox_notify()
