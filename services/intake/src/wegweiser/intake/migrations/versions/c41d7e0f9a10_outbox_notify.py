"""The outbox notifies its relay when a transaction queued events (PostgreSQL), instead of a poll."""

from wegweiser.common.migrations import shared

revision = "c41d7e0f9a10"
down_revision = "5b1e9c0d7a21"


def upgrade() -> None:
    shared.notify_outbox_inserts()


def downgrade() -> None:
    shared.drop_outbox_notify()
