"""For supervisors in the web UI: open cases per team and counsellor, the cases near their deadline,
and the audit log."""

from __future__ import annotations

import uuid
from collections import Counter

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

from wegweiser.casework import handlers as h
from wegweiser.casework import views
from wegweiser.casework.web.messages import t
from wegweiser.casework.web.pages import PageDep
from wegweiser.common.auth import Forbidden

router = APIRouter(include_in_schema=False)


@router.get("/team", response_class=HTMLResponse)
async def team_page(ctx: PageDep) -> Response:
    try:
        teams = await views.team_caseloads(ctx.principal, uow=ctx.uow)
    except Forbidden:
        return ctx.forbidden()
    # The same list as the caseload's "deadline near" filter, over the whole provider (audited there).
    near = views.CaseloadFilter(view="all", status="open", warning_only=True)
    deadlines = await views.caseload(ctx.principal, near, uow=ctx.uow, today=ctx.today)
    near_by_counsellor = Counter(r.case.assignment.counsellor_id for r in deadlines)
    return ctx.render("team.html", teams=teams, deadlines=deadlines, near=near_by_counsellor)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(ctx: PageDep) -> Response:
    case_filter = (ctx.request.query_params.get("case") or "").strip()
    actor = (ctx.request.query_params.get("actor") or "").strip() or None
    errors: dict[str, str] = {}
    case_id: uuid.UUID | None = None
    if case_filter:
        try:
            case_id = uuid.UUID(case_filter)
        except ValueError:
            errors["case"] = t("v.pattern", ctx.lang)
    try:
        entries = (
            []
            if errors
            else await views.audit_entries(ctx.principal, uow=ctx.uow, case_id=case_id, actor=actor)
        )
    except Forbidden:
        return ctx.forbidden()
    except h.CaseNotFound:
        return ctx.not_found()
    return ctx.render(
        "audit.html",
        422 if errors else 200,
        entries=entries,
        case_filter=case_filter,
        actor=actor or "",
        errors=errors,
    )
