"""Subject access export (GDPR Art. 15): the arrivals in which one person appears, for an admin.

Only this person's own record from each household; the other members appear as a count.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse

from wegweiser.common import subject_access as sar
from wegweiser.common.db import utcnow
from wegweiser.common.http import not_found
from wegweiser.intake.deps import AdminDep, UnitOfWorkDep
from wegweiser.intake.domain.model import Arrival

router = APIRouter(prefix="/v1/admin", tags=["administration"])

TITLES = {"arrivals": ("Ankünfte (Zuweisungen)", "Arrivals (allocations)")}


@router.get("/persons/{person_id}/export", response_model=None)
async def export_person(
    person_id: uuid.UUID,
    principal: AdminDep,
    request: Request,
    uow: UnitOfWorkDep,
    accept_language: str | None = Header(None),
) -> dict[str, Any] | JSONResponse:
    """Everything intake holds about one person; a full export asks casework and referrals too."""
    async with uow:
        arrivals = await uow.arrivals.with_person(person_id)
    if not arrivals:
        return not_found(request, "Person", "person", person_id)
    return sar.document(
        service="intake",
        person_id=person_id,
        sections={"arrivals": [_arrival(a, person_id) for a in arrivals]},
        titles=TITLES,
        english=sar.wants_english(accept_language),
        now=utcnow(),
    )


def _arrival(arrival: Arrival, person_id: uuid.UUID) -> dict[str, Any]:
    data = arrival.model_dump(mode="json", exclude={"persons"})
    me = next(p for p in arrival.persons if p.person_id == person_id)
    return {**data, "household_size": len(arrival.persons), "person": me.model_dump(mode="json")}
