"""The outbox notifies its relay when a transaction queued events (PostgreSQL), instead of a poll."""

from wegweiser.common.migrations import shared

revision = "d52e8f1a0b21"
down_revision = "6c2f0a1e8b32"


def upgrade() -> None:
    shared.notify_outbox_inserts()


def downgrade() -> None:
    shared.drop_outbox_notify()
