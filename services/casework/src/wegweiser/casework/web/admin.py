"""The admin desk of casework: who serves which municipality, staff and roles, and stuck Kafka records.

The provider rule is changed through the same handler as the admin API (``organisation``); the dead-letter
queue is read and retried with the functions of ``wegweiser dlq`` (``common.web.dead_letters``), for
casework's own consumer groups only. Every change lands in the audit log.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from wegweiser.casework import organisation
from wegweiser.casework.consumers import consumer_groups
from wegweiser.casework.handlers import audit
from wegweiser.casework.web.forms import Field
from wegweiser.casework.web.messages import t
from wegweiser.casework.web.pages import PageDep, WebContext, municipality_name
from wegweiser.common.web import dead_letters as dead_letter_desk

router = APIRouter(include_in_schema=False)
DONE = ("rule_set", "rule_reset", "staff_saved")


def rule_fields(ctx: WebContext, org: organisation.Organisation, values: dict[str, str]) -> list[Field]:
    """The provider-rule form: a municipality some provider serves, and the provider to take its arrivals."""
    served = sorted({a for p in org.providers for a in p.ags})
    return [
        Field(
            "ags",
            t("admin.field.ags", ctx.lang),
            "select",
            value=values.get("ags"),
            options=[(a, municipality_name(a)) for a in served],
            required=True,
        ),
        Field(
            "provider_id",
            t("admin.field.provider", ctx.lang),
            "select",
            value=values.get("provider_id"),
            options=[(p.provider_id, p.name) for p in org.providers],
            required=True,
            hint=t("admin.field.provider.hint", ctx.lang),
        ),
    ]


async def posted_by_admin(ctx: WebContext) -> FormData | Response:
    """The admin's posted form, or the page that refuses it (not an admin: 403; a foreign form: 400)."""
    if not ctx.is_admin:
        return ctx.forbidden()
    form = await ctx.form()
    return ctx.csrf_failed() if form is None else form


async def desk_page(
    ctx: WebContext,
    status: int = 200,
    values: dict[str, str] | None = None,
    error: organisation.AdminRefused | None = None,
) -> Response:
    org = await organisation.organisation(ctx.uow)
    fields = rule_fields(ctx, org, values or {})
    if error is not None:
        for f in fields:
            if f.name == error.field:
                f.error = t(error.code, ctx.lang)
    done = ctx.request.query_params.get("done")
    return ctx.render("admin.html", status, org=org, fields=fields, done=done if done in DONE else None)


@router.get("/admin", response_class=HTMLResponse)
async def admin_desk(ctx: PageDep) -> Response:
    if not ctx.is_admin:
        return ctx.forbidden()
    return await desk_page(ctx)


@router.post("/admin/provider-rules", response_class=HTMLResponse)
async def set_rule(ctx: PageDep) -> Response:
    """The admin API's ``PUT /v1/admin/provider-rules/{ags}`` as a form."""
    form = await posted_by_admin(ctx)
    if isinstance(form, Response):
        return form
    values = {k: str(form.get(k, "")).strip() for k in ("ags", "provider_id")}
    try:
        await organisation.set_provider_rule(ctx.uow, ctx.principal, values["ags"], values["provider_id"])
    except organisation.AdminRefused as exc:
        return await desk_page(ctx, 422, values, exc)
    return RedirectResponse("/admin?done=rule_set#rules", status_code=303)


@router.post("/admin/provider-rules/{ags}/reset", response_class=HTMLResponse)
async def reset_rule(ags: str, ctx: PageDep) -> Response:
    """The admin API's ``DELETE /v1/admin/provider-rules/{ags}`` as a button."""
    refused = await posted_by_admin(ctx)
    if isinstance(refused, Response):
        return refused
    if not await organisation.reset_provider_rule(ctx.uow, ctx.principal, ags):
        return ctx.not_found()
    return RedirectResponse("/admin?done=rule_reset#rules", status_code=303)


@router.get("/admin/dlq", response_class=HTMLResponse)
async def dead_letters(ctx: PageDep) -> Response:
    """Casework's open dead-lettered and parked records, per municipality (AGS), with their reasons."""
    if not ctx.is_admin:
        return ctx.forbidden()
    kafka = ctx.settings.kafka_bootstrap_servers
    return await dead_letter_desk.desk_page(
        ctx.request,
        bootstrap_servers=kafka,
        groups=consumer_groups(ctx.settings),
        render=lambda values: ctx.render("dlq.html", **values),
        unavailable=lambda: kafka_unavailable(ctx),
    )


def kafka_unavailable(ctx: WebContext) -> Response:
    return ctx.error(503, "dlq.unavailable.title", t("dlq.unavailable", ctx.lang))


@router.post(dead_letter_desk.RETRY, response_class=HTMLResponse)
async def retry_dead_letters(ctx: PageDep) -> Response:
    """``wegweiser dlq replay`` for the chosen entries; the replay and its outcome are audited."""
    form = await posted_by_admin(ctx)
    if isinstance(form, Response):
        return form

    async def audited(entries: list[str], outcome: list[str]) -> None:
        async with ctx.uow:
            audit(ctx.uow, ctx.principal, "admin.dlq_retry", None, entries=entries, outcome=outcome)
            await ctx.uow.commit()

    return await dead_letter_desk.retry_posted(
        form,
        bootstrap_servers=ctx.settings.kafka_bootstrap_servers,
        groups=consumer_groups(ctx.settings),
        audit=audited,
        not_found=ctx.not_found,
        unavailable=lambda: kafka_unavailable(ctx),
    )
