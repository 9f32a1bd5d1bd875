"""Casework's HTTP API for integrations (``/v1``), the same operations as the web UI; routes only translate.

Errors are RFC 9457 problem+json: a case outside the caller's provider and AGS is 404 (never 403, so its
existence does not leak); a domain refusal is 422 when a field is at fault, else 409, with a ``code``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from wegweiser.casework import handlers as h
from wegweiser.casework import views
from wegweiser.casework.db import ProviderRow, StaffRow, TeamRow
from wegweiser.casework.domain.model import (
    Case,
    CasePerson,
    CaseRefused,
    Consent,
    Consultation,
    Goal,
    Referral,
    TimeLimit,
)
from wegweiser.casework.programmes import BUILT_IN_MINIMUM, PROGRAMME_NAMES
from wegweiser.casework.web.messages import t
from wegweiser.common.auth import Forbidden, Principal, require_role
from wegweiser.common.events import ClosureReason, GoalStatus, Handlungsfeld, Programme
from wegweiser.common.http import problem, wants_english
from wegweiser.common.localtime import today
from wegweiser.common.regions import catalogue

StaffDep = Annotated[Principal, require_role("counsellor", "supervisor", "admin")]
SupervisorDep = Annotated[Principal, require_role("supervisor")]
AdminDep = Annotated[Principal, require_role("admin")]
AGS = Annotated[str, Query(pattern=r"^\d{8}$")]


class CaseOut(BaseModel):
    case_id: uuid.UUID
    ags: str
    provider_id: str
    arrival_id: uuid.UUID | None
    walk_in: bool
    opened_on: dt.date
    status: str
    household_size: int
    counsellor_id: str | None
    team_id: str | None
    closed_on: dt.date | None
    closure_reason: str | None
    time_limit: TimeLimit

    @classmethod
    def of(cls, case: Case, limit: TimeLimit | None = None) -> CaseOut:
        return cls(
            **case.model_dump(
                include={"case_id", "ags", "provider_id", "arrival_id", "walk_in", "opened_on"}
            ),
            status=case.status,
            household_size=len(case.persons),
            counsellor_id=case.assignment.counsellor_id,
            team_id=case.assignment.team_id,
            closed_on=case.closed_on,
            closure_reason=case.closure_reason,
            time_limit=limit or case.time_limit(today=today()),
        )


class ConsultationOut(Consultation):
    recorded_by: str
    note_restricted: bool = Field(False, description="a note exists but the caller may not read it")


class GoalOut(Goal):
    description_transferred: bool = True


class CaseDetail(CaseOut):
    persons: list[CasePerson]
    extension_justification: str | None
    consultations: list[ConsultationOut]
    goals: list[GoalOut]
    consents: list[Consent]
    referrals: list[Referral]


class WalkInPerson(BaseModel):
    family_name: str = Field(min_length=1, max_length=200)
    given_names: str = Field(min_length=1, max_length=200)
    role: Literal["head", "partner", "child", "other"] = "head"
    date_of_birth: str | None = Field(None, pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")
    sex: Literal["female", "male", "diverse", "unknown"] = "unknown"
    languages: tuple[Annotated[str, Field(pattern=r"^[a-z]{2,3}$")], ...] = ()
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)


class WalkInCase(BaseModel):
    ags: str = Field(pattern=r"^\d{8}$")
    opened_on: dt.date
    persons: list[WalkInPerson] = Field(min_length=1, max_length=30)


class AssignmentIn(BaseModel):
    counsellor_id: str | None = Field(None, max_length=200)
    team_id: str | None = Field(None, max_length=100)


class GoalIn(BaseModel):
    handlungsfeld: Handlungsfeld
    description: str = Field(min_length=3, max_length=2000)
    person_id: uuid.UUID | None = None
    set_on: dt.date
    target_date: dt.date | None = None


class GoalStatusIn(BaseModel):
    status: GoalStatus


class WithdrawalIn(BaseModel):
    withdrawn_on: dt.date | None = None


class ReferralIn(BaseModel):
    person_id: uuid.UUID
    programme: Programme
    partner_id: str | None = Field(None, max_length=100)
    note_for_partner: str | None = Field(None, max_length=2000)


class ClosureIn(BaseModel):
    reason: ClosureReason
    closed_on: dt.date


class ExtensionIn(BaseModel):
    justification: str = Field(min_length=10, max_length=4000)


class ContactIn(BaseModel):
    phone: str | None = Field(None, max_length=50)
    email: str | None = Field(None, max_length=200)
    address: str | None = Field(None, max_length=300)


class ProviderIn(BaseModel):
    name: str = Field(min_length=2, max_length=300)
    kind: Literal["municipality", "landratsamt", "welfare"]
    ags: list[Annotated[str, Field(pattern=r"^\d{8}$")]] = Field(min_length=1)


class TeamIn(BaseModel):
    provider_id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=2, max_length=300)


class StaffIn(BaseModel):
    display_name: str = Field(min_length=2, max_length=300)
    role: Literal["counsellor", "supervisor", "admin"]
    provider_id: str | None = Field(None, max_length=100)
    team_id: str | None = Field(None, max_length=100)
    active: bool = True


class RuleIn(BaseModel):
    provider_id: str = Field(min_length=1, max_length=100)


class ProgrammeOut(BaseModel):
    code: str
    name_de: str
    name_en: str
    person_fields: list[str]
    source: Literal["catalogue", "built-in"]


class PartnerOut(BaseModel):
    partner_id: str
    name: str
    programmes: list[str]
    ags: list[str]


class CatalogueOut(BaseModel):
    programmes: list[ProgrammeOut]
    partners: list[PartnerOut]


class ErasureOut(BaseModel):
    case_id: uuid.UUID
    status: Literal["erased"] = "erased"
    erased_now: bool = Field(description="false: the case had been erased before")
    records: dict[str, int] = Field(description="persons and records erased now, by kind")


def refused(request: Request, exc: CaseRefused) -> JSONResponse:
    """422 naming the field at fault, or 409 when the case's state forbids it; in the caller's language."""
    lang = "en" if wants_english(request) else "de"
    message = t(f"r.{exc.code}", lang, **exc.params)
    if exc.field:
        return problem(
            request,
            422,
            message,
            code=exc.code,
            errors=[{"field": exc.field, "message": message, "type": exc.code}],
        )
    return problem(request, 409, message, code=exc.code)


def not_found(request: Request, what: object) -> JSONResponse:
    return problem(request, 404, f"case {what}")


def router() -> APIRouter:
    api = APIRouter(prefix="/v1")

    def uow(request: Request) -> h.CaseworkUnitOfWork:
        return request.app.state.runtime.unit_of_work()

    def key(request: Request) -> str:
        return request.app.state.runtime.settings.pseudonym_key

    # --- cases -----------------------------------------------------------------------------------------

    @api.get("/cases", response_model=list[CaseOut], tags=["cases"])
    async def list_cases(
        principal: StaffDep,
        request: Request,
        ags: AGS | None = None,
        status: Literal["open", "closed"] | None = None,
        view: Literal["mine", "team", "unassigned", "all"] = "all",
        name: Annotated[str | None, Query(max_length=100)] = None,
        date_of_birth: Annotated[str | None, Query(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] = None,
    ) -> Any:
        """Cases of the caller's provider in the caller's AGS, filtered; every listing is audited."""
        if ags is not None and ags not in principal.ags:
            raise Forbidden(f"no access to municipality {ags}")
        filters = views.CaseloadFilter(
            view=view, status=status, ags=ags, name=name, date_of_birth=date_of_birth
        )
        rows = await views.caseload(principal, filters, uow=uow(request), today=today())
        return [CaseOut.of(r.case, r.time_limit) for r in rows]

    @api.post("/cases", status_code=201, response_model=CaseOut, tags=["cases"])
    async def open_walk_in(body: WalkInCase, principal: StaffDep, request: Request) -> Any:
        """A walk-in case (no allocation through intake), flagged ``walk_in``."""
        persons = tuple(CasePerson(person_id=uuid.uuid4(), **p.model_dump()) for p in body.persons)
        try:
            case = await h.open_walk_in_case(
                h.OpenWalkInCase(
                    ags=body.ags, opened_on=body.opened_on, persons=persons, principal=principal
                ),
                uow=uow(request),
                today=today(),
                pseudonym_key=key(request),
            )
        except CaseRefused as exc:
            return refused(request, exc)
        return CaseOut.of(case)

    @api.get("/cases/{case_id}", response_model=CaseDetail, tags=["cases"])
    async def get_case(case_id: uuid.UUID, principal: StaffDep, request: Request) -> Any:
        try:
            view = await views.case_view(case_id, principal, uow=uow(request), today=today())
        except h.CaseNotFound:
            return not_found(request, case_id)
        case = view.case
        return CaseDetail(
            **CaseOut.of(case, view.time_limit).model_dump(),
            persons=list(case.persons),
            extension_justification=case.extension_justification,
            consultations=[
                ConsultationOut(
                    **c.consultation.model_dump(exclude={"note"}),
                    note=c.consultation.note if readable else None,
                    recorded_by=c.recorded_by,
                    note_restricted=bool(c.consultation.note) and not readable,
                )
                for c, readable in view.consultations
            ],
            goals=[
                GoalOut(
                    **g.goal.model_dump(exclude={"description"}),
                    description=g.goal.description if visible else "---",
                    description_transferred=visible,
                )
                for g, visible in view.goals
            ],
            consents=view.consents,
            referrals=view.referrals,
        )

    def command(name: str, status_code: int = 201) -> Any:
        return api.post(name, status_code=status_code, tags=["cases"])

    async def run(request: Request, call: Any) -> Any:
        try:
            return await call
        except h.CaseNotFound as exc:
            return not_found(request, exc)
        except CaseRefused as exc:
            return refused(request, exc)

    @command("/cases/{case_id}/assignment", 200)
    async def assign(case_id: uuid.UUID, body: AssignmentIn, principal: StaffDep, request: Request) -> Any:
        result = await run(
            request,
            h.assign_case(
                h.AssignCase(case_id, body.counsellor_id, body.team_id, principal),
                uow=uow(request),
                today=today(),
            ),
        )
        return CaseOut.of(result) if isinstance(result, Case) else result

    @command("/cases/{case_id}/consultations")
    async def add_consultation(
        case_id: uuid.UUID, body: Consultation, principal: StaffDep, request: Request
    ) -> Any:
        """Record a consultation; the note stays in casework, the event carries no personal data."""
        return await run(
            request,
            h.record_consultation(
                h.RecordConsultation(case_id, body, principal),
                uow=uow(request),
                today=today(),
                pseudonym_key=key(request),
            ),
        )

    @command("/cases/{case_id}/goals")
    async def add_goal(case_id: uuid.UUID, body: GoalIn, principal: StaffDep, request: Request) -> Any:
        goal = Goal(**body.model_dump())
        return await run(
            request,
            h.set_goal(
                h.SetGoal(case_id, goal, principal),
                uow=uow(request),
                today=today(),
                pseudonym_key=key(request),
            ),
        )

    @command("/cases/{case_id}/goals/{goal_id}/status", 200)
    async def goal_status(
        case_id: uuid.UUID, goal_id: uuid.UUID, body: GoalStatusIn, principal: StaffDep, request: Request
    ) -> Any:
        return await run(
            request,
            h.change_goal_status(
                h.ChangeGoalStatus(case_id, goal_id, body.status, principal), uow=uow(request), today=today()
            ),
        )

    @command("/cases/{case_id}/consents")
    async def add_consent(case_id: uuid.UUID, body: Consent, principal: StaffDep, request: Request) -> Any:
        return await run(
            request,
            h.grant_consent(
                h.GrantConsent(case_id, body, principal),
                uow=uow(request),
                today=today(),
                pseudonym_key=key(request),
            ),
        )

    @command("/cases/{case_id}/consents/{consent_id}/withdrawal", 200)
    async def withdraw(
        case_id: uuid.UUID, consent_id: uuid.UUID, body: WithdrawalIn, principal: StaffDep, request: Request
    ) -> Any:
        return await run(
            request,
            h.withdraw_consent(
                h.WithdrawConsent(case_id, consent_id, principal, body.withdrawn_on),
                uow=uow(request),
                today=today(),
            ),
        )

    @command("/cases/{case_id}/referrals")
    async def add_referral(
        case_id: uuid.UUID, body: ReferralIn, principal: StaffDep, request: Request
    ) -> Any:
        """Refused (422, ``consent_missing`` or ``consent_other_partner``) without a matching consent."""
        cmd = h.RequestReferral(case_id=case_id, principal=principal, **body.model_dump())
        return await run(
            request, h.request_referral(cmd, uow=uow(request), today=today(), pseudonym_key=key(request))
        )

    @command("/cases/{case_id}/closure", 200)
    async def close(case_id: uuid.UUID, body: ClosureIn, principal: StaffDep, request: Request) -> Any:
        result = await run(
            request,
            h.close_case(
                h.CloseCase(case_id, body.reason, body.closed_on, principal), uow=uow(request), today=today()
            ),
        )
        return CaseOut.of(result) if isinstance(result, Case) else result

    @command("/cases/{case_id}/extension", 200)
    async def extend(case_id: uuid.UUID, body: ExtensionIn, principal: StaffDep, request: Request) -> Any:
        result = await run(
            request, h.extend_case(h.ExtendCase(case_id, body.justification, principal), uow=uow(request))
        )
        return CaseOut.of(result) if isinstance(result, Case) else result

    @api.put("/cases/{case_id}/persons/{person_id}/contact", response_model=CaseOut, tags=["cases"])
    async def contact(
        case_id: uuid.UUID, person_id: uuid.UUID, body: ContactIn, principal: StaffDep, request: Request
    ) -> Any:
        result = await run(
            request,
            h.update_contact(
                h.UpdateContact(case_id, person_id, body.phone, body.email, body.address, principal),
                uow=uow(request),
            ),
        )
        return CaseOut.of(result) if isinstance(result, Case) else result

    @api.get("/catalogue", response_model=CatalogueOut, tags=["catalogue"])
    async def programmes(principal: StaffDep, request: Request) -> Any:
        """Programmes and partners as referrals publishes them; built-in minimum where it has not yet."""
        async with uow(request) as u:
            known = {p.code: p for p in await u.catalogue.programmes()}
            partners = await u.catalogue.partners()
        out = [
            ProgrammeOut(
                code=p.code,
                name_de=p.name_de,
                name_en=p.name_en,
                person_fields=sorted(p.person_fields),
                source="catalogue",
            )
            for p in known.values()
        ]
        out += [
            ProgrammeOut(
                code=code,
                name_de=de,
                name_en=en,
                person_fields=sorted(BUILT_IN_MINIMUM[code]),
                source="built-in",
            )
            for code, (de, en) in PROGRAMME_NAMES.items()
            if code not in known
        ]
        return CatalogueOut(
            programmes=sorted(out, key=lambda p: p.code),
            partners=[
                PartnerOut(**p.model_dump(include={"partner_id", "name", "programmes", "ags"}))
                for p in partners
            ],
        )

    # --- supervisors -----------------------------------------------------------------------------------

    class TeamCaseloadOut(BaseModel):
        team_id: str | None
        team_name: str | None
        members: list[dict[str, Any]]
        open_cases: int

    class AuditEntryOut(BaseModel):
        id: int
        at: dt.datetime
        actor: str
        actor_role: str
        provider_id: str | None
        case_id: uuid.UUID | None
        action: str
        detail: dict[str, Any]

    @api.get("/teams/caseloads", response_model=list[TeamCaseloadOut], tags=["supervision"])
    async def team_caseloads(principal: SupervisorDep, request: Request) -> Any:
        teams = await views.team_caseloads(principal, uow=uow(request))
        return [
            TeamCaseloadOut(
                team_id=t.team.team_id if t.team else None,
                team_name=t.team.name if t.team else None,
                members=[
                    {"counsellor_id": s, "name": m.display_name if m else None, "open_cases": n}
                    for m, s, n in t.members
                ],
                open_cases=t.total,
            )
            for t in teams
        ]

    @api.get("/audit", response_model=list[AuditEntryOut], tags=["supervision"])
    async def audit_log(
        principal: SupervisorDep, request: Request, case_id: uuid.UUID | None = None, actor: str | None = None
    ) -> Any:
        """Append-only; supervisors see their provider's staff and the cases it holds."""
        try:
            entries = await views.audit_entries(principal, uow=uow(request), case_id=case_id, actor=actor)
        except h.CaseNotFound:
            return not_found(request, case_id)
        return [AuditEntryOut.model_validate(e, from_attributes=True) for e in entries]

    # --- administration --------------------------------------------------------------------------------

    def invalid(request: Request, field: str, message: str) -> JSONResponse:
        return problem(request, 422, errors=[{"field": field, "message": message, "type": "invalid"}])

    @api.post("/admin/cases/{case_id}/erase", response_model=ErasureOut, tags=["administration"])
    async def erase_case(case_id: uuid.UUID, principal: AdminDep, request: Request) -> Any:
        """Erase a closed case's personal data now, as the retention purge would (e.g. on request).

        Idempotent: a case erased before answers 200 with ``erased_now: false``. An open case is 409.
        """
        try:
            counts = await h.erase_case_on_request(
                h.EraseCase(case_id, principal), uow=uow(request), today=today()
            )
        except h.CaseNotFound:
            return not_found(request, case_id)
        except CaseRefused as exc:
            return refused(request, exc)
        return ErasureOut(case_id=case_id, erased_now=counts is not None, records=counts or {})

    @api.get("/admin/providers", tags=["administration"])
    async def list_providers(principal: AdminDep, request: Request) -> list[dict[str, Any]]:
        async with uow(request) as u:
            return [p.model_dump() for p in await u.org.providers()]

    @api.put("/admin/providers/{provider_id}", status_code=204, tags=["administration"])
    async def put_provider(
        provider_id: str, body: ProviderIn, principal: AdminDep, request: Request
    ) -> Response:
        unknown = [a for a in body.ags if not catalogue().is_allocation_target(a)]
        if unknown:
            return invalid(request, "ags", f"unknown municipality: {', '.join(unknown)}")
        async with uow(request) as u:
            await u.org.put_provider(ProviderRow(provider_id=provider_id, **body.model_dump()))
            h.audit(u, principal, "admin.put_provider", None, provider_id=provider_id)
            await u.commit()
        return Response(status_code=204)

    @api.get("/admin/teams", tags=["administration"])
    async def list_teams(principal: AdminDep, request: Request) -> list[dict[str, Any]]:
        async with uow(request) as u:
            return [x.model_dump() for x in await u.org.teams()]

    @api.put("/admin/teams/{team_id}", status_code=204, tags=["administration"])
    async def put_team(team_id: str, body: TeamIn, principal: AdminDep, request: Request) -> Response:
        async with uow(request) as u:
            if await u.org.provider(body.provider_id) is None:
                return invalid(request, "provider_id", "unknown provider")
            await u.org.put_team(TeamRow(team_id=team_id, **body.model_dump()))
            h.audit(u, principal, "admin.put_team", None, team_id=team_id)
            await u.commit()
        return Response(status_code=204)

    @api.get("/admin/staff", tags=["administration"])
    async def list_staff(principal: AdminDep, request: Request) -> list[dict[str, Any]]:
        async with uow(request) as u:
            return [s.model_dump() for s in await u.org.staff()]

    @api.put("/admin/staff/{subject}", status_code=204, tags=["administration"])
    async def put_staff(subject: str, body: StaffIn, principal: AdminDep, request: Request) -> Response:
        async with uow(request) as u:
            if body.role != "admin" and (
                body.provider_id is None or await u.org.provider(body.provider_id) is None
            ):
                return invalid(request, "provider_id", "unknown provider")
            if body.team_id is not None:
                team = await u.org.team(body.team_id)
                if team is None or team.provider_id != body.provider_id:
                    return invalid(request, "team_id", "not a team of this provider")
            await u.org.put_member(StaffRow(subject=subject, **body.model_dump()))
            h.audit(u, principal, "admin.put_staff", None, subject=subject)
            await u.commit()
        return Response(status_code=204)

    @api.get("/admin/provider-rules", tags=["administration"])
    async def list_rules(principal: AdminDep, request: Request) -> list[dict[str, str]]:
        async with uow(request) as u:
            return [{"ags": r.ags, "provider_id": r.provider_id} for r in await u.org.rules()]

    @api.put("/admin/provider-rules/{ags}", status_code=204, tags=["administration"])
    async def put_rule(ags: str, body: RuleIn, principal: AdminDep, request: Request) -> Response:
        """Which provider takes new arrivals in ``ags`` (existing cases stay where they are)."""
        if not catalogue().is_allocation_target(ags):
            return invalid(request, "ags", "unknown municipality")
        async with uow(request) as u:
            provider = await u.org.provider(body.provider_id)
            if provider is None or ags not in provider.ags:
                return invalid(request, "provider_id", "provider does not serve this municipality")
            await u.org.put_rule(ags, body.provider_id)
            h.audit(u, principal, "admin.put_rule", None, ags=ags, provider_id=body.provider_id)
            await u.commit()
        return Response(status_code=204)

    @api.delete("/admin/provider-rules/{ags}", status_code=204, tags=["administration"])
    async def delete_rule(ags: str, principal: AdminDep, request: Request) -> Response:
        """Back to the default: the Kreis's provider ``kreis-<kreis_ags>``."""
        async with uow(request) as u:
            if not await u.org.delete_rule(ags):
                return problem(request, 404, f"rule {ags}")
            h.audit(u, principal, "admin.delete_rule", None, ags=ags)
            await u.commit()
        return Response(status_code=204)

    return api
