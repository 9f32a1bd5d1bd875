"""The partner's referrals by state, the reminders that are due, one referral, and the answers to it.

An answer is a form with a one-time token that becomes the answer's ``feedback_id``: the form sent twice
(a double click, a resend after a slow response) is the same answer, recorded once, like the partner
API's ``Idempotency-Key``. Another partner's referral is "not found", as in the API.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import get_args

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from wegweiser.common import localtime
from wegweiser.common.events import DeclineReason, DropReason, FeedbackOutcome
from wegweiser.common.web.session import csrf_ok
from wegweiser.referrals.db import PartnerOffer
from wegweiser.referrals.deps import PolicyDep, SettingsDep, UnitOfWorkDep
from wegweiser.referrals.domain.lifecycle import TRANSITIONS, InvalidTransition, Referral, State
from wegweiser.referrals.handlers import RecordFeedback, ReferralNotFound, answer_referral
from wegweiser.referrals.web.messages import t
from wegweiser.referrals.web.pages import HOME, PageUser, PartnerStaffDep, error_page, render

router = APIRouter(include_in_schema=False)

STATE_ORDER: tuple[State, ...] = (
    "sent",
    "accepted",
    "started",
    "completed",
    "declined",
    "dropped",
    "expired",
)
"""The inbox's sections: what waits for an answer first, then what is under way, then what is finished."""
ANSWERS: dict[str, FeedbackOutcome] = {
    "accept": "accepted",
    "decline": "declined",
    "start": "started",
    "complete": "completed",
    "drop": "dropped",
}
"""The lifecycle's partner steps and the answer (``FeedbackOutcome``) each one is."""
DECLINE_REASONS: tuple[str, ...] = get_args(DeclineReason)
DROP_REASONS: tuple[str, ...] = tuple(r for r in get_args(DropReason) if r != "consent_withdrawn")
"""A withdrawn consent reaches us from casework; the partner does not report it."""


@dataclass(frozen=True, slots=True)
class InboxEntry:
    referral: Referral
    offer: PartnerOffer | None
    reminder_due: bool
    """Awaiting an answer although the reminder's time has passed (the partner was reminded)."""

    @classmethod
    def of(cls, referral: Referral, offer: PartnerOffer | None, now: dt.datetime) -> InboxEntry:
        remind_at = referral.remind_at
        due = referral.state == "sent" and remind_at is not None and remind_at <= now
        return cls(referral, offer, due)


def answers_for(state: str) -> list[str]:
    """The answers the lifecycle allows in ``state``, in the order the page offers them."""
    allowed = TRANSITIONS.get(state, {})  # type: ignore[call-overload]
    return [action for action in ANSWERS if action in allowed]


async def entries(uow: UnitOfWorkDep, partner_id: str, now: dt.datetime) -> list[InboxEntry]:
    """The partner's latest referrals (another partner's never), with the offer's copy where kept."""
    async with uow:
        found = await uow.referrals.visible(partner_id=partner_id, limit=500)
        offers = await uow.referrals.offers(partner_id, [r.referral_id for r in found])
    return [InboxEntry.of(r, offers.get(r.referral_id), now) for r in found]


async def programme_names(uow: UnitOfWorkDep, lang: str) -> dict[str, str]:
    async with uow:
        programmes = await uow.catalogue.programmes()
    return {code: (p.name_en if lang == "en" else p.name_de) for code, p in programmes.items()}


@router.get("/inbox", response_class=HTMLResponse)
async def inbox(
    request: Request, staff: PartnerStaffDep, uow: UnitOfWorkDep, policy: PolicyDep, state: str = ""
) -> Response:
    """The partner's referrals grouped by state (or one state); the due reminders on top, always."""
    chosen = state if state in STATE_ORDER else None
    found = await entries(uow, staff.org_id, policy.clock.now())
    groups = [
        (s, [e for e in found if e.referral.state == s]) for s in ((chosen,) if chosen else STATE_ORDER)
    ]
    return render(
        request,
        "inbox.html",
        staff=staff,
        title=t("inbox.title", staff.lang),
        groups=groups,
        due=[e for e in found if e.reminder_due],
        states=STATE_ORDER,
        chosen=chosen or "",
        programmes=await programme_names(uow, staff.lang),
    )


async def own_entry(
    uow: UnitOfWorkDep, policy: PolicyDep, staff: PageUser, referral_id: uuid.UUID
) -> InboxEntry | None:
    """The referral if it was sent to the caller's partner; None for another partner's, as for none."""
    async with uow:
        referral = await uow.referrals.get(referral_id)
        if referral is None or referral.partner_id != staff.org_id:
            return None
        offers = await uow.referrals.offers(staff.org_id, [referral_id])
    return InboxEntry.of(referral, offers.get(referral_id), policy.clock.now())


