"""The trace a case was opened in (W3C ``traceparent``): a referral requested later links to that flow."""

from wegweiser.common.migrations import shared

revision = "a8d41c7e5b03"
down_revision = "d52e8f1a0b21"


def upgrade() -> None:
    shared.add_traceparent("cases", "opened_trace")


def downgrade() -> None:
    shared.drop_column("cases", "opened_trace")
