"""Initial schema: the tables that create_all made before there were migrations."""

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations import shared

revision = "806803eade54"
down_revision = None

# Referrals' own tables, in the order upgrade() creates them; downgrade() drops them the other way round.
TABLES = ("known_cases", "partner_feedback", "partners", "programmes", "referrals", "webhook_deliveries")


def upgrade() -> None:
    shared.create_inbox_and_outbox()
    _create_known_cases()
    _create_partners()
    _create_programmes()
    _create_referrals()


def _create_known_cases() -> None:
    op.create_table(
        "known_cases",
        sa.Column("case_id", sa.Uuid(), primary_key=True),
        sa.Column("ags", sa.String(length=12), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("opened_on", sa.Date(), nullable=False),
    )
    shared.create_indexes("known_cases", "ags")


def _create_partners() -> None:
    """Partners and their feedback on referrals."""
    op.create_table(
        "partner_feedback",
        sa.Column("partner_id", sa.String(length=63), primary_key=True),
        sa.Column("feedback_id", sa.Uuid(), primary_key=True),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.String(length=60), nullable=True),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("result_state", sa.String(length=20), nullable=True),
        sa.Column("rejected_code", sa.String(length=60), nullable=True),
        shared.timestamp("received_at"),
    )
    shared.create_indexes("partner_feedback", "referral_id")
    op.create_table(
        "partners",
        sa.Column("partner_id", sa.String(length=63), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.Column("removed", sa.Boolean(), nullable=False),
        sa.Column("webhook_secret", sa.String(length=200), nullable=True),
        shared.timestamp("created_at"),
        shared.timestamp("updated_at"),
    )
    shared.create_indexes("partners", "removed")


def _create_programmes() -> None:
    op.create_table(
        "programmes",
        sa.Column("programme", sa.String(length=40), primary_key=True),
        sa.Column("data", sa.JSON(), nullable=False),
        shared.timestamp("updated_at"),
    )


def _create_referrals() -> None:
    """Referrals and the webhook deliveries that send them to partners."""
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.Uuid(), primary_key=True),
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
        shared.timestamp("sent_at", nullable=True),
        shared.timestamp("remind_at", nullable=True),
        shared.timestamp("reminded_at", nullable=True),
        shared.timestamp("expire_at", nullable=True),
        shared.timestamp("updated_at", nullable=True),
    )
    shared.create_indexes(
        "referrals",
        "ags",
        "case_id",
        "consent_id",
        "expire_at",
        "partner_id",
        "provider_id",
        "remind_at",
        "state",
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("delivery_id", sa.Uuid(), nullable=False),
        sa.Column("partner_id", sa.String(length=63), nullable=False),
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("ce_type", sa.String(length=120), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        shared.timestamp("next_attempt_at"),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        shared.timestamp("created_at"),
        shared.timestamp("delivered_at", nullable=True),
        shared.timestamp("erased_at", nullable=True),
        sa.UniqueConstraint("delivery_id"),
    )
    shared.create_indexes("webhook_deliveries", "next_attempt_at", "partner_id", "referral_id", "status")


def downgrade() -> None:
    shared.drop_tables(*reversed(TABLES))
    shared.drop_inbox_and_outbox()
