"""Intake's tables (adapter side) and the repository that maps rows to the domain.

The batch path writes with one statement per table and request, no ORM object per row. On PostgreSQL it
talks to asyncpg directly inside the session's transaction: arrays through ``unnest`` where a statement
must answer (``ON CONFLICT DO NOTHING RETURNING``, the duplicate look-up by exact key pairs) and ``COPY``
where it need not (person index; the outbox through ``wegweiser.common.outbox.OutboxWriter``). Other
databases (SQLite for development) take the portable Core statements.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import (
    Column,
    ColumnElement,
    Index,
    LargeBinary,
    Text,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col, or_

from wegweiser.common.audit import AuditEntry
from wegweiser.common.db import postgres_connection, utcnow
from wegweiser.common.envelope import trace_context
from wegweiser.common.personal_data import PersonKeyColumns
from wegweiser.common.sql import dialect_insert
from wegweiser.intake.domain.duplicates import DuplicateFlag, PersonKey
from wegweiser.intake.domain.imports import ImportJob
from wegweiser.intake.domain.model import Arrival, Person

R = TypeVar("R", bound=SQLModel)


class IntakeTable(SQLModel, registry=registry()):
    pass


class PersonKeyRow(IntakeTable, PersonKeyColumns, table=True):
    """The data keys of personal fields sealed on Kafka (``wegweiser.common.personal_data``)."""

    __tablename__ = "person_keys"


class AuditRow(IntakeTable, AuditEntry, table=True):
    """Who exported which person's or case's data, when (``wegweiser.common.audit``); append-only."""

    __tablename__ = "audit_log"


class ArrivalRow(IntakeTable, table=True):
    __tablename__ = "arrivals"
    __table_args__ = (UniqueConstraint("authority_id", "authority_reference"),)

    arrival_id: uuid.UUID = Field(primary_key=True)
    authority_id: str = Field(max_length=100)
    authority_reference: str = Field(max_length=100)
    ags: str = Field(max_length=12)
    allocation_date: dt.date
    facility: str | None = Field(default=None, max_length=200)
    status: str = Field(max_length=20)
    version: int = 1
    persons: str = Field(sa_column=Column(Text, nullable=False))  # JSON written by pydantic's core
    relocated_on: dt.date | None = None
    withdrawn_on: dt.date | None = None
    withdrawal_reason: str | None = Field(default=None, max_length=500)
    merged_into: uuid.UUID | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class PersonIndexRow(IntakeTable, table=True):
    """The duplicate index: one row per person of an active arrival, looked up by phonetic key and year."""

    __tablename__ = "person_index"
    __table_args__ = (Index("ix_person_index_lookup", "match_key", "birth_year"),)

    person_id: uuid.UUID = Field(primary_key=True)
    arrival_id: uuid.UUID = Field(index=True)
    match_key: str = Field(max_length=100)
    birth_year: int
    birth_month: int | None = None
    birth_day: int | None = None
    nationalities: str = Field(max_length=40)  # "SY,IQ"


class DuplicateFlagRow(IntakeTable, table=True):
    __tablename__ = "duplicate_flags"
    __table_args__ = (
        UniqueConstraint("person_id", "candidate_person_id"),
        Index("ix_duplicate_flags_authority_status", "authority_id", "status"),
    )

    flag_id: uuid.UUID = Field(primary_key=True)
    arrival_id: uuid.UUID = Field(index=True)
    person_id: uuid.UUID
    candidate_arrival_id: uuid.UUID = Field(index=True)
    candidate_person_id: uuid.UUID
    authority_id: str = Field(max_length=100)
    candidate_authority_id: str = Field(max_length=100)
    match: str = Field(max_length=100)
    status: str = Field(max_length=20)
    flagged_at: dt.datetime
    decided_by: str | None = Field(default=None, max_length=200)
    decided_at: dt.datetime | None = None
    note: str | None = Field(default=None, max_length=1000)


class IdempotencyRow(IntakeTable, table=True):
    """The first answer to an ``Idempotency-Key``, stored in the transaction of the change it reports."""

    __tablename__ = "idempotency_keys"

    authority_id: str = Field(primary_key=True, max_length=100)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)


class ImportRow(IntakeTable, table=True):
    """An upload: validated in full first; large files are imported by a resumable job."""

    __tablename__ = "imports"

    import_id: uuid.UUID = Field(primary_key=True)
    authority_id: str = Field(index=True, max_length=100)
    uploaded_by: str = Field(max_length=200)
    filename: str | None = Field(default=None, max_length=300)
    media_type: str = Field(max_length=100)
    status: str = Field(max_length=20)  # queued | running | completed | failed
    rows_total: int
    households_total: int
    households_done: int = 0
    rows_done: int = 0
    created: int = 0
    existing: int = 0
    payload: str | None = Field(default=None, sa_column=Column(Text))  # validated households, JSON
    error: str | None = Field(default=None, max_length=2000)
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)
    lease_until: dt.datetime | None = None
    # The upload request's W3C traceparent: the job's arrivals continue its trace (one flow per upload).
    request_trace: str | None = Field(default=None, max_length=55)


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    request_hash: str
    status_code: int
    body: bytes


PERSONS = TypeAdapter(tuple[Person, ...])
ARRIVALS = ArrivalRow.__table__  # type: ignore[attr-defined]
PERSON_INDEX = PersonIndexRow.__table__  # type: ignore[attr-defined]
FLAGS = DuplicateFlagRow.__table__  # type: ignore[attr-defined]


# PostgreSQL statements of the batch path, parameters as arrays (one round trip, no statement to compile).
_PG_INSERT_ARRIVALS = """
INSERT INTO arrivals (arrival_id, authority_id, authority_reference, ags, allocation_date, facility, status,
    version, persons, relocated_on, withdrawn_on, withdrawal_reason, merged_into, created_at, updated_at)
