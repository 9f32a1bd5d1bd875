"""The admin desk of referrals (issue 14): the partners with their delivery health, and stuck records.

The partners with their programmes, areas and delivery (webhook URL or Kafka topic); for a webhook partner
its queue by status, the last delivery, the latest error and its circuit breaker (the admin API's
``GET /v1/admin/partners/{id}/delivery``). The dead-letter desk is casework's (``common.web.dead_letters``),
for referrals' own consumer groups; every retry lands in referrals' audit log. The page only reads: partners
are changed through the admin API.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from wegweiser.common.events.referrals import partner_referrals_topic
from wegweiser.common.regions import catalogue
from wegweiser.common.web import dead_letters as dead_letter_desk
from wegweiser.common.web.session import csrf_ok
from wegweiser.referrals.consumers import consumer_groups
from wegweiser.referrals.db import AuditRow, DeliveryHealth
from wegweiser.referrals.delivery.breaker import BreakerState
from wegweiser.referrals.deps import ContextDep, SettingsDep, UnitOfWorkDep
from wegweiser.referrals.domain.catalogue import Partner
from wegweiser.referrals.web.inbox import programme_names
from wegweiser.referrals.web.messages import t
from wegweiser.referrals.web.pages import AdminPageDep, PageUser, error_page, municipality_name, render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class PartnerLine:
    """One partner as the desk lists it; ``health`` and ``breaker`` for webhook partners only."""

    partner: Partner
    programmes: list[str]
    areas: list[str]
    address: str
    health: DeliveryHealth | None
    breaker: BreakerState | None


def kreis_name(kreis_ags: str) -> str:
    found = next((m for m in catalogue().municipalities.values() if m.kreis_ags == kreis_ags), None)
    return found.kreis_name if found else kreis_ags


def areas(partner: Partner, lang: str) -> list[str]:
    """The municipalities, the Kreise and the Länder the partner serves, by name."""
    return [
        *(municipality_name(a) for a in partner.ags),
        *(t("admin.area.kreis", lang, name=kreis_name(k)) for k in partner.kreise),
        *(t("admin.area.land", lang, code=code) for code in partner.laender),
    ]


def partner_line(
    partner: Partner, names: dict[str, str], health: DeliveryHealth | None, breaker: BreakerState, lang: str
) -> PartnerLine:
    webhook = partner.delivery == "webhook"
    return PartnerLine(
        partner=partner,
        programmes=[names.get(p, p) for p in partner.programmes],
        areas=areas(partner, lang),
        address=str(partner.webhook_url) if webhook else partner_referrals_topic(partner.partner_id).name,
        health=(health or DeliveryHealth()) if webhook else None,
        breaker=breaker if webhook else None,
    )


@router.get("/admin", response_class=HTMLResponse)
async def partners_desk(
    request: Request, admin: AdminPageDep, context: ContextDep, uow: UnitOfWorkDep
) -> Response:
    """Every partner (also paused ones) with its delivery; removed partners are gone from the desk."""
    names = await programme_names(uow, admin.lang)
    async with uow:
        partners = await uow.catalogue.partners()
        health = await uow.deliveries.health()
    lines = [
        partner_line(
            p, names, health.get(p.partner_id), context.worker.breaker_state(p.partner_id), admin.lang
        )
        for p in partners
    ]
    return render(request, "admin.html", staff=admin, title=t("admin.title", admin.lang), lines=lines)


def kafka_unavailable(request: Request, admin: PageUser) -> Response:
    return error_page(request, admin, 503, "dlq.unavailable.title", t("dlq.unavailable", admin.lang))


@router.get(dead_letter_desk.DESK, response_class=HTMLResponse)
async def dead_letters(request: Request, admin: AdminPageDep, settings: SettingsDep) -> Response:
    """Referrals' open dead-lettered and parked records, per municipality (AGS), with their reasons."""
    title = t("dlq.title", admin.lang)
    return await dead_letter_desk.desk_page(
        request,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        groups=consumer_groups(settings),
        render=lambda values: render(request, "dlq.html", staff=admin, title=title, **values),
        unavailable=lambda: kafka_unavailable(request, admin),
    )


@router.post(dead_letter_desk.RETRY, response_class=HTMLResponse)
async def retry_dead_letters(
    request: Request, admin: AdminPageDep, settings: SettingsDep, uow: UnitOfWorkDep
) -> Response:
    """``wegweiser dlq replay`` for the chosen entries; the replay and its outcome are audited."""
    form = await request.form()
    if not csrf_ok(form.get("csrf"), request.cookies.get(settings.session_cookie_name, "")):
        return error_page(request, admin, 400, "form.errors_title", t("error.csrf", admin.lang))

    async def audited(entries: list[str], outcome: list[str]) -> None:
        async with uow:
            uow.session.add(AuditRow.of(admin.principal, "admin.dlq_retry", entries=entries, outcome=outcome))
            await uow.commit()

    return await dead_letter_desk.retry_posted(
        form,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        groups=consumer_groups(settings),
        audit=audited,
        not_found=lambda: error_page(
            request, admin, 404, "error.not_found.title", t("error.not_found", admin.lang)
        ),
        unavailable=lambda: kafka_unavailable(request, admin),
    )
