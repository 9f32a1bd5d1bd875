"""Initial schema: the tables that create_all made before there were migrations.

Create Date: 2026-11-26 12:50:03.740818
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations.inbox_outbox import create_inbox_and_outbox, drop_inbox_and_outbox

revision: str = "806803eade54"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_inbox_and_outbox()
    op.create_table(
        "known_cases",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("ags", sa.String(length=12), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
    )
    op.create_index(op.f("ix_known_cases_ags"), "known_cases", ["ags"], unique=False)
    op.create_table(
        "partner_feedback",
        sa.Column("partner_id", sa.String(length=63), nullable=False),
        sa.Column("feedback_id", sa.Uuid(), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("result_state", sa.String(length=20), nullable=True),
        sa.Column("rejected_code", sa.String(length=60), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partner_id", "feedback_id"),
    )
    op.create_index(
        op.f("ix_partner_feedback_referral_id"), "partner_feedback", ["referral_id"], unique=False
    )
    op.create_table(
        "partners",
        sa.Column("partner_id", sa.String(length=63), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("webhook_secret", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("partner_id"),
    )
    op.create_index(op.f("ix_partners_removed"), "partners", ["removed"], unique=False)
    op.create_table(
        "programmes",
        sa.Column("programme", sa.String(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("programme"),
    )
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("ags", sa.String(length=12), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("programme", sa.String(length=40), nullable=False),
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("requested_on", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("partner_id", sa.String(length=63), nullable=True),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("started_on", sa.Date(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("remind_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expire_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index(op.f("ix_referrals_ags"), "referrals", ["ags"], unique=False)
    op.create_index(op.f("ix_referrals_case_id"), "referrals", ["case_id"], unique=False)
    op.create_index(op.f("ix_referrals_consent_id"), "referrals", ["consent_id"], unique=False)
    op.create_index(op.f("ix_referrals_expire_at"), "referrals", ["expire_at"], unique=False)
    op.create_index(op.f("ix_referrals_partner_id"), "referrals", ["partner_id"], unique=False)
    op.create_index(op.f("ix_referrals_provider_id"), "referrals", ["provider_id"], unique=False)
    op.create_index(op.f("ix_referrals_remind_at"), "referrals", ["remind_at"], unique=False)
    op.create_index(op.f("ix_referrals_state"), "referrals", ["state"], unique=False)
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.String(length=63), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("ce_type", sa.String(length=120), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("delivery_id"),
    )
    op.create_index(
        op.f("ix_webhook_deliveries_next_attempt_at"), "webhook_deliveries", ["next_attempt_at"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_deliveries_partner_id"), "webhook_deliveries", ["partner_id"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_deliveries_referral_id"), "webhook_deliveries", ["referral_id"], unique=False
    )
    op.create_index(op.f("ix_webhook_deliveries_status"), "webhook_deliveries", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_webhook_deliveries_status"), table_name="webhook_deliveries")
    op.drop_index(op.f("ix_webhook_deliveries_referral_id"), table_name="webhook_deliveries")
    op.drop_index(op.f("ix_webhook_deliveries_partner_id"), table_name="webhook_deliveries")
    op.drop_index(op.f("ix_webhook_deliveries_next_attempt_at"), table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index(op.f("ix_referrals_state"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_remind_at"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_provider_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_partner_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_expire_at"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_consent_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_case_id"), table_name="referrals")
    op.drop_index(op.f("ix_referrals_ags"), table_name="referrals")
    op.drop_table("referrals")
    op.drop_table("programmes")
    op.drop_index(op.f("ix_partners_removed"), table_name="partners")
    op.drop_table("partners")
    op.drop_index(op.f("ix_partner_feedback_referral_id"), table_name="partner_feedback")
    op.drop_table("partner_feedback")
    op.drop_index(op.f("ix_known_cases_ags"), table_name="known_cases")
    op.drop_table("known_cases")
    drop_inbox_and_outbox()