SELECT a.*, $14::timestamptz, $14::timestamptz
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::text[], $7::text[], $8::int[],
    $9::text[], $10::date[], $11::date[], $12::text[], $13::uuid[]) AS a
ON CONFLICT (authority_id, authority_reference) DO NOTHING
RETURNING arrival_id
"""
_PG_BY_REFERENCES = """
SELECT arrival_id, authority_id, authority_reference, ags, allocation_date, facility, status, version,
    persons, relocated_on, withdrawn_on, withdrawal_reason, merged_into
FROM arrivals WHERE authority_id = $1 AND authority_reference = ANY($2::text[])
"""
_PG_KNOWN_PERSONS = """
SELECT p.person_id, p.arrival_id, p.match_key, p.birth_year, p.birth_month, p.birth_day, p.nationalities
FROM unnest($1::text[], $2::int[]) AS k(match_key, birth_year)
JOIN person_index p ON p.match_key = k.match_key AND p.birth_year = k.birth_year
"""
_PERSON_INDEX_COLUMNS = [
    "person_id",
    "arrival_id",
    "match_key",
    "birth_year",
    "birth_month",
    "birth_day",
    "nationalities",
]


async def _row(
    session: AsyncSession, row_type: type[R], key: ColumnElement[bool], *, for_update: bool
) -> R | None:
    """The one row that ``key`` (a primary key comparison) finds, or None; locked when ``for_update``."""
    query = select(row_type).where(key)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


def _person_key(*row: Any) -> PersonKey:
    """A row of the duplicate index: PersonKey's fields in order, nationalities comma-separated."""
    person_id, arrival_id, match_key, year, month, day, nationalities = row
    return PersonKey(person_id, arrival_id, match_key, year, month, day, frozenset(nationalities.split(",")))


def _arrival_tuple(arrival: Arrival) -> tuple[Any, ...]:
    """The columns of ``_PG_INSERT_ARRIVALS`` in order, timestamps aside."""
    return (
        arrival.arrival_id,
        arrival.authority_id,
        arrival.authority_reference,
        arrival.ags,
        arrival.allocation_date,
        arrival.facility,
        arrival.status,
        arrival.version,
        PERSONS.dump_json(arrival.persons).decode(),
        arrival.relocated_on,
        arrival.withdrawn_on,
        arrival.withdrawal_reason,
        arrival.merged_into,
    )


def _arrival_values(arrival: Arrival, now: dt.datetime) -> dict[str, Any]:
    return {
        "arrival_id": arrival.arrival_id,
        "authority_id": arrival.authority_id,
        "authority_reference": arrival.authority_reference,
        "ags": arrival.ags,
        "allocation_date": arrival.allocation_date,
        "facility": arrival.facility,
        "status": arrival.status,
        "version": arrival.version,
        "persons": PERSONS.dump_json(arrival.persons).decode(),
        "relocated_on": arrival.relocated_on,
        "withdrawn_on": arrival.withdrawn_on,
        "withdrawal_reason": arrival.withdrawal_reason,
        "merged_into": arrival.merged_into,
        "created_at": now,
        "updated_at": now,
    }


class ArrivalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- arrivals -------------------------------------------------------------------------------------

    async def insert_new(self, arrivals: Sequence[Arrival]) -> set[uuid.UUID]:
        """Insert in one statement; returns the ids stored (a reference another request took is skipped)."""
        if not arrivals:
            return set()
        now = utcnow()
        pg = await postgres_connection(self.session)
        if pg is not None:
            rows = await pg.fetch(
                _PG_INSERT_ARRIVALS,
                *zip(*(_arrival_tuple(a) for a in arrivals), strict=True),
                now,
            )
            return {row[0] for row in rows}
        statement = (
            dialect_insert(self.session, ARRIVALS)
            .on_conflict_do_nothing(index_elements=["authority_id", "authority_reference"])
            .returning(ARRIVALS.c.arrival_id)
        )
        result = await self.session.execute(statement, [_arrival_values(a, now) for a in arrivals])
        return set(result.scalars().all())

    def add(self, arrival: Arrival) -> None:
        self.session.add(ArrivalRow(**_arrival_values(arrival, utcnow())))

    async def get(self, arrival_id: uuid.UUID, *, for_update: bool = False) -> Arrival | None:
        row = await _row(
            self.session, ArrivalRow, col(ArrivalRow.arrival_id) == arrival_id, for_update=for_update
        )
        return _to_domain(row) if row else None

    async def with_person(self, person_id: uuid.UUID) -> list[Arrival]:
        """Arrivals whose household holds the person; the text match narrows, the exact check decides."""
        query = select(ArrivalRow).where(col(ArrivalRow.persons).contains(str(person_id)))
        arrivals = [_to_domain(r) for r in (await self.session.execute(query)).scalars()]
        return [a for a in arrivals if any(p.person_id == person_id for p in a.persons)]

    async def by_reference(self, *, authority_id: str, reference: str) -> Arrival | None:
        found = await self.by_references(authority_id=authority_id, references=[reference])
        return found.get(reference)

    async def by_references(self, *, authority_id: str, references: Iterable[str]) -> dict[str, Arrival]:
        refs = list(set(references))
        if not refs:
            return {}
        pg = await postgres_connection(self.session)
        if pg is not None:
            records = await pg.fetch(_PG_BY_REFERENCES, authority_id, refs)
            return {r["authority_reference"]: _record_to_domain(r) for r in records}
        rows = (
            await self.session.execute(
                select(ArrivalRow).where(
                    col(ArrivalRow.authority_id) == authority_id,
                    col(ArrivalRow.authority_reference).in_(refs),
                )
            )
        ).scalars()
        return {row.authority_reference: _to_domain(row) for row in rows}

    async def update(self, arrival: Arrival) -> None:
        values = _arrival_values(arrival, utcnow())
        del values["created_at"], values["arrival_id"]
        await self.session.execute(
            update(ArrivalRow).where(col(ArrivalRow.arrival_id) == arrival.arrival_id).values(**values)
        )

    async def authority_of(self, arrival_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        ids = list(set(arrival_ids))
        if not ids:
            return {}
        rows = await self.session.execute(
            select(col(ArrivalRow.arrival_id), col(ArrivalRow.authority_id)).where(
                col(ArrivalRow.arrival_id).in_(ids)
            )
        )
        return {arrival_id: authority for arrival_id, authority in rows}

    # --- retention ----------------------------------------------------------------------------------

    async def allocated_on_or_before(self, latest: dt.date, *, limit: int) -> list[Arrival]:
        """Arrivals not yet erased whose allocation date is ``latest`` or earlier, oldest first."""
        query = (
            select(ArrivalRow)
            .where(col(ArrivalRow.status) != "erased", col(ArrivalRow.allocation_date) <= latest)
            .order_by(col(ArrivalRow.allocation_date), col(ArrivalRow.arrival_id))
            .limit(limit)
        )
        return [_to_domain(r) for r in (await self.session.execute(query)).scalars()]

    async def mark_erased(self, arrival: Arrival) -> bool:
        """Write the erased arrival unless a concurrent run did; True for exactly one caller."""
        result = await self.session.execute(
            update(ArrivalRow)
            .where(col(ArrivalRow.arrival_id) == arrival.arrival_id, col(ArrivalRow.status) != "erased")
            .values(
                status=arrival.status,
                persons=PERSONS.dump_json(arrival.persons).decode(),
                withdrawal_reason=arrival.withdrawal_reason,
                updated_at=utcnow(),
            )
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete_flags_of(self, arrival_id: uuid.UUID) -> int:
        """Duplicate flags on either side of the arrival (they name persons and carry reviewers' notes)."""
        result = await self.session.execute(
            delete(DuplicateFlagRow).where(
                or_(
                    col(DuplicateFlagRow.arrival_id) == arrival_id,
                    col(DuplicateFlagRow.candidate_arrival_id) == arrival_id,
                )
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)

    # --- duplicate index ------------------------------------------------------------------------------

    async def known_persons(self, keys: Iterable[tuple[str, int]]) -> list[PersonKey]:
        """Indexed persons with one of these (phonetic name key, birth year) pairs; Core rows, no ORM."""
        pairs = set(keys)
        if not pairs:
            return []
        pg = await postgres_connection(self.session)
        if pg is not None:  # exactly the pairs asked for, each an index range scan
            records = await pg.fetch(_PG_KNOWN_PERSONS, *zip(*pairs, strict=True))
            return [_person_key(*r) for r in records]
        rows = await self.session.execute(
            select(
                PERSON_INDEX.c.person_id,
                PERSON_INDEX.c.arrival_id,
                PERSON_INDEX.c.match_key,
                PERSON_INDEX.c.birth_year,
                PERSON_INDEX.c.birth_month,
                PERSON_INDEX.c.birth_day,
                PERSON_INDEX.c.nationalities,
            ).where(
                PERSON_INDEX.c.match_key.in_({k for k, _ in pairs}),
                PERSON_INDEX.c.birth_year.in_({y for _, y in pairs}),
            )
        )
        return [_person_key(*row) for row in rows if (row[2], row[3]) in pairs]

    async def index_persons(self, keys: Sequence[PersonKey]) -> None:
        if not keys:
            return
        pg = await postgres_connection(self.session)
        if pg is not None:
            await pg.copy_records_to_table(
                "person_index",
                records=[
                    (
                        k.person_id,
                        k.arrival_id,
                        k.match_key,
                        k.birth_year,
                        k.birth_month,
                        k.birth_day,
                        ",".join(sorted(k.nationalities)),
                    )
                    for k in keys
                ],
                columns=_PERSON_INDEX_COLUMNS,
            )
        else:
            await self.session.execute(
                PERSON_INDEX.insert(),
                [
                    {
                        "person_id": k.person_id,
                        "arrival_id": k.arrival_id,
                        "match_key": k.match_key,
                        "birth_year": k.birth_year,
                        "birth_month": k.birth_month,
                        "birth_day": k.birth_day,
                        "nationalities": ",".join(sorted(k.nationalities)),
                    }
                    for k in keys
                ],
            )

    async def unindex_arrival(self, arrival_id: uuid.UUID) -> None:
        await self.session.execute(delete(PersonIndexRow).where(col(PersonIndexRow.arrival_id) == arrival_id))

    # --- duplicate flags ------------------------------------------------------------------------------

    async def add_flags(self, flags: Sequence[DuplicateFlag]) -> set[uuid.UUID]:
        """Store new flags; a pair flagged before is skipped. Returns the ids stored."""
        if not flags:
            return set()
        statement = (
            dialect_insert(self.session, FLAGS)
            .on_conflict_do_nothing(index_elements=["person_id", "candidate_person_id"])
            .returning(FLAGS.c.flag_id)
        )
        result = await self.session.execute(statement, [f.model_dump() for f in flags])
        return set(result.scalars().all())

    async def flag(self, flag_id: uuid.UUID, *, for_update: bool = False) -> DuplicateFlag | None:
        row = await _row(
            self.session, DuplicateFlagRow, col(DuplicateFlagRow.flag_id) == flag_id, for_update=for_update
        )
        return DuplicateFlag.model_validate(row, from_attributes=True) if row else None

    async def flags(
        self, *, authority_id: str | None, status: str | None, limit: int, offset: int
    ) -> list[DuplicateFlag]:
        """Flags that concern the authority (on either side); all of them for ``authority_id=None``."""
        query = select(DuplicateFlagRow)
        if authority_id is not None:
            query = query.where(
                or_(
                    col(DuplicateFlagRow.authority_id) == authority_id,
                    col(DuplicateFlagRow.candidate_authority_id) == authority_id,
                )
            )
        if status is not None:
            query = query.where(col(DuplicateFlagRow.status) == status)
        query = query.order_by(col(DuplicateFlagRow.flagged_at), col(DuplicateFlagRow.flag_id))
        rows = (await self.session.execute(query.limit(limit).offset(offset))).scalars()
        return [DuplicateFlag.model_validate(r, from_attributes=True) for r in rows]

    async def save_flag(self, flag: DuplicateFlag) -> None:
        await self.session.execute(
            update(DuplicateFlagRow)
            .where(col(DuplicateFlagRow.flag_id) == flag.flag_id)
            .values(
                status=flag.status, decided_by=flag.decided_by, decided_at=flag.decided_at, note=flag.note
            )
        )

    async def retire_flags_of(self, arrival_id: uuid.UUID) -> None:
        """Open flags that involve an arrival that is withdrawn or merged have nothing left to decide."""
        await self.session.execute(
            update(DuplicateFlagRow)
            .where(
                col(DuplicateFlagRow.status) == "open",
                or_(
                    col(DuplicateFlagRow.arrival_id) == arrival_id,
                    col(DuplicateFlagRow.candidate_arrival_id) == arrival_id,
                ),
            )
            .values(status="obsolete", decided_at=utcnow())
        )

    # --- idempotency keys -----------------------------------------------------------------------------

    async def remembered(self, *, authority_id: str, key: str) -> StoredAnswer | None:
        row = await self.session.get(IdempotencyRow, (authority_id, key))
        return StoredAnswer(row.request_hash, row.status_code, row.body) if row else None

    def remember(
        self, *, authority_id: str, key: str, request_hash: str, status_code: int, body: bytes
    ) -> None:
        self.session.add(
            IdempotencyRow(
                authority_id=authority_id,
                key=key,
                request_hash=request_hash,
                status_code=status_code,
                body=body,
            )
        )


class ImportRepository:
    """Upload jobs: their progress, the validated content a job imports, the lease of the worker on it."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, job: ImportJob, *, payload: str | None) -> None:
        request_trace = trace_context().get("traceparent")
        self.session.add(ImportRow(**job.model_dump(), payload=payload, request_trace=request_trace))

    async def get(self, import_id: uuid.UUID, *, for_update: bool = False) -> ImportJob | None:
        row = await _row(
            self.session, ImportRow, col(ImportRow.import_id) == import_id, for_update=for_update
        )
        return ImportJob.model_validate(row, from_attributes=True) if row else None

    async def payload(self, import_id: uuid.UUID) -> str | None:
        return (
            await self.session.execute(
                select(col(ImportRow.payload)).where(col(ImportRow.import_id) == import_id)
            )
        ).scalar_one_or_none()

    async def request_trace(self, import_id: uuid.UUID) -> str | None:
        """The traceparent of the upload's request (None for jobs from before it was kept)."""
        return (
            await self.session.execute(
                select(col(ImportRow.request_trace)).where(col(ImportRow.import_id) == import_id)
            )
        ).scalar_one_or_none()

    async def save(self, job: ImportJob, *, lease_until: dt.datetime | None = None) -> None:
        values = job.model_dump(exclude={"import_id", "authority_id", "uploaded_by", "created_at"})
        if job.status in ("completed", "failed"):
            values["payload"] = None  # the personal data of the upload is not kept once it is imported
        await self.session.execute(
            update(ImportRow)
            .where(col(ImportRow.import_id) == job.import_id)
            .values(**values, lease_until=lease_until)
        )

    async def claimable(self, *, now: dt.datetime) -> list[uuid.UUID]:
        """Jobs nobody works on: queued, or running with an expired lease (its process died)."""
        rows = await self.session.execute(
            select(col(ImportRow.import_id)).where(_claimable(now)).order_by(col(ImportRow.created_at))
        )
        return list(rows.scalars())

    async def claim(self, import_id: uuid.UUID, *, now: dt.datetime, lease_until: dt.datetime) -> bool:
        """Take a job (compare-and-set on its lease): True for exactly one of several replicas."""
        result = await self.session.execute(
            update(ImportRow)
            .where(col(ImportRow.import_id) == import_id, _claimable(now))
            .values(status="running", lease_until=lease_until)
        )
        return bool(getattr(result, "rowcount", 0))

    async def forget_before(self, cutoff: dt.datetime) -> int:
        """Finished uploads older than ``cutoff``: file name and error texts may quote the file."""
        result = await self.session.execute(
            delete(ImportRow).where(
                col(ImportRow.created_at) < cutoff, col(ImportRow.status).in_(("completed", "failed"))
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _claimable(now: dt.datetime) -> ColumnElement[bool]:
    return or_(
        col(ImportRow.status) == "queued",
        (col(ImportRow.status) == "running") & (col(ImportRow.lease_until) < now),
    )


_STORED_AS_IS = tuple(name for name in Arrival.model_fields if name != "persons")


def _record_to_domain(record: Mapping[str, Any]) -> Arrival:
    """An arrival from its stored columns (a raw record's, or an ORM row's via ``_to_domain``)."""
    values = {name: record[name] for name in _STORED_AS_IS}
    return Arrival(**values, persons=PERSONS.validate_json(record["persons"]))


def _to_domain(row: ArrivalRow) -> Arrival:
    return _record_to_domain({name: getattr(row, name) for name in (*_STORED_AS_IS, "persons")})
