"""Subject access export (GDPR Art. 15): the arrivals in which one person appears, for an admin.

Only this person's own record from each household; the other members appear as a count. JSON, or a
readable PDF with ``Accept: application/pdf``; every export is recorded in intake's ``audit_log``.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import Response

from wegweiser.common import audit
from wegweiser.common import subject_access as sar
from wegweiser.common.db import utcnow
from wegweiser.common.http import not_found
from wegweiser.intake.db import AuditRow
from wegweiser.intake.deps import AdminDep, UnitOfWorkDep
from wegweiser.intake.domain.model import Arrival

router = APIRouter(prefix="/v1/admin", tags=["administration"])

TITLES = {
    "arrivals": ("Ankünfte (Zuweisungen)", "Arrivals (allocations)"),
    "audit": (
        "Protokolleinträge zur Person (frühere Auskünfte)",
        "Audit entries about the person (earlier exports)",
    ),
}


@router.get("/persons/{person_id}/export", response_model=None, responses=sar.OPENAPI_RESPONSES)
async def export_person(
    person_id: uuid.UUID,
    principal: AdminDep,
    request: Request,
    uow: UnitOfWorkDep,
    accept_language: str | None = Header(None),
) -> Response:
    """Everything intake holds about one person; a full export asks casework and referrals too."""
    async with uow:
        arrivals = await uow.arrivals.with_person(person_id)
        if not arrivals:
            return not_found(request, "Person", "person", person_id)
        history = await audit.entries_about(uow.session, AuditRow, person_id=person_id)
        uow.session.add(
            AuditRow.of(principal, "admin.export_person", person_id=person_id, format=sar.media(request))
        )
        await uow.commit()
    doc = sar.document(
        service="intake",
        person_id=person_id,
        sections={"arrivals": [_arrival(a, person_id) for a in arrivals], "audit": history},
        titles=TITLES,
        english=sar.wants_english(accept_language),
        now=utcnow(),
    )
    return await sar.answer(request, doc)


def _arrival(arrival: Arrival, person_id: uuid.UUID) -> dict[str, Any]:
    data = arrival.model_dump(mode="json", exclude={"persons"})
    me = next(p for p in arrival.persons if p.person_id == person_id)
    return {**data, "household_size": len(arrival.persons), "person": me.model_dump(mode="json")}
