"""The audit entry of the services without a case audit log of their own (intake, referrals).

Casework audits every read and change of a case in its ``audit_log``; intake and referrals keep the
same kind of table for what they must account for: the subject access export (GDPR Art. 15), who
read which person's or case's data, when; in referrals also the admin desk's retries of stuck records.
Each service declares its table from ``AuditEntry`` in its own registry;
``migrations.shared.create_audit_log`` creates it append-only (the database refuses UPDATE and DELETE).
Entries hold ids, never names; a person's own entries are part of their export.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Self

from sqlalchemy import JSON, BigInteger, Integer, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import Field, SQLModel, col

from wegweiser.common.auth import Principal
from wegweiser.common.db import utcnow


class AuditEntry(SQLModel):
    """The columns of an ``audit_log`` table (a table class adds ``table=True`` and its registry)."""

    id: int | None = Field(
        default=None, primary_key=True, sa_type=BigInteger().with_variant(Integer(), "sqlite")
    )
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=60)
    action: str = Field(max_length=60)
    person_id: uuid.UUID | None = Field(default=None, index=True)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON, sa_column_kwargs={"nullable": False})

    @classmethod
    def of(
        cls,
        principal: Principal,
        action: str,
        *,
        person_id: uuid.UUID | None = None,
        case_id: uuid.UUID | None = None,
        **detail: Any,
    ) -> Self:
        """An entry naming the token's subject and its most privileged role."""
        ranked = ("admin", "supervisor", "counsellor", "reception_authority", "partner")
        role = next((r for r in ranked if r in principal.roles), ",".join(sorted(principal.roles)))
        return cls(
            actor=principal.subject,
            actor_role=role[:60],
            action=action,
            person_id=person_id,
            case_id=case_id,
            detail=detail,
        )


async def entries_about(
    session: AsyncSession,
    table: type[AuditEntry],
    *,
    person_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
) -> list[dict[str, Any]]:
    """The audit entries about a person (or else a case), oldest first: part of their export (Art. 15)."""
    column = col(table.person_id) if person_id is not None else col(table.case_id)
    query = select(table).where(column == (person_id or case_id)).order_by(col(table.id))
    return [
        {
            "at": e.at.isoformat(),
            "actor": e.actor,
            "actor_role": e.actor_role,
            "action": e.action,
            "detail": e.detail,
        }
        for e in (await session.execute(query)).scalars()
    ]
