"""Intake's tables (adapter side); the repository maps rows to the domain's Arrival."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col

from wegweiser.common.db import utcnow
from wegweiser.intake.domain.model import Arrival, Person


class IntakeTable(SQLModel, registry=registry()):
    pass


class ArrivalRow(IntakeTable, table=True):
    __tablename__ = "arrivals"
    __table_args__ = (UniqueConstraint("authority_id", "authority_reference"),)

    arrival_id: uuid.UUID = Field(primary_key=True)
    authority_id: str = Field(index=True, max_length=100)
    authority_reference: str = Field(max_length=100)
    ags: str = Field(index=True, max_length=12)
    allocation_date: dt.date
    status: str = Field(max_length=20)
    persons: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow)


class ArrivalRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, arrival: Arrival) -> None:
        self.session.add(
            ArrivalRow(
                arrival_id=arrival.arrival_id,
                authority_id=arrival.authority_id,
                authority_reference=arrival.authority_reference,
                ags=arrival.ags,
                allocation_date=arrival.allocation_date,
                status=arrival.status,
                persons=[p.model_dump(mode="json") for p in arrival.persons],
            )
        )

    async def get(self, arrival_id: uuid.UUID) -> Arrival | None:
        row = await self.session.get(ArrivalRow, arrival_id)
        return _to_domain(row) if row else None

    async def by_reference(self, *, authority_id: str, reference: str) -> Arrival | None:
        row = (
            await self.session.execute(
                select(ArrivalRow).where(
                    col(ArrivalRow.authority_id) == authority_id,
                    col(ArrivalRow.authority_reference) == reference,
                )
            )
        ).scalar_one_or_none()
        return _to_domain(row) if row else None


def _to_domain(row: ArrivalRow) -> Arrival:
    return Arrival(
        arrival_id=row.arrival_id,
        authority_id=row.authority_id,
        authority_reference=row.authority_reference,
        ags=row.ags,
        allocation_date=row.allocation_date,
        status=row.status,
        persons=tuple(Person.model_validate(p) for p in row.persons),
    )
