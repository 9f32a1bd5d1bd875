"""Casework's read side: the caseload, the case page with its timeline, search, team and audit views.

Every read of a case is audited in its own short transaction (who, which case or cases, when).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from wegweiser.casework.db import AuditRow, RecordedConsultation, RecordedGoal, StaffRow, TeamRow
from wegweiser.casework.domain.model import TERMINAL_REFERRAL_STATES, Case, Consent, Referral, TimeLimit
from wegweiser.casework.handlers import (
    CaseNotFound,
    CaseworkUnitOfWork,
    audit,
    goal_description_visible,
    load_case,
    scope_of,
)
from wegweiser.common.auth import Forbidden, Principal

POLL_AUDIT_WINDOW = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class CaseloadFilter:
    view: str = "all"  # mine | team | unassigned | all
    status: str | None = "open"
    ags: str | None = None
    name: str | None = None
    date_of_birth: str | None = None
    warning_only: bool = False


@dataclass
class CaseloadRow:
    case: Case
    time_limit: TimeLimit
    counsellor_name: str | None


@dataclass
class TimelineEntry:
    on: dt.date
    kind: str  # opened | consultation | goal | consent | consent_withdrawn | referral | closed
    item: Any = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass
class CaseView:
    case: Case
    time_limit: TimeLimit
    consultations: list[tuple[RecordedConsultation, bool]]  # (record, note readable)
    goals: list[tuple[RecordedGoal, bool]]  # (record, description visible)
    consents: list[Consent]
    referrals: list[Referral]
    timeline: list[TimelineEntry]
    staff: dict[str, StaffRow]
    teams: list[TeamRow]

    @property
    def referrals_pending(self) -> bool:
        return any(r.status not in TERMINAL_REFERRAL_STATES for r in self.referrals)


def can_read_note(principal: Principal, case: Case, record: RecordedConsultation) -> bool:
    """Restricted notes: only the provider that wrote them; there author, assigned counsellor, supervisors."""
    if record.provider_id != case.provider_id:
        return False
    return (
        principal.subject in (record.recorded_by, case.assignment.counsellor_id)
        or "supervisor" in principal.roles
    )


async def caseload(
    principal: Principal, filters: CaseloadFilter, *, uow: CaseworkUnitOfWork, today: dt.date
) -> list[CaseloadRow]:
    """The caller's caseload within their provider and AGS; one audit entry naming every case shown."""
    async with uow:
        scope = scope_of(principal)
        me = await uow.org.member(principal.subject)
        cases = await uow.cases.visible(
            scope,
            ags=filters.ags,
            status=filters.status or None,
            counsellor_id=principal.subject if filters.view == "mine" else None,
            team_id=(me.team_id or "-none-") if filters.view == "team" and me else None,
            unassigned=filters.view == "unassigned",
            name=filters.name,
            date_of_birth=filters.date_of_birth,
        )
        staff = {s.subject: s for s in await uow.org.staff(principal.provider_id)}
        rows = [
            CaseloadRow(
                c,
                c.time_limit(today=today),
                staff[c.assignment.counsellor_id].display_name
                if c.assignment.counsellor_id in staff
                else c.assignment.counsellor_id,
            )
            for c in cases
        ]
        if filters.warning_only:
            rows = [r for r in rows if r.time_limit.state in ("approaching", "exceeded")]
        action = "search" if filters.name or filters.date_of_birth else "list"
        audit(uow, principal, action, None, case_ids=[r.case.case_id for r in rows], view=filters.view)
        await uow.commit()
    return rows


async def case_view(
    case_id: uuid.UUID, principal: Principal, *, uow: CaseworkUnitOfWork, today: dt.date
) -> CaseView:
    async with uow:
        case = await load_case(uow, case_id, principal)
        consultations = await uow.cases.consultations_of(case.case_id)
        goals = await uow.cases.goals_of(case.case_id)
        consents = await uow.cases.consents_of(case.case_id)
        referrals = await uow.cases.referrals_of(case.case_id)
        staff = {s.subject: s for s in await uow.org.staff(case.provider_id)}
        teams = await uow.org.teams(case.provider_id)
        audit(uow, principal, "read", case)
        await uow.commit()
    consultation_rows = sorted(
        ((c, can_read_note(principal, case, c)) for c in consultations),
        key=lambda x: (x[0].consultation.held_on, x[0].recorded_at),
        reverse=True,
    )
    goal_rows = sorted(
        ((g, goal_description_visible(g.goal, goal_provider=g.provider_id, case=case)) for g in goals),
        key=lambda x: (x[0].goal.set_on, x[0].recorded_at),
        reverse=True,
    )
    timeline = [TimelineEntry(case.opened_on, "opened")]
    timeline += [
        TimelineEntry(c.consultation.held_on, "consultation", c, {"readable": r})
        for c, r in consultation_rows
    ]
    timeline += [TimelineEntry(g.goal.set_on, "goal", g, {"visible": v}) for g, v in goal_rows]
    for consent in consents:
        timeline.append(TimelineEntry(consent.granted_on, "consent", consent))
        if consent.withdrawn_on:
            timeline.append(TimelineEntry(consent.withdrawn_on, "consent_withdrawn", consent))
    timeline += [TimelineEntry(r.requested_on, "referral", r) for r in referrals]
    if case.closed_on:
        timeline.append(TimelineEntry(case.closed_on, "closed"))
    order = {"closed": 0, "referral": 1, "consent_withdrawn": 2, "consent": 3, "goal": 4, "consultation": 5}
    timeline.sort(key=lambda e: (e.on, -order.get(e.kind, 9)), reverse=True)
    return CaseView(
        case=case,
        time_limit=case.time_limit(today=today),
        consultations=consultation_rows,
        goals=goal_rows,
        consents=sorted(consents, key=lambda c: c.granted_on, reverse=True),
        referrals=sorted(referrals, key=lambda r: r.requested_on, reverse=True),
        timeline=timeline,
        staff=staff,
        teams=teams,
    )


