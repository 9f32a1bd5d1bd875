"""The statistics projection: one row per pseudonymous fact, keyed by its own id (replay-safe)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col


class StatisticsTable(SQLModel, registry=registry()):
    pass


class ConsultationFact(StatisticsTable, table=True):
    __tablename__ = "consultation_facts"

    consultation_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(index=True)
    ags: str = Field(index=True, max_length=12)
    held_on: dt.date = Field(index=True)
    type: str = Field(max_length=30)
    channel: str = Field(max_length=30)
    interpreter_used: bool


class ArrivalFact(StatisticsTable, table=True):
    __tablename__ = "arrival_facts"

    arrival_id: uuid.UUID = Field(primary_key=True)
    ags: str = Field(index=True, max_length=12)
    allocation_date: dt.date = Field(index=True)
    household_size: int


async def count_consultations(session: AsyncSession, *, ags: str, year: int | None) -> int:
    query = select(func.count()).select_from(ConsultationFact).where(col(ConsultationFact.ags) == ags)
    if year is not None:
        query = query.where(
            col(ConsultationFact.held_on) >= dt.date(year, 1, 1),
            col(ConsultationFact.held_on) <= dt.date(year, 12, 31),
        )
    return int((await session.execute(query)).scalar_one())
