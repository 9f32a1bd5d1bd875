"""Cases: list and search, walk-in cases, the case with everything in it, assignment, contact, closure."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from wegweiser.casework import handlers as h
from wegweiser.casework import views
from wegweiser.casework.api.change import ChangeDep
from wegweiser.casework.api.models import (
    AssignmentIn,
    CaseDetail,
    CaseOut,
    ClosureIn,
    ConsultationOut,
    ContactIn,
    ExtensionIn,
    GoalOut,
    WalkInCase,
)
from wegweiser.casework.api.problems import not_found, refused
from wegweiser.casework.deps import SettingsDep, StaffDep, TodayDep, UnitOfWorkDep
from wegweiser.casework.domain.model import Case, CasePerson, CaseRefused
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.casework.idempotency import answer_once
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.common.auth import Forbidden, Principal
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER

router = APIRouter(tags=["cases"])

AGS = Annotated[str, Query(pattern=r"^\d{8}$")]


def _case_out(result: Case | JSONResponse) -> CaseOut | JSONResponse:
    return CaseOut.of(result) if isinstance(result, Case) else result


@router.get("/cases", response_model=list[CaseOut])
async def list_cases(
    principal: StaffDep,
    uow: UnitOfWorkDep,
    today: TodayDep,
    ags: AGS | None = None,
    status: Literal["open", "closed"] | None = None,
    view: Literal["mine", "team", "unassigned", "all"] = "all",
    name: Annotated[str | None, Query(max_length=100)] = None,
    date_of_birth: Annotated[str | None, Query(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] = None,
) -> list[CaseOut]:
    """Cases of the caller's provider in the caller's AGS, filtered; every listing is audited."""
    if ags is not None and ags not in principal.ags:
        raise Forbidden(f"no access to municipality {ags}", de=f"kein Zugriff auf die Gemeinde {ags}")
    filters = views.CaseloadFilter(view=view, status=status, ags=ags, name=name, date_of_birth=date_of_birth)
    rows = await views.caseload(principal, filters, uow=uow, today=today)
    return [CaseOut.of(r.case, r.time_limit) for r in rows]


@router.post("/cases", status_code=201, response_model=CaseOut, openapi_extra=IDEMPOTENCY_HEADER)
async def open_walk_in(
    body: WalkInCase,
    principal: StaffDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    today: TodayDep,
) -> CaseOut | Response:
    """A walk-in case (no allocation through intake), flagged ``walk_in``."""
    return await answer_once(
        request, principal, uow, lambda: _walk_in(body, principal, request, uow, settings, today)
    )


async def _walk_in(
    body: WalkInCase,
    principal: Principal,
    request: Request,
    uow: CaseworkUnitOfWork,
    settings: CaseworkSettings,
    today: dt.date,
) -> CaseOut | JSONResponse:
    persons = tuple(CasePerson(person_id=uuid.uuid4(), **p.model_dump()) for p in body.persons)
    try:
        case = await h.open_walk_in_case(
            h.OpenWalkInCase(ags=body.ags, opened_on=body.opened_on, persons=persons, principal=principal),
            uow=uow,
            today=today,
            pseudonym_key=settings.pseudonym_key,
        )
    except CaseRefused as exc:
        return refused(request, exc)
    return CaseOut.of(case)


@router.get("/cases/{case_id}", response_model=CaseDetail)
async def get_case(
    case_id: uuid.UUID, principal: StaffDep, request: Request, uow: UnitOfWorkDep, today: TodayDep
) -> CaseDetail | JSONResponse:
    try:
        view = await views.case_view(case_id, principal, uow=uow, today=today)
    except h.CaseNotFound:
        return not_found(request, case_id)
    case = view.case
    return CaseDetail(
        **CaseOut.of(case, view.time_limit).model_dump(),
        persons=list(case.persons),
        extension_justification=case.extension_justification,
        consultations=[
            ConsultationOut(
                **c.consultation.model_dump(exclude={"note"}),
                note=c.consultation.note if readable else None,
                recorded_by=c.recorded_by,
                note_restricted=bool(c.consultation.note) and not readable,
            )
            for c, readable in view.consultations
        ],
        goals=[
            GoalOut(
                **g.goal.model_dump(exclude={"description"}),
                description=g.goal.description if visible else "---",
                description_transferred=visible,
            )
            for g, visible in view.goals
        ],
        consents=view.consents,
        referrals=view.referrals,
    )


@router.post("/cases/{case_id}/assignment", status_code=200, response_model=CaseOut)
async def assign(case_id: uuid.UUID, body: AssignmentIn, change: ChangeDep) -> CaseOut | JSONResponse:
    command = h.AssignCase(case_id, body.counsellor_id, body.team_id, change.principal)
    return _case_out(await change.or_problem(h.assign_case(command, uow=change.uow, today=change.today)))


@router.post("/cases/{case_id}/closure", status_code=200, response_model=CaseOut)
async def close(case_id: uuid.UUID, body: ClosureIn, change: ChangeDep) -> CaseOut | JSONResponse:
    command = h.CloseCase(case_id, body.reason, body.closed_on, change.principal)
    return _case_out(await change.or_problem(h.close_case(command, uow=change.uow, today=change.today)))


@router.post("/cases/{case_id}/extension", status_code=200, response_model=CaseOut)
async def extend(case_id: uuid.UUID, body: ExtensionIn, change: ChangeDep) -> CaseOut | JSONResponse:
    command = h.ExtendCase(case_id, body.justification, change.principal)
    return _case_out(await change.or_problem(h.extend_case(command, uow=change.uow)))


@router.put("/cases/{case_id}/persons/{person_id}/contact", response_model=CaseOut)
async def contact(
    case_id: uuid.UUID, person_id: uuid.UUID, body: ContactIn, change: ChangeDep
) -> CaseOut | JSONResponse:
    command = h.UpdateContact(case_id, person_id, body.phone, body.email, body.address, change.principal)
    return _case_out(await change.or_problem(h.update_contact(command, uow=change.uow)))
