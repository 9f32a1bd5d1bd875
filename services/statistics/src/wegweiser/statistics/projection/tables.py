"""Tables of one projection generation (``stat_g<N>_*``) and how deltas merge into them.

A rebuild fills generation N+1 while N keeps serving; switching is one row update, and N's tables are
dropped afterwards. Dates are stored as proleptic ordinals, months as ``yyyymm``, event times as
microseconds since the epoch: plain integers that compare and group the same on PostgreSQL and SQLite.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.schema import SchemaItem
from sqlalchemy.types import TypeEngine

NAMES = (
    "applied",
    "offsets",
    "dead_letters",
    "arrivals",
    "cases",
    "moves",
    "consultations",
    "breakdowns",
    "persons",
    "goals",
    "referrals",
    "published",
)

ColumnType = TypeEngine[Any] | type[TypeEngine[Any]]


def table_name(generation: int, name: str) -> str:
    return f"stat_g{generation}_{name}"


def is_generation_table(name: str) -> bool:
    """A table of some generation: created and dropped at run time, never by a migration."""
    return re.fullmatch(r"stat_g\d+_\w+", name) is not None


def generation_metadata(generation: int) -> MetaData:
    """The DDL of one generation (created when the generation is, dropped when it is retired)."""
    md = MetaData()

    def t(name: str, *columns: SchemaItem) -> Table:
        return Table(table_name(generation, name), md, *columns)

    def keyed(name: str, key: tuple[tuple[str, ColumnType], ...], *values: Column) -> Table:
        """A table whose leading ``key`` columns together are its primary key."""
        key_columns = (Column(column, kind) for column, kind in key)
        return t(name, *key_columns, *values, PrimaryKeyConstraint(*(column for column, _ in key)))

    big, txt, i = BigInteger, Text, Integer
    t("applied", Column("event_id", Uuid(as_uuid=False), primary_key=True))
    keyed(
        "offsets",
        (("topic", txt), ("partition", i)),
        Column("next_offset", big, nullable=False),
        Column("window_offset", big, nullable=False),
        *(Column(c, big, nullable=False) for c in ("applied", "duplicates", "malformed", "ignored")),
    )
    keyed(
        "dead_letters",
        (("topic", txt), ("partition", i), ("record_offset", big)),
        Column("ce_type", txt),
        Column("ce_id", txt),
        Column("reason", txt, nullable=False),
    )
    uid = Uuid(as_uuid=True)
    t(
        "arrivals",
        Column("arrival_id", uid, primary_key=True),
        *(Column(c, big) for c in ("snap_at", "reloc_at", "withdrawn_at")),
        *(Column(c, txt) for c in ("ags", "relocated_to")),
        *(Column(c, i) for c in ("allocation_day", "allocation_month", "persons", "withdrawn_day")),
    )
    t(
        "cases",
        Column("case_id", uid, primary_key=True),
        *(Column(c, big) for c in ("open_at", "close_at", "assign_at")),
        *(Column(c, txt) for c in ("ags", "provider_id", "reason", "counsellor_id")),
        *(Column(c, i) for c in ("opened_day", "allocation_day", "closed_day", "first_consultation_day")),
        Column("walk_in", Boolean),
    )
    keyed("moves", (("case_id", uid), ("moved_day", i), ("to_ags", txt)), Column("from_ags", txt))
    keyed("consultations", (("ags", txt), ("month", i)), Column("n", big, nullable=False))
    keyed(
        "breakdowns",
        (("kreis", txt), ("month", i), ("dimension", txt), ("code", txt)),
        Column("n", big, nullable=False),
    )
    keyed("persons", (("ags", txt), ("year", i), ("pkey", big)), Column("months", i, nullable=False))
    t(
        "goals",
        Column("goal_id", uid, primary_key=True),
        Column("case_id", uid),
        *(Column(c, big) for c in ("set_at", "status_at")),
        *(Column(c, txt) for c in ("ags", "field", "status", "status_ags", "status_field")),
        *(Column(c, i) for c in ("set_day", "set_month", "status_month")),
    )
    t(
        "referrals",
        Column("referral_id", uid, primary_key=True),
        Column("case_id", uid),
        *(Column(c, big) for c in ("status_at", "start_at")),
        *(Column(c, txt) for c in ("ags", "programme", "status")),
        *(Column(c, i) for c in ("requested_day", "requested_month", "started_day", "started_month")),
    )
    keyed(
        "published",
        (("family", txt), ("period", txt), ("region", txt), ("series", txt)),
        Column("value", Float),
        Column("suppressed", Boolean, nullable=False),
        Column("reason", txt),  # suppression.Reason of a suppressed cell
    )
    return md


# --- merge rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upsert:
    """An insert that merges into an existing row by a rule per column (see ``batch``)."""

    table: str
    columns: tuple[tuple[str, str], ...]  # (name, PostgreSQL type)
    key: tuple[str, ...]
    updates: tuple[str, ...]  # SET clauses; ``t`` is the row, ``excluded`` the new values

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.columns)


def latest(at: str, *columns: str) -> tuple[str, ...]:
    """A facet that the newest event (by ``at``) owns; re-applying the same event changes nothing."""
    newer = f"excluded.{at} IS NOT NULL AND (t.{at} IS NULL OR excluded.{at} >= t.{at})"
    return tuple(f"{c} = CASE WHEN {newer} THEN excluded.{c} ELSE t.{c} END" for c in (at, *columns))


def minimum(column: str) -> str:
    return (
        f"{column} = CASE WHEN t.{column} IS NULL OR excluded.{column} < t.{column} "
        f"THEN excluded.{column} ELSE t.{column} END"
    )


T, B, INT, BOOL, U = "text", "bigint", "integer", "boolean", "uuid"

ARRIVALS = Upsert(
    "arrivals",
    (
        ("arrival_id", U),
        ("snap_at", B),
        ("ags", T),
        ("allocation_day", INT),
        ("allocation_month", INT),
        ("persons", INT),
        ("reloc_at", B),
        ("relocated_to", T),
        ("withdrawn_at", B),
        ("withdrawn_day", INT),
    ),
    ("arrival_id",),
    (
        *latest("snap_at", "ags", "allocation_day", "allocation_month", "persons"),
        *latest("reloc_at", "relocated_to"),
        *latest("withdrawn_at", "withdrawn_day"),
    ),
)
CASES = Upsert(
    "cases",
    (
        ("case_id", U),
        ("open_at", B),
        ("ags", T),
        ("provider_id", T),
        ("opened_day", INT),
        ("allocation_day", INT),
        ("walk_in", BOOL),
        ("close_at", B),
        ("closed_day", INT),
        ("reason", T),
        ("assign_at", B),
        ("counsellor_id", T),
        ("first_consultation_day", INT),
    ),
    ("case_id",),
    (
        *latest("open_at", "ags", "provider_id", "opened_day", "allocation_day", "walk_in"),
        *latest("close_at", "closed_day", "reason"),
        *latest("assign_at", "counsellor_id"),
        minimum("first_consultation_day"),
    ),
)
MOVES = Upsert(
    "moves",
    (("case_id", U), ("moved_day", INT), ("to_ags", T), ("from_ags", T)),
    ("case_id", "moved_day", "to_ags"),
    (),
)
CONSULTATIONS = Upsert(
    "consultations",
    (("ags", T), ("month", INT), ("n", B)),
    ("ags", "month"),
    ("n = t.n + excluded.n",),
)
BREAKDOWNS = Upsert(
    "breakdowns",
    (("kreis", T), ("month", INT), ("dimension", T), ("code", T), ("n", B)),
    ("kreis", "month", "dimension", "code"),
    ("n = t.n + excluded.n",),
)
PERSONS = Upsert(
    "persons",
    (("ags", T), ("year", INT), ("pkey", B), ("months", INT)),
    ("ags", "year", "pkey"),
    ("months = t.months | excluded.months",),
)
GOALS = Upsert(
    "goals",
    (
        ("goal_id", U),
        ("set_at", B),
        ("case_id", U),
        ("ags", T),
        ("field", T),
        ("set_day", INT),
        ("set_month", INT),
        ("status_at", B),
        ("status", T),
        ("status_ags", T),
        ("status_field", T),
        ("status_month", INT),
    ),
    ("goal_id",),
    (
        *latest("set_at", "case_id", "ags", "field", "set_day", "set_month"),
        *latest("status_at", "status", "status_ags", "status_field", "status_month"),
    ),
)
REFERRALS = Upsert(
    "referrals",
    (
        ("referral_id", U),
        ("status_at", B),
        ("case_id", U),
        ("ags", T),
        ("programme", T),
        ("requested_day", INT),
        ("requested_month", INT),
        ("status", T),
        ("start_at", B),
        ("started_day", INT),
        ("started_month", INT),
    ),
    ("referral_id",),
    (
        *latest("status_at", "case_id", "ags", "programme", "requested_day", "requested_month", "status"),
        *latest("start_at", "started_day", "started_month"),
    ),
)
OFFSETS = Upsert(
    "offsets",
    (
        ("topic", T),
        ("partition", INT),
        ("next_offset", B),
        ("window_offset", B),
        ("applied", B),
        ("duplicates", B),
        ("malformed", B),
        ("ignored", B),
    ),
    ("topic", "partition"),
    tuple(
        f"{c} = excluded.{c}"
        for c in ("next_offset", "window_offset", "applied", "duplicates", "malformed", "ignored")
    ),
)
DEAD_LETTERS = Upsert(
    "dead_letters",
    (("topic", T), ("partition", INT), ("record_offset", B), ("ce_type", T), ("ce_id", T), ("reason", T)),
    ("topic", "partition", "record_offset"),
    (),
)
PUBLISHED = Upsert(
    "published",
    (
        ("family", T),
        ("period", T),
        ("region", T),
        ("series", T),
        ("value", "double precision"),
        ("suppressed", BOOL),
        ("reason", T),
    ),
    ("family", "period", "region", "series"),
    ("value = excluded.value", "suppressed = excluded.suppressed", "reason = excluded.reason"),
)
