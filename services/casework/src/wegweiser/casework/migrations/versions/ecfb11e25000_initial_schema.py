"""Initial schema: the tables that create_all made before there were migrations."""

import sqlalchemy as sa
from alembic import op

from wegweiser.common.migrations import shared

revision = "ecfb11e25000"
down_revision = None

# Casework's own tables, in the order upgrade() creates them; downgrade() drops them the other way round.
TABLES = (
    "audit_log",
    "cases",
    "catalogue_partners",
    "catalogue_programmes",
    "provider_rules",
    "providers",
    "staff",
    "teams",
    "consents",
    "consultations",
    "goals",
    "referrals",
)

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
    shared.create_inbox_and_outbox()
    _create_audit_log()
    _create_cases()
    _create_catalogue()
    _create_organisation()
    _create_case_record("consents", "consent_id")
    _create_case_record("consultations", "consultation_id", with_provider=True)
    _create_case_record("goals", "goal_id", with_provider=True)
    _create_case_record("referrals", "referral_id")


def _create_audit_log() -> None:
    """Who read or changed which case, when: append-only by ``AUDIT_GUARDS``."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        shared.timestamp("at"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=60), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    shared.create_indexes("audit_log", "at", "case_id", "provider_id")
    for statement in AUDIT_GUARDS[op.get_bind().dialect.name]:
        op.execute(statement)


def _create_cases() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Uuid(), primary_key=True),
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
        sa.UniqueConstraint("arrival_id"),
    )
    shared.create_indexes("cases", "ags", "counsellor_id", "provider_id", "team_id")


def _create_catalogue() -> None:
    """The programmes and partners as referrals publishes them (its compacted catalogue topic)."""
    op.create_table(
        "catalogue_partners",
        sa.Column("partner_id", sa.String(length=100), primary_key=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        *shared.columns(sa.JSON(), "programmes", "ags", "kreise", "laender"),
        sa.Column("active", sa.Boolean(), nullable=False),
        shared.timestamp("published_at", nullable=True),
    )
    op.create_table(
        "catalogue_programmes",
        sa.Column("code", sa.String(length=60), primary_key=True),
        *shared.columns(sa.String(length=300), "name_de", "name_en"),
        sa.Column("person_fields", sa.JSON(), nullable=False),
        sa.Column("required_fields", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        shared.timestamp("published_at", nullable=True),
    )


def _create_organisation() -> None:
    """Providers, which of them serves which municipality, and their staff and teams."""
    op.create_table(
        "provider_rules",
        sa.Column("ags", sa.String(length=12), primary_key=True),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
    )
    op.create_table(
        "providers",
        sa.Column("provider_id", sa.String(length=100), primary_key=True),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("ags", sa.JSON(), nullable=False),
    )
    op.create_table(
        "staff",
        sa.Column("subject", sa.String(length=200), primary_key=True),
        sa.Column("display_name", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("team_id", sa.String(length=100), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
    )
    shared.create_indexes("staff", "provider_id")
    op.create_table(
        "teams",
        sa.Column("team_id", sa.String(length=100), primary_key=True),
        sa.Column("provider_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
    )
    shared.create_indexes("teams", "provider_id")


def _create_case_record(table: str, key: str, *, with_provider: bool = False) -> None:
    """A record of a case (consent, consultation, goal, referral): its data as JSON, who recorded it, when.

    Consultations and goals also name the provider whose record it is.
    """
    provider = [sa.Column("provider_id", sa.String(length=100), nullable=False)] if with_provider else []
    op.create_table(
        table,
        sa.Column(key, sa.Uuid(), primary_key=True),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        *provider,
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        shared.timestamp("recorded_at"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.case_id"]),
    )
    shared.create_indexes(table, "case_id")


def downgrade() -> None:
    # audit_log's triggers go with the table, its PostgreSQL function does not.
    shared.drop_tables(*reversed(TABLES))
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
    shared.drop_inbox_and_outbox()
