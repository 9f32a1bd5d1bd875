"""The Integrationsplan in the web UI: the goal form and a goal's progress."""

from __future__ import annotations

import uuid
from typing import Any, cast

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from wegweiser.casework import handlers as h
from wegweiser.casework.domain.model import Case, Goal
from wegweiser.casework.web.case_forms import (
    HANDLUNGSFELDER,
    CaseForm,
    case_action,
    code_select,
    form_texts,
    handler_args,
    persons,
)
from wegweiser.casework.web.forms import Field
from wegweiser.casework.web.messages import t
from wegweiser.casework.web.pages import PageDep, WebContext
from wegweiser.common.events import GoalStatus

router = APIRouter(include_in_schema=False)

GOAL_STATES = ["open", "in_progress", "achieved", "dropped"]


async def goal_fields(ctx: WebContext, case: Case) -> list[Field]:
    lang = ctx.lang
    return [
        code_select("handlungsfeld", "hf", HANDLUNGSFELDER, lang),
        Field("description", t("field.description", lang), "textarea", required=True),
        Field(
            "person_id",
            t("field.person_id", lang),
            "select",
            options=[("", t("field.person_id.household", lang)), *persons(case, lang)],
        ),
        Field("set_on", t("field.set_on", lang), "date", value=ctx.today.isoformat(), required=True),
        Field("target_date", t("field.target_date", lang), "date"),
    ]


async def set_goal(ctx: WebContext, case: Case, v: dict[str, Any]) -> Goal:
    goal = Goal.model_validate(
        form_texts(v, "handlungsfeld", "description", "person_id", "set_on", "target_date")
    )
    return await h.set_goal(h.SetGoal(case.case_id, goal, ctx.principal), **handler_args(ctx))


GOAL = CaseForm("goals/new", "goal.title", goal_fields, set_goal, "goal", "#plan")
GOAL.mount(router)


@router.post("/cases/{case_id}/goals/{goal_id}/status", response_class=HTMLResponse)
async def goal_status(case_id: uuid.UUID, goal_id: uuid.UUID, ctx: PageDep) -> Response:
    form = await ctx.form()
    if form is None:
        return ctx.csrf_failed()
    status = str(form.get("status", ""))
    if status not in GOAL_STATES:
        return RedirectResponse(f"/cases/{case_id}#plan", status_code=303)
    change = h.change_goal_status(
        h.ChangeGoalStatus(case_id, goal_id, cast(GoalStatus, status), ctx.principal),
        uow=ctx.uow,
        today=ctx.today,
    )
    return await case_action(ctx, case_id, change, done="goal_status", anchor="#plan")
