"""The Integrationsplan: goals per Handlungsfeld and their progress."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from wegweiser.casework import handlers as h
from wegweiser.casework.api.change import ChangeDep
from wegweiser.casework.api.models import GoalIn, GoalStatusIn
from wegweiser.casework.api.problems import invalid_input
from wegweiser.casework.domain.model import Goal
from wegweiser.common.idempotency import IDEMPOTENCY_HEADER

router = APIRouter(tags=["cases"])


@router.post("/cases/{case_id}/goals", status_code=201, response_model=Goal, openapi_extra=IDEMPOTENCY_HEADER)
async def add_goal(case_id: uuid.UUID, body: GoalIn, change: ChangeDep) -> Goal | Response:
    try:
        goal = Goal(**body.model_dump())
    except ValidationError as exc:  # e.g. a target date before the day the goal was agreed
        return invalid_input(change.request, exc)
    command = h.SetGoal(case_id, goal, change.principal)
    return await change.once(
        lambda: h.set_goal(command, uow=change.uow, today=change.today, pseudonym_key=change.pseudonym_key)
    )


@router.post("/cases/{case_id}/goals/{goal_id}/status", status_code=200, response_model=Goal)
async def goal_status(
    case_id: uuid.UUID, goal_id: uuid.UUID, body: GoalStatusIn, change: ChangeDep
) -> Goal | JSONResponse:
    command = h.ChangeGoalStatus(case_id, goal_id, body.status, change.principal)
    return await change.or_problem(h.change_goal_status(command, uow=change.uow, today=change.today))
