"""Subject access export (GDPR Art. 15): referrals, what was sent to partners and their answers.

Referrals holds no person id, only the case (rows are pseudonymous), so the export is keyed by case.
A household's case may hold referrals of several members: the admin passes the ``referral_id`` values
that casework's export lists for the person, and gets only those. JSON, or a readable PDF with
``Accept: application/pdf``; every export is recorded in referrals' ``audit_log``.
"""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import col

from wegweiser.common import audit
from wegweiser.common import subject_access as sar
from wegweiser.common.db import utcnow
from wegweiser.common.http import not_found
from wegweiser.referrals.db import AuditRow, FeedbackRow, KnownCase, ReferralRow, WebhookDeliveryRow
from wegweiser.referrals.deps import AdminDep, UnitOfWorkDep
from wegweiser.referrals.handlers import ReferralsUnitOfWork

router = APIRouter(prefix="/admin", tags=["admin"])

TITLES = {
    "referrals": ("Vermittlungen", "Referrals"),
    "sent_to_partners": ("An Partner übermittelte Daten", "Data sent to partners"),
    "partner_answers": ("Antworten und Rückmeldungen der Partner", "Partner answers and feedback"),
    "audit": ("Protokolleinträge (frühere Auskünfte)", "Audit entries (earlier exports)"),
}


@router.get("/cases/{case_id}/export", response_model=None, responses=sar.OPENAPI_RESPONSES)
async def export_case(
    case_id: uuid.UUID,
    admin: AdminDep,
    request: Request,
    uow: UnitOfWorkDep,
    referral_id: Annotated[list[uuid.UUID] | None, Query()] = None,
    accept_language: str | None = Header(None),
) -> Response:
    """Everything referrals holds about a case's referrals; a full export asks casework and intake too."""
    async with uow:
        known = await uow.session.get(KnownCase, case_id)
        sections = await _sections(uow, case_id, referral_id)
        if known is None and not sections["referrals"]:
            return not_found(request, "Fall", "case", case_id)
        exported = [r["referral_id"] for r in sections["referrals"]]
        sections["audit"] = _about(
            await audit.entries_about(uow.session, AuditRow, case_id=case_id), exported
        )
        uow.session.add(
            AuditRow.of(
                admin, "admin.export_case", case_id=case_id, referral_ids=exported, format=sar.media(request)
            )
        )
        await uow.commit()
    doc = sar.document(
        service="referrals",
        person_id=None,
        case_id=case_id,
        sections=sections,
        titles=TITLES,
        english=sar.wants_english(accept_language),
        now=utcnow(),
    )
    return await sar.answer(request, doc)


async def _sections(
    uow: ReferralsUnitOfWork, case_id: uuid.UUID, only: list[uuid.UUID] | None
) -> dict[str, list[dict[str, Any]]]:
    query = (
        select(ReferralRow).where(col(ReferralRow.case_id) == case_id).order_by(col(ReferralRow.requested_on))
    )
    if only:
        query = query.where(col(ReferralRow.referral_id).in_(only))
    referrals = list((await uow.session.execute(query)).scalars())
    ids = [r.referral_id for r in referrals]
    deliveries = await uow.session.execute(
        select(WebhookDeliveryRow)
        .where(col(WebhookDeliveryRow.referral_id).in_(ids))
        .order_by(col(WebhookDeliveryRow.created_at))
    )
    feedback = await uow.session.execute(
        select(FeedbackRow)
        .where(col(FeedbackRow.referral_id).in_(ids))
        .order_by(col(FeedbackRow.received_at))
    )
    return {
        "referrals": [r.model_dump(mode="json") for r in referrals],
        "sent_to_partners": [_delivery(d) for d in deliveries.scalars()],
        "partner_answers": [f.model_dump(mode="json") for f in feedback.scalars()],
    }


def _about(entries: list[dict[str, Any]], exported: list[str]) -> list[dict[str, Any]]:
    """Earlier exports that covered these referrals, naming only them (not a household member's)."""
    about = []
    for entry in entries:
        mine = [r for r in entry["detail"].get("referral_ids", []) if r in exported]
        if mine:
            about.append({**entry, "detail": {**entry["detail"], "referral_ids": mine}})
    return about


def _delivery(row: WebhookDeliveryRow) -> dict[str, Any]:
    """What left for the partner by webhook; the body is gone once delivered or erased."""
    data = row.model_dump(mode="json", exclude={"body", "headers"})
    data["body"] = json.loads(row.body) if row.body else None
    return data
