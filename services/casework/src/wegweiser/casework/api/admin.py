"""Administration: subject access export, erasure on request, providers, teams, staff, provider rules."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from sqlmodel import SQLModel

from wegweiser.casework import handlers as h
from wegweiser.casework import organisation, subject_access
from wegweiser.casework.api.models import ErasureOut, ProviderIn, RuleIn, StaffIn, TeamIn
from wegweiser.casework.api.problems import invalid, not_found, refused
from wegweiser.casework.db import OrgRepository, ProviderRow, StaffRow, TeamRow
from wegweiser.casework.deps import AdminDep, TodayDep, UnitOfWorkDep
from wegweiser.casework.domain.model import CaseRefused
from wegweiser.casework.handlers import CaseworkUnitOfWork
from wegweiser.common import subject_access as sar
from wegweiser.common.auth import Principal
from wegweiser.common.db import forget_deleted_bytes, utcnow
from wegweiser.common.http import not_found as not_found_problem
from wegweiser.common.regions import catalogue

router = APIRouter(prefix="/admin", tags=["administration"])


@router.get("/persons/{person_id}/export", response_model=None, responses=sar.OPENAPI_RESPONSES)
async def export_person(
    person_id: uuid.UUID,
    principal: AdminDep,
    request: Request,
    uow: UnitOfWorkDep,
    accept_language: str | None = Header(None),
) -> Response:
    """Everything casework holds about one person (GDPR Art. 15); reading it is audited on each case.

    JSON, or a readable PDF of the same document with ``Accept: application/pdf``.
    """
    async with uow:
        cases = await subject_access.person_cases(uow, person_id)
        if not cases:
            return not_found_problem(request, "Person", "person", person_id)
        sections = await subject_access.sections(uow, person_id, cases)
        for case in cases:
            uow.audit.append(
                by=h.actor_of(principal),
                case_id=case.case_id,
                action="admin.export_person",
                person_id=person_id,
                format=sar.media(request),
            )
        await uow.commit()
    doc = sar.document(
        service="casework",
        person_id=person_id,
        sections=sections,
        titles=subject_access.TITLES,
        english=sar.wants_english(accept_language),
        now=utcnow(),
    )
    return await sar.answer(request, doc)


@router.post("/cases/{case_id}/erase", response_model=ErasureOut)
async def erase_case(
    case_id: uuid.UUID, principal: AdminDep, request: Request, uow: UnitOfWorkDep, today: TodayDep
) -> ErasureOut | JSONResponse:
    """Erase a closed case's personal data now, as the retention purge would (e.g. on request).

    Idempotent: a case erased before answers 200 with ``erased_now: false``. An open case is 409.
    """
    try:
        counts = await h.erase_case_on_request(h.EraseCase(case_id, principal), uow=uow, today=today)
    except h.CaseNotFound:
        return not_found(request, case_id)
    except CaseRefused as exc:
        return refused(request, exc)
    if counts is not None:
        await forget_deleted_bytes(uow.session)
    return ErasureOut(case_id=case_id, erased_now=counts is not None, records=counts or {})


async def _listing(
    uow: CaseworkUnitOfWork, rows: Callable[[OrgRepository], Awaitable[Sequence[SQLModel]]]
) -> list[dict[str, Any]]:
    """An admin listing: every row as it is stored."""
    async with uow:
        return [row.model_dump() for row in await rows(uow.org)]


async def _audited(uow: CaseworkUnitOfWork, principal: Principal, action: str, **detail: object) -> Response:
    """The admin's change, audited and committed; 204."""
    h.audit(uow, principal, action, None, **detail)
    await uow.commit()
    return Response(status_code=204)


@router.get("/providers")
async def list_providers(principal: AdminDep, uow: UnitOfWorkDep) -> list[dict[str, Any]]:
    return await _listing(uow, OrgRepository.providers)


@router.put("/providers/{provider_id}", status_code=204)
async def put_provider(
    provider_id: str, body: ProviderIn, principal: AdminDep, request: Request, uow: UnitOfWorkDep
) -> Response:
    unknown = [a for a in body.ags if not catalogue().is_allocation_target(a)]
    if unknown:
        return invalid(request, "ags", f"unknown municipality: {', '.join(unknown)}")
    async with uow:
        await uow.org.put_provider(ProviderRow(provider_id=provider_id, **body.model_dump()))
        return await _audited(uow, principal, "admin.put_provider", provider_id=provider_id)


@router.get("/teams")
async def list_teams(principal: AdminDep, uow: UnitOfWorkDep) -> list[dict[str, Any]]:
    return await _listing(uow, OrgRepository.teams)


@router.put("/teams/{team_id}", status_code=204)
async def put_team(
    team_id: str, body: TeamIn, principal: AdminDep, request: Request, uow: UnitOfWorkDep
) -> Response:
    async with uow:
        if await uow.org.provider(body.provider_id) is None:
            return invalid(request, "provider_id", "unknown provider")
        await uow.org.put_team(TeamRow(team_id=team_id, **body.model_dump()))
        return await _audited(uow, principal, "admin.put_team", team_id=team_id)


@router.get("/staff")
async def list_staff(principal: AdminDep, uow: UnitOfWorkDep) -> list[dict[str, Any]]:
    return await _listing(uow, OrgRepository.staff)


@router.put("/staff/{subject}", status_code=204)
async def put_staff(
    subject: str, body: StaffIn, principal: AdminDep, request: Request, uow: UnitOfWorkDep
) -> Response:
    try:
        await organisation.put_member(uow, principal, StaffRow(subject=subject, **body.model_dump()))
    except organisation.AdminRefused as exc:
        return invalid(request, exc.field, exc.message)
    return Response(status_code=204)


@router.get("/provider-rules")
async def list_rules(principal: AdminDep, uow: UnitOfWorkDep) -> list[dict[str, str]]:
    async with uow:
        return [{"ags": r.ags, "provider_id": r.provider_id} for r in await uow.org.rules()]


@router.put("/provider-rules/{ags}", status_code=204)
async def put_rule(
    ags: str, body: RuleIn, principal: AdminDep, request: Request, uow: UnitOfWorkDep
) -> Response:
    """Which provider takes new arrivals in ``ags`` (existing cases stay where they are)."""
    try:
        await organisation.set_provider_rule(uow, principal, ags, body.provider_id)
    except organisation.AdminRefused as exc:
        return invalid(request, exc.field, exc.message)
    return Response(status_code=204)


@router.delete("/provider-rules/{ags}", status_code=204)
async def delete_rule(ags: str, principal: AdminDep, request: Request, uow: UnitOfWorkDep) -> Response:
    """Back to the default: the Kreis's provider ``kreis-<kreis_ags>``."""
    if not await organisation.reset_provider_rule(uow, principal, ags):
        return not_found_problem(request, "Regel", "rule", ags)
    return Response(status_code=204)
