"""Audit log: who exported which person's or case's data (GDPR Art. 15), append-only."""

from wegweiser.common.migrations import shared

revision = "b2d9f4a61c73"
down_revision = "806803eade54"


def upgrade() -> None:
    shared.create_audit_log()


def downgrade() -> None:
    shared.drop_tables("audit_log")
