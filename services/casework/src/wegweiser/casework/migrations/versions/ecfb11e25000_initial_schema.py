"""Initial schema: the tables that create_all made before there were migrations.

Create Date: 2026-11-26 12:50:03.372173
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations.inbox_outbox import create_inbox_and_outbox, drop_inbox_and_outbox

revision: str = "ecfb11e25000"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The database itself refuses to change or remove audit entries, whatever code runs against it.
# A later revision that alters audit_log in batch mode (SQLite copies the table) must create them again.
AUDIT_GUARDS = {
    "sqlite": [
        "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
    ],
    "postgresql": [
        "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        "$$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$",
        "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        "ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
    ],
}


def upgrade() -> None:
    create_inbox_and_outbox()
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=60), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_case_id"), "audit_log", ["case_id"], unique=False)
    op.create_index(op.f("ix_audit_log_provider_id"), "audit_log", ["provider_id"], unique=False)
    for statement in AUDIT_GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("ags", sa.String(length=12), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("arrival_id", sa.Uuid(), nullable=True),
        sa.Column("walk_in", sa.Boolean(), nullable=False),
        sa.Column("opened_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("persons", sa.JSON(), nullable=False),
        sa.Column("counsellor_id", sa.String(length=200), nullable=True),
        sa.Column("team_id", sa.String(length=100), nullable=True),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("closure_reason", sa.String(length=30), nullable=True),
        sa.Column("extension_justification", sa.Text(), nullable=True),
        sa.Column("notes_from_provider", sa.String(length=100), nullable=True),
        sa.Column("search_names", sa.Text(), server_default="", nullable=False),
        sa.Column("search_dobs", sa.String(length=400), server_default="", nullable=False),
        sa.PrimaryKeyConstraint("case_id"),
        sa.UniqueConstraint("arrival_id"),
    )
    op.create_index(op.f("ix_cases_ags"), "cases", ["ags"], unique=False)
    op.create_index(op.f("ix_cases_counsellor_id"), "cases", ["counsellor_id"], unique=False)
    op.create_index(op.f("ix_cases_provider_id"), "cases", ["provider_id"], unique=False)
    op.create_index(op.f("ix_cases_team_id"), "cases", ["team_id"], unique=False)
    op.create_table(
        "catalogue_partners",
        sa.Column("partner_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("programmes", sa.JSON(), nullable=False),
        sa.Column("ags", sa.JSON(), nullable=False),
        sa.Column("kreise", sa.JSON(), nullable=False),
        sa.Column("laender", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("partner_id"),
    )
    op.create_table(
        "catalogue_programmes",
        sa.Column("code", sa.String(length=60), nullable=False),
        sa.Column("name_de", sa.String(length=300), nullable=False),
        sa.Column("name_en", sa.String(length=300), nullable=False),
        sa.Column("person_fields", sa.JSON(), nullable=False),
        sa.Column("required_fields", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_table(
        "provider_rules",
        sa.Column("ags", sa.String(length=12), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("ags"),
    )
    op.create_table(
        "providers",
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("ags", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("provider_id"),
    )
    op.create_table(
        "staff",
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("display_name", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("team_id", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_index(op.f("ix_staff_provider_id"), "staff", ["provider_id"], unique=False)
    op.create_table(
        "teams",
        sa.Column("team_id", sa.String(length=100), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint("team_id"),
    )
    op.create_index(op.f("ix_teams_provider_id"), "teams", ["provider_id"], unique=False)
    op.create_table(
        "consents",
        sa.Column("consent_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
        ),
        sa.PrimaryKeyConstraint("consent_id"),
    )
    op.create_index(op.f("ix_consents_case_id"), "consents", ["case_id"], unique=False)
    op.create_table(
        "consultations",
        sa.Column("consultation_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
        ),
        sa.PrimaryKeyConstraint("consultation_id"),
    )
    op.create_index(op.f("ix_consultations_case_id"), "consultations", ["case_id"], unique=False)
    op.create_table(
        "goals",
        sa.Column("goal_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
        ),
        sa.PrimaryKeyConstraint("goal_id"),
    )
    op.create_index(op.f("ix_goals_case_id"), "goals", ["case_id"], unique=False)
    op.create_table(
        "referrals",
        sa.Column("referral_id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.case_id"],
        ),
        sa.PrimaryKeyConstraint("referral_id"),
    )
    op.create_index(op.f("ix_referrals_case_id"), "referrals", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_referrals_case_id"), table_name="referrals")
    op.drop_table("referrals")
    op.drop_index(op.f("ix_goals_case_id"), table_name="goals")
    op.drop_table("goals")
    op.drop_index(op.f("ix_consultations_case_id"), table_name="consultations")
    op.drop_table("consultations")
    op.drop_index(op.f("ix_consents_case_id"), table_name="consents")
    op.drop_table("consents")
    op.drop_index(op.f("ix_teams_provider_id"), table_name="teams")
    op.drop_table("teams")
    op.drop_index(op.f("ix_staff_provider_id"), table_name="staff")
    op.drop_table("staff")
    op.drop_table("providers")
    op.drop_table("provider_rules")
    op.drop_table("catalogue_programmes")
    op.drop_table("catalogue_partners")
    op.drop_index(op.f("ix_cases_team_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_provider_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_counsellor_id"), table_name="cases")
    op.drop_index(op.f("ix_cases_ags"), table_name="cases")
    op.drop_table("cases")
    op.drop_index(op.f("ix_audit_log_provider_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_case_id"), table_name="audit_log")
    op.drop_index(op.f("ix_audit_log_at"), table_name="audit_log")
    op.drop_table("audit_log")  # and its triggers
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
    drop_inbox_and_outbox()