async def referral_statuses(
    case_id: uuid.UUID, principal: Principal, *, uow: CaseworkUnitOfWork
) -> tuple[Case, list[Referral]]:
    """For the case page's live status; audited at most once per five minutes per reader and case."""
    async with uow:
        case = await load_case(uow, case_id, principal)
        referrals = await uow.cases.referrals_of(case.case_id)
        since = dt.datetime.now(dt.UTC) - POLL_AUDIT_WINDOW
        if not await uow.audit.recent_read(
            actor=principal.subject, case_id=case.case_id, action="read_referrals", since=since
        ):
            audit(uow, principal, "read_referrals", case)
            await uow.commit()
    return case, sorted(referrals, key=lambda r: r.requested_on, reverse=True)


@dataclass
class TeamCaseload:
    team: TeamRow | None
    members: list[tuple[StaffRow | None, str | None, int]]  # (member, counsellor id, open cases)

    @property
    def total(self) -> int:
        return sum(n for _, _, n in self.members)


async def team_caseloads(principal: Principal, *, uow: CaseworkUnitOfWork) -> list[TeamCaseload]:
    """Open cases per team and counsellor of the supervisor's provider (counts only, no names of clients)."""
    require_supervisor(principal)
    async with uow:
        counts = await uow.cases.counts_by_counsellor(scope_of(principal))
        teams = await uow.org.teams(principal.provider_id)
        staff = {s.subject: s for s in await uow.org.staff(principal.provider_id)}
        audit(uow, principal, "read_team_caseloads", None)
        await uow.commit()
    result: list[TeamCaseload] = []
    by_team: dict[str | None, dict[str | None, int]] = {}
    for (team_id, counsellor_id), n in counts.items():
        if team_id is None and counsellor_id in staff:
            team_id = staff[counsellor_id].team_id  # shown under the counsellor's own team
        by_team.setdefault(team_id, {})
        by_team[team_id][counsellor_id] = by_team[team_id].get(counsellor_id, 0) + n
    for team in teams:
        members = [s for s in staff.values() if s.team_id == team.team_id and s.role == "counsellor"]
        found = by_team.pop(team.team_id, {})
        rows: list[tuple[StaffRow | None, str | None, int]] = [
            (m, m.subject, found.pop(m.subject, 0)) for m in members
        ]
        rows += [(staff.get(c) if c else None, c, n) for c, n in found.items()]
        result.append(TeamCaseload(team, rows))
    rest = [(staff.get(c) if c else None, c, n) for t in by_team.values() for c, n in t.items()]
    if rest:
        result.append(TeamCaseload(None, rest))
    return result


async def audit_entries(
    principal: Principal,
    *,
    uow: CaseworkUnitOfWork,
    case_id: uuid.UUID | None = None,
    actor: str | None = None,
) -> list[AuditRow]:
    """The audit log as a supervisor may see it: their provider's staff, and the cases it now holds."""
    require_supervisor(principal)
    async with uow:
        if case_id is not None:
            case = await uow.cases.get(case_id, scope_of(principal))
            if case is None:
                raise CaseNotFound(str(case_id))
            case_ids = [case.case_id]
        else:
            case_ids = [
                c.case_id for c in await uow.cases.visible(scope_of(principal), status=None, limit=1000)
            ]
        entries = await uow.audit.entries(
            provider_id=principal.provider_id or "", case_ids=case_ids, actor=actor
        )
        if case_id is not None:
            entries = [e for e in entries if e.case_id == case_id]
        audit(uow, principal, "read_audit", None, case_id_filter=case_id, actor_filter=actor)
        await uow.commit()
    return entries


def require_supervisor(principal: Principal) -> None:
    if "supervisor" not in principal.roles or principal.provider_id is None:
        raise Forbidden("requires the role supervisor", de="erfordert die Rolle supervisor (Leitung)")