def show_referral(
    request: Request,
    staff: PageUser,
    entry: InboxEntry,
    programmes: dict[str, str],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    """One referral with the person data of the offer and a form for each answer its state allows."""
    return render(
        request,
        "referral.html",
        staff=staff,
        status=status,
        title=t("referral.title", staff.lang, programme=programmes.get(entry.referral.programme, "")),
        entry=entry,
        programme=programmes.get(entry.referral.programme, entry.referral.programme),
        answers=answers_for(entry.referral.state),
        tokens={action: str(uuid.uuid4()) for action in ANSWERS},
        decline_reasons=DECLINE_REASONS,
        drop_reasons=DROP_REASONS,
        today=localtime.today().isoformat(),
        errors=errors or {},
        error_items=[(f"#f-{name}", text) for name, text in sorted((errors or {}).items())],
        values=values or {},
        done=request.query_params.get("done") if request.query_params.get("done") in ANSWERS else "",
    )


@router.get("/inbox/{referral_id}", response_class=HTMLResponse)
async def referral_page(
    request: Request, referral_id: uuid.UUID, staff: PartnerStaffDep, uow: UnitOfWorkDep, policy: PolicyDep
) -> Response:
    entry = await own_entry(uow, policy, staff, referral_id)
    if entry is None:
        return error_page(request, staff, 404, "error.not_found.title", t("error.not_found", staff.lang))
    return show_referral(request, staff, entry, await programme_names(uow, staff.lang))


def answer_command(
    form: FormData, staff: PageUser, referral_id: uuid.UUID
) -> RecordFeedback | dict[str, str]:
    """The posted answer as the partner API's command, or the fields' error messages."""
    action = str(form.get("action", ""))
    reason = str(form.get("reason", "")) or None
    errors: dict[str, str] = {}
    if action not in ANSWERS:
        errors["action"] = t("v.choice", staff.lang)
    if action == "decline" and reason not in DECLINE_REASONS:
        errors["decline-reason"] = t("v.reason_required", staff.lang)
    if action == "drop" and reason is not None and reason not in DROP_REASONS:
        errors["drop-reason"] = t("v.choice", staff.lang)
    started_on = None
    if action == "start":
        try:
            started_on = dt.date.fromisoformat(str(form.get("started_on", "")))
        except ValueError:
            errors["started_on"] = t("v.date", staff.lang)
    try:
        feedback_id = uuid.UUID(str(form.get("form_token", "")))
    except ValueError:
        errors.setdefault("form", t("error.csrf", staff.lang))
        feedback_id = uuid.uuid4()
    if errors:
        return errors
    return RecordFeedback(
        partner_id=staff.org_id,
        referral_id=referral_id,
        feedback_id=feedback_id,
        outcome=ANSWERS[action],
        reason=reason if action in ("decline", "drop") else None,
        started_on=started_on,
        channel="web",
    )


@router.post("/inbox/{referral_id}/answer", response_class=HTMLResponse)
async def answer(
    request: Request,
    referral_id: uuid.UUID,
    staff: PartnerStaffDep,
    uow: UnitOfWorkDep,
    policy: PolicyDep,
    settings: SettingsDep,
) -> Response:
    """Accept, decline, started, completed or dropped out: ``answer_referral``, as the partner API."""
    form = await request.form()
    if not csrf_ok(form.get("csrf"), request.cookies.get(settings.session_cookie_name, "")):
        return error_page(request, staff, 400, "form.errors_title", t("error.csrf", staff.lang))
    entry = await own_entry(uow, policy, staff, referral_id)
    if entry is None:
        return error_page(request, staff, 404, "error.not_found.title", t("error.not_found", staff.lang))
    command = answer_command(form, staff, referral_id)
    values = {k: str(v) for k, v in form.items() if k in ("action", "reason", "started_on")}
    if isinstance(command, dict):
        programmes = await programme_names(uow, staff.lang)
        return show_referral(request, staff, entry, programmes, status=422, errors=command, values=values)
    try:
        await answer_referral(command, uow=uow, policy=policy)
    except ReferralNotFound:
        return error_page(request, staff, 404, "error.not_found.title", t("error.not_found", staff.lang))
    except InvalidTransition as exc:
        message = exc.text(english=staff.lang == "en")
        return error_page(request, staff, 409, "error.refused.title", message)
    return RedirectResponse(f"{HOME}/{referral_id}?done={form.get('action')}", status_code=303)
