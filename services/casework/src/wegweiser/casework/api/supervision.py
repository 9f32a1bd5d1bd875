"""For supervisors: open cases per team and counsellor, and the audit log of their provider."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from wegweiser.casework import handlers as h
from wegweiser.casework import views
from wegweiser.casework.api.models import AuditEntryOut, TeamCaseloadOut
from wegweiser.casework.api.problems import not_found
from wegweiser.casework.deps import SupervisorDep, UnitOfWorkDep

router = APIRouter(tags=["supervision"])


@router.get("/teams/caseloads", response_model=list[TeamCaseloadOut])
async def team_caseloads(principal: SupervisorDep, uow: UnitOfWorkDep) -> list[TeamCaseloadOut]:
    teams = await views.team_caseloads(principal, uow=uow)
    return [
        TeamCaseloadOut(
            team_id=t.team.team_id if t.team else None,
            team_name=t.team.name if t.team else None,
            members=[
                {"counsellor_id": s, "name": m.display_name if m else None, "open_cases": n}
                for m, s, n in t.members
            ],
            open_cases=t.total,
        )
        for t in teams
    ]


@dataclass(frozen=True, slots=True)
class AuditQuery:
    """The audit log's query parameters: narrowed to one case, to one actor, or both."""

    case_id: uuid.UUID | None = None
    actor: str | None = None


@router.get("/audit", response_model=list[AuditEntryOut])
async def audit_log(
    principal: SupervisorDep, request: Request, uow: UnitOfWorkDep, query: Annotated[AuditQuery, Depends()]
) -> list[AuditEntryOut] | JSONResponse:
    """Append-only; supervisors see their provider's staff and the cases it holds."""
    try:
        entries = await views.audit_entries(principal, uow=uow, case_id=query.case_id, actor=query.actor)
    except h.CaseNotFound:
        return not_found(request, query.case_id)
    return [AuditEntryOut.model_validate(e, from_attributes=True) for e in entries]
