"""What several services' revisions build alike: common tables, column and index helpers, drops.

The inbox and outbox (`wegweiser.common.db`) stand in every service's database beside its own tables
(docs/architecture.md); the idempotency keys in those of the services with an API that takes an
``Idempotency-Key``. Their DDL is written once here instead of in every revision. Like a revision, it
is history: never change it; a change of these tables is a new revision in every service.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op


def timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    """A moment with its time zone, as the models' ``UTCDateTime`` stores it (NOT NULL unless said)."""
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def add_traceparent(table: str, column: str) -> None:
    """A nullable W3C ``traceparent`` (55 characters) on ``table``: a flow's context kept to continue
    or link it later (casework's cases, intake's upload jobs)."""
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.add_column(sa.Column(column, sa.String(length=55), nullable=True))


def drop_column(table: str, column: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        batch_op.drop_column(column)


def columns(type_: sa.types.TypeEngine[Any], *names: str, nullable: bool = False) -> list[sa.Column[Any]]:
    """Several columns of one type, in this order: a row of counters, say (NOT NULL unless said)."""
    return [sa.Column(name, type_, nullable=nullable) for name in names]


def create_indexes(table: str, *indexed: str) -> None:
    """One index per column, named ``ix_<table>_<column>`` as ``Field(index=True)`` names it."""
    for column in indexed:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def drop_tables(*tables: str) -> None:
    """Drop the tables in this order (dependants first); their indexes and triggers go with them."""
    for table in tables:
        op.drop_table(table)


def create_inbox_and_outbox() -> None:
    """Create the inbox (processed event ids per consumer group) and the outbox (events to publish)."""
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=200), primary_key=True),
        sa.Column("event_id", sa.String(length=64), primary_key=True),
        timestamp("processed_at"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(), nullable=False),
        sa.Column("key", sa.String(), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        timestamp("created_at"),
        timestamp("published_at", nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(), nullable=True),
        sa.UniqueConstraint("event_id"),
    )
    create_indexes("outbox", "published_at")


def drop_inbox_and_outbox() -> None:
    """Undo `create_inbox_and_outbox`."""
    drop_tables("outbox", "inbox")


def create_idempotency_keys(owner: str, owner_length: int) -> None:
    """Create the stored first answers to an ``Idempotency-Key``, one per ``owner`` and key.

    ``owner`` names the column that scopes a key (whoever sent it), ``owner_length`` its size.
    """
    op.create_table(
        "idempotency_keys",
        sa.Column(owner, sa.String(length=owner_length), primary_key=True),
        sa.Column("key", sa.String(length=200), primary_key=True),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        timestamp("created_at"),
    )
    create_indexes("idempotency_keys", "created_at")


def append_only(table: str) -> list[str]:
    """The statements by which the database itself refuses UPDATE and DELETE on ``table``.

    A later revision that alters ``table`` in batch mode (SQLite copies the table) must run them again.
    """
    refusal = f"'{table} is append-only'"
    if op.get_bind().dialect.name == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} "
            f"BEGIN SELECT RAISE(ABORT, {refusal}); END"
            for verb in ("update", "delete")
        ]
    return [
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN RAISE EXCEPTION {refusal}; END $$",
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
    ]


def create_audit_log() -> None:
    """Create the append-only ``audit_log`` of ``wegweiser.common.audit.AuditEntry`` (intake, referrals)."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        timestamp("at"),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("actor_role", sa.String(length=60), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
    )
    create_indexes("audit_log", "at", "person_id", "case_id")
    for statement in append_only("audit_log"):
        op.execute(statement)


def create_person_keys() -> None:
    """Create ``person_keys`` of ``wegweiser.common.personal_data.PersonKeyColumns`` (intake, casework,
    referrals): the data keys of personal fields sealed on Kafka, own or copied."""
    op.create_table(
        "person_keys",
        sa.Column("kid", sa.String(length=36), primary_key=True),
        sa.Column("owner", sa.String(length=20), nullable=False),
        sa.Column("person", sa.String(length=200), nullable=False),
        sa.Column("key", sa.LargeBinary(), nullable=True),
        timestamp("created_at"),
        timestamp("shredded_at", nullable=True),
    )
    create_indexes("person_keys", "person")


OUTBOX_CHANNEL = "wegweiser_outbox"
"""What a committed outbox insert notifies on PostgreSQL: the relay listens (``wegweiser.common.outbox``)."""


def notify_outbox_inserts() -> None:
    """On PostgreSQL, a transaction that queued events wakes the relay when it commits (``NOTIFY``, sent
    at commit and once per transaction); a relay in another process or replica no longer waits for
    its next poll. SQLite has no notifications: its database belongs to one process anyway."""
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS "
        f"$$ BEGIN PERFORM pg_notify('{OUTBOX_CHANNEL}', ''); RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER outbox_notify AFTER INSERT ON outbox "
        "FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify()"
    )


def drop_outbox_notify() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_notify ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_notify()")
