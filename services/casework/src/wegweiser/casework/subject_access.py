"""What casework holds about one person, for a subject access export (GDPR Art. 15).

Only this person's own data: the household's other members appear as a count, consultations they
attended without this person are left out, and the ids of others present are dropped.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

from sqlalchemy import Text, cast, select
from sqlmodel import col

from wegweiser.casework.db import AuditRow, CaseRow, ConsentRow, ConsultationRow, GoalRow, ReferralRow
from wegweiser.casework.handlers import CaseworkUnitOfWork

TITLES = {
    "person": ("Person", "Person"),
    "cases": ("Fälle", "Cases"),
    "consultations": ("Beratungen", "Consultations"),
    "goals": ("Integrationsplan und Ziele", "Integration plan and goals"),
    "consents": ("Einwilligungen", "Consents"),
    "referrals": ("Vermittlungen", "Referrals"),
    "audit": ("Protokolleinträge zum Fall", "Audit entries about the case"),
}


async def person_cases(uow: CaseworkUnitOfWork, person_id: uuid.UUID) -> list[CaseRow]:
    """Cases whose household holds the person; the text match narrows, the exact check decides."""
    query = select(CaseRow).where(cast(CaseRow.persons, Text).contains(str(person_id)))
    rows = (await uow.session.execute(query)).scalars()
    return [r for r in rows if any(p.get("person_id") == str(person_id) for p in r.persons)]


async def sections(uow: CaseworkUnitOfWork, person_id: uuid.UUID, cases: list[CaseRow]) -> dict[str, Any]:
    pid = str(person_id)
    case_ids = [c.case_id for c in cases]
    consultations = await _rows(uow, ConsultationRow, case_ids)
    goals = await _rows(uow, GoalRow, case_ids)
    consents = await _rows(uow, ConsentRow, case_ids)
    referrals = await _rows(uow, ReferralRow, case_ids)
    audit = (
        await uow.session.execute(
            select(AuditRow).where(col(AuditRow.case_id).in_(case_ids)).order_by(col(AuditRow.id))
        )
    ).scalars()
    return {
        "person": next(p for p in cases[0].persons if p.get("person_id") == pid),
        "cases": [_case(c, pid) for c in cases],
        "consultations": [_consultation(r, pid) for r in consultations if _attended(r.data, pid)],
        "goals": [_record(r) for r in goals if r.data.get("person_id") in (None, pid)],
        "consents": [_record(r) for r in consents if r.data.get("person_id") == pid],
        "referrals": [_record(r) for r in referrals if r.data.get("person_id") == pid],
        "audit": [
            {
                "at": a.at.isoformat(),
                "actor": a.actor,
                "actor_role": a.actor_role,
                "case_id": str(a.case_id),
                "action": a.action,
                "detail": a.detail,
            }
            for a in audit
        ],
    }


Recorded = ConsultationRow | GoalRow | ConsentRow | ReferralRow
R = TypeVar("R", ConsultationRow, GoalRow, ConsentRow, ReferralRow)


async def _rows(uow: CaseworkUnitOfWork, table: type[R], case_ids: list[uuid.UUID]) -> list[R]:
    query = select(table).where(col(table.case_id).in_(case_ids)).order_by(col(table.recorded_at))
    return list((await uow.session.execute(query)).scalars())


def _case(row: CaseRow, pid: str) -> dict[str, Any]:
    me = next(p for p in row.persons if p.get("person_id") == pid)
    return {
        "case_id": str(row.case_id),
        "ags": row.ags,
        "provider_id": row.provider_id,
        "arrival_id": str(row.arrival_id) if row.arrival_id else None,
        "walk_in": row.walk_in,
        "opened_on": row.opened_on.isoformat(),
        "status": row.status,
        "closed_on": row.closed_on.isoformat() if row.closed_on else None,
        "closure_reason": row.closure_reason,
        "role_in_household": me.get("role"),
        "household_size": len(row.persons),
        "counsellor_id": row.counsellor_id,
        "team_id": row.team_id,
    }


def _attended(data: dict[str, Any], pid: str) -> bool:
    """A consultation with no one named present was about the household; otherwise this person was there."""
    present = data.get("present_person_ids") or []
    return not present or pid in present


def _consultation(row: ConsultationRow, pid: str) -> dict[str, Any]:
    data = dict(row.data)
    data["present_person_ids"] = [p for p in data.get("present_person_ids") or [] if p == pid]
    return {"case_id": str(row.case_id), **data, "recorded_by": row.recorded_by, "recorded_at": _at(row)}


def _record(row: Recorded) -> dict[str, Any]:
    return {"case_id": str(row.case_id), **row.data, "recorded_by": row.recorded_by, "recorded_at": _at(row)}


def _at(row: Recorded) -> str:
    return row.recorded_at.isoformat()
