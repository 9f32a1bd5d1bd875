"""The trace of an upload's request (W3C ``traceparent``): its job's arrivals continue that flow."""

from wegweiser.common.migrations import shared

revision = "b3f8d2a6c914"
down_revision = "c41d7e0f9a10"


def upgrade() -> None:
    shared.add_traceparent("imports", "request_trace")


def downgrade() -> None:
    shared.drop_column("imports", "request_trace")
