"""Referrals' tables: for now the cases it has heard of, so routing can check a case exists."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel


class ReferralsTable(SQLModel, registry=registry()):
    pass


class KnownCase(ReferralsTable, table=True):
    __tablename__ = "known_cases"

    case_id: uuid.UUID = Field(primary_key=True)
    ags: str = Field(index=True, max_length=12)
    provider_id: str | None = Field(default=None, max_length=100)
    opened_on: dt.date
