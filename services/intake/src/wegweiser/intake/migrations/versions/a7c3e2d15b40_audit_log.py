"""Audit log: who exported which person's or case's data (GDPR Art. 15), append-only."""

from wegweiser.common.migrations import shared

revision = "a7c3e2d15b40"
down_revision = "4e42890c9439"


def upgrade() -> None:
    shared.create_audit_log()


def downgrade() -> None:
    shared.drop_tables("audit_log")
