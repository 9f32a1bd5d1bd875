"""The partner inbox's copy of each offer (the consented minimum), kept while the referral is under way."""

import sqlalchemy as sa
from alembic import op

revision = "d021201a84f8"
down_revision = "b2d9f4a61c73"


def upgrade() -> None:
    op.create_table(
        "partner_offers",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.String(length=63), nullable=False),
        sa.Column("person", sa.JSON(), nullable=False),
        sa.Column("municipality", sa.String(length=200), nullable=True),
        sa.Column("referring_provider_id", sa.String(length=100), nullable=False),
        sa.Column("note_for_partner", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("referral_id", name="pk_partner_offers"),
    )
    with op.batch_alter_table("partner_offers", schema=None) as batch_op:
        batch_op.create_index("ix_partner_offers_partner_id", ["partner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partner_offers", schema=None) as batch_op:
        batch_op.drop_index("ix_partner_offers_partner_id")
    op.drop_table("partner_offers")
