"""The trace of an upload's request (W3C ``traceparent``): its job's arrivals continue that flow."""

import sqlalchemy as sa
from alembic import op

revision = "b3f8d2a6c914"
down_revision = "c41d7e0f9a10"


def upgrade() -> None:
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("request_trace", sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imports", schema=None) as batch_op:
        batch_op.drop_column("request_trace")
