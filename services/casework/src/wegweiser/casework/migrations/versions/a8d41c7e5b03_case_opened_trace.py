"""The trace a case was opened in (W3C ``traceparent``): a referral requested later links to that flow."""

import sqlalchemy as sa
from alembic import op

revision = "a8d41c7e5b03"
down_revision = "d52e8f1a0b21"


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("opened_trace", sa.String(length=55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("opened_trace")
