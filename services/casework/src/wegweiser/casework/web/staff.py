"""The admin desk's staff form: role, provider, team and whether active, as ``PUT /v1/admin/staff/{subject}``.

The form and the API go through the same handler (``organisation.put_member``): the same checks, the same
audit entry (``admin.put_staff``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from wegweiser.casework import organisation
from wegweiser.casework.api.models import StaffIn
from wegweiser.casework.db import StaffRow
from wegweiser.casework.web.admin import posted_by_admin
from wegweiser.casework.web.forms import Field, apply, blank_to_none, field_errors
from wegweiser.casework.web.messages import t
from wegweiser.casework.web.pages import STAFF_ROLES, PageDep, WebContext

router = APIRouter(include_in_schema=False)


def staff_fields(ctx: WebContext, org: organisation.Organisation, member: StaffRow) -> list[Field]:
    lang = ctx.lang
    none = [("", t("admin.none", lang))]
    teams = [(tm.team_id, f"{tm.name} ({org.provider_name(tm.provider_id)})") for tm in org.teams]
    return [
        Field("display_name", t("admin.field.display_name", lang), value=member.display_name, required=True),
        Field(
            "role",
            t("admin.col_role", lang),
            "select",
            value=member.role,
            options=[(r, t(f"role.{r}", lang)) for r in STAFF_ROLES],
            required=True,
        ),
        Field(
            "provider_id",
            t("admin.field.provider", lang),
            "select",
            value=member.provider_id or "",
            options=none + [(p.provider_id, p.name) for p in org.providers],
            hint=t("admin.field.staff_provider.hint", lang),
        ),
        Field(
            "team_id", t("admin.col_team", lang), "select", value=member.team_id or "", options=none + teams
        ),
        Field("active", t("admin.col_active", lang), "checkbox", value=member.active),
    ]


async def staff_form(
    ctx: WebContext, member: StaffRow, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> Response:
    org = await organisation.organisation(ctx.uow)
    fields = apply(staff_fields(ctx, org, member), values, errors)
    return ctx.render(
        "form.html",
        status,
        title=t("admin.staff_form", ctx.lang, name=member.display_name),
        fields=fields,
        action=f"/admin/staff/{member.subject}",
        back="/admin#staff",
        form_error=errors.get("form"),
    )


async def known_member(ctx: WebContext, subject: str) -> StaffRow | None:
    async with ctx.uow:
        return await ctx.uow.org.member(subject)


@router.get("/admin/staff/{subject}", response_class=HTMLResponse)
async def staff_page(subject: str, ctx: PageDep) -> Response:
    if not ctx.is_admin:
        return ctx.forbidden()
    member = await known_member(ctx, subject)
    return ctx.not_found() if member is None else await staff_form(ctx, member, {}, {})


@router.post("/admin/staff/{subject}", response_class=HTMLResponse)
async def save_staff(subject: str, ctx: PageDep) -> Response:
    form = await posted_by_admin(ctx)
    if isinstance(form, Response):
        return form
    member = await known_member(ctx, subject)
    if member is None:
        return ctx.not_found()
    values = {k: blank_to_none(form.get(k)) for k in ("display_name", "role", "provider_id", "team_id")}
    values["active"] = form.get("active") == "on"
    try:
        changed = StaffIn.model_validate(values)
        await organisation.put_member(
            ctx.uow, ctx.principal, StaffRow(subject=subject, **changed.model_dump())
        )
    except ValidationError as exc:
        return await staff_form(ctx, member, values, field_errors(exc, ctx.lang), 422)
    except organisation.AdminRefused as exc:
        return await staff_form(ctx, member, values, {exc.field: t(exc.code, ctx.lang)}, 422)
    return RedirectResponse("/admin?done=staff_saved#staff", status_code=303)
