"""The Integrationsplan: goals per Handlungsfeld and their progress."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from wegweiser.casework import handlers as h
from wegweiser.casework.api.models import GoalIn, GoalStatusIn
from wegweiser.casework.api.problems import invalid_input, or_problem
from wegweiser.casework.deps import SettingsDep, StaffDep, TodayDep, UnitOfWorkDep
from wegweiser.casework.domain.model import Goal
from wegweiser.casework.idempotency import answer_once
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER

router = APIRouter(tags=["cases"])


@router.post("/cases/{case_id}/goals", status_code=201, response_model=Goal, openapi_extra=IDEMPOTENCY_HEADER)
async def add_goal(
    case_id: uuid.UUID,
    body: GoalIn,
    principal: StaffDep,
    request: Request,
    uow: UnitOfWorkDep,
    settings: SettingsDep,
    today: TodayDep,
) -> Goal | Response:
    try:
        goal = Goal(**body.model_dump())
    except ValidationError as exc:  # e.g. a target date before the day the goal was agreed
        return invalid_input(request, exc)
    command = h.SetGoal(case_id, goal, principal)
    return await answer_once(
        request,
        principal,
        uow,
        lambda: or_problem(
            request, h.set_goal(command, uow=uow, today=today, pseudonym_key=settings.pseudonym_key)
        ),
    )


@router.post("/cases/{case_id}/goals/{goal_id}/status", status_code=200, response_model=Goal)
async def goal_status(
    case_id: uuid.UUID,
    goal_id: uuid.UUID,
    body: GoalStatusIn,
    principal: StaffDep,
    request: Request,
    uow: UnitOfWorkDep,
    today: TodayDep,
) -> Goal | JSONResponse:
    command = h.ChangeGoalStatus(case_id, goal_id, body.status, principal)
    return await or_problem(request, h.change_goal_status(command, uow=uow, today=today))
