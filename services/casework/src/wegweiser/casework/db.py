"""Casework's tables (adapter side) and repositories that map rows to domain objects."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, Column, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel, col

from wegweiser.casework.domain.model import Case, CasePerson, Consultation
from wegweiser.common.db import utcnow


class CaseworkTable(SQLModel, registry=registry()):
    pass


class CaseRow(CaseworkTable, table=True):
    __tablename__ = "cases"

    case_id: uuid.UUID = Field(primary_key=True)
    ags: str = Field(index=True, max_length=12)
    provider_id: str = Field(index=True, max_length=100)
    arrival_id: uuid.UUID | None = Field(default=None, unique=True)
    opened_on: dt.date
    status: str = Field(max_length=20)
    persons: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))


class ConsultationRow(CaseworkTable, table=True):
    __tablename__ = "consultations"

    consultation_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.case_id", index=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recorded_by: str = Field(max_length=200)
    recorded_at: dt.datetime = Field(default_factory=utcnow)


class ProviderRuleRow(CaseworkTable, table=True):
    """Which provider takes new arrivals in an AGS (editable by an admin)."""

    __tablename__ = "provider_rules"

    ags: str = Field(primary_key=True, max_length=12)
    provider_id: str = Field(max_length=100)


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, case: Case) -> None:
        self.session.add(
            CaseRow(
                case_id=case.case_id,
                ags=case.ags,
                provider_id=case.provider_id,
                arrival_id=case.arrival_id,
                opened_on=case.opened_on,
                status=case.status,
                persons=[p.model_dump(mode="json") for p in case.persons],
            )
        )

    async def get(self, case_id: uuid.UUID) -> Case | None:
        row = await self.session.get(CaseRow, case_id)
        return _case(row) if row else None

    async def by_arrival(self, arrival_id: uuid.UUID) -> Case | None:
        row = (
            await self.session.execute(select(CaseRow).where(col(CaseRow.arrival_id) == arrival_id))
        ).scalar_one_or_none()
        return _case(row) if row else None

    async def visible(self, *, provider_id: str | None, ags: set[str] | None, limit: int = 200) -> list[Case]:
        """Cases of one provider in the given AGS; ``None`` means unrestricted (admin only)."""
        query = select(CaseRow).order_by(col(CaseRow.opened_on).desc()).limit(limit)
        if provider_id is not None:
            query = query.where(col(CaseRow.provider_id) == provider_id)
        if ags is not None:
            query = query.where(col(CaseRow.ags).in_(ags))
        return [_case(r) for r in (await self.session.execute(query)).scalars()]

    def add_consultation(self, case_id: uuid.UUID, consultation: Consultation, *, recorded_by: str) -> None:
        self.session.add(
            ConsultationRow(
                consultation_id=consultation.consultation_id,
                case_id=case_id,
                data=consultation.model_dump(mode="json"),
                recorded_by=recorded_by,
            )
        )

    async def consultations_of(self, case_id: uuid.UUID) -> list[Consultation]:
        rows = (
            await self.session.execute(select(ConsultationRow).where(col(ConsultationRow.case_id) == case_id))
        ).scalars()
        return [Consultation.model_validate(r.data) for r in rows]

    async def provider_for(self, ags: str) -> str | None:
        rule = await self.session.get(ProviderRuleRow, ags)
        return rule.provider_id if rule else None


def _case(row: CaseRow) -> Case:
    return Case(
        case_id=row.case_id,
        ags=row.ags,
        provider_id=row.provider_id,
        arrival_id=row.arrival_id,
        opened_on=row.opened_on,
        status=row.status,
        persons=tuple(CasePerson.model_validate(p) for p in row.persons),
    )
