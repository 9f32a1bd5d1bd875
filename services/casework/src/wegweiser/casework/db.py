"""Casework's tables (adapter side) and repositories that map rows to domain objects.

Every case query takes the caller's provider and AGS scope; there is no "get any case" path for the
web UI or API (consumers, acting for the system, use ``for_system``). The audit log has an append path
only, and the database refuses UPDATE and DELETE on it (triggers created with the table).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    String,
    Text,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import object_mapper, registry
from sqlmodel import Field, SQLModel, col

from wegweiser.casework.domain.model import (
    Assignment,
    Case,
    CasePerson,
    Consent,
    Consultation,
    Goal,
    Referral,
)
from wegweiser.common import names
from wegweiser.common.db import utcnow
from wegweiser.common.envelope import trace_context
from wegweiser.common.partner_areas import PartnerArea, place_of
from wegweiser.common.personal_data import PersonKeyColumns


class CaseworkTable(SQLModel, registry=registry()):
    pass


RowT = TypeVar("RowT", bound=CaseworkTable)


# --- organisation -----------------------------------------------------------------------------------


class ProviderRow(CaseworkTable, table=True):
    """A provider organisation (Träger) and the municipalities it serves."""

    __tablename__ = "providers"

    provider_id: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=30)  # municipality | landratsamt | welfare
    ags: list[str] = Field(sa_column=Column(JSON, nullable=False))


class TeamRow(CaseworkTable, table=True):
    __tablename__ = "teams"

    team_id: str = Field(primary_key=True, max_length=100)
    provider_id: str = Field(index=True, max_length=100)
    name: str = Field(max_length=300)


class StaffRow(CaseworkTable, table=True):
    """Counsellors and supervisors; ``subject`` is the ``sub`` of their OIDC token."""

    __tablename__ = "staff"

    subject: str = Field(primary_key=True, max_length=200)
    display_name: str = Field(max_length=300)
    role: str = Field(max_length=30)  # counsellor | supervisor | admin
    provider_id: str | None = Field(default=None, index=True, max_length=100)
    team_id: str | None = Field(default=None, max_length=100)
    active: bool = True


class ProviderRuleRow(CaseworkTable, table=True):
    """Which provider takes new arrivals in an AGS (editable by an admin)."""

    __tablename__ = "provider_rules"

    ags: str = Field(primary_key=True, max_length=12)
    provider_id: str = Field(max_length=100)


# --- cases --------------------------------------------------------------------------------------------


class CaseRow(CaseworkTable, table=True):
    __tablename__ = "cases"

    case_id: uuid.UUID = Field(primary_key=True)
    ags: str = Field(index=True, max_length=12)
    provider_id: str = Field(index=True, max_length=100)
    arrival_id: uuid.UUID | None = Field(default=None, unique=True)
    walk_in: bool = False
    opened_on: dt.date
    status: str = Field(max_length=20)
    persons: list[dict[str, Any]] = Field(sa_column=Column(JSON, nullable=False))
    counsellor_id: str | None = Field(default=None, index=True, max_length=200)
    team_id: str | None = Field(default=None, index=True, max_length=100)
    closed_on: dt.date | None = None
    closure_reason: str | None = Field(default=None, max_length=30)
    extension_justification: str | None = Field(default=None, sa_column=Column(Text))
    notes_from_provider: str | None = Field(default=None, max_length=100)
    # Folded names (`names.fold`) and dates of birth of the household, for search within one provider.
    search_names: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    search_dobs: str = Field(default="", sa_column=Column(String(400), nullable=False, server_default=""))
    # The W3C traceparent of the span that opened the case (an arrival's flow, or the request of a
    # walk-in): a referral requested later links its own trace to it (`envelope.link_to`).
    opened_trace: str | None = Field(default=None, max_length=55)


class ConsultationRow(CaseworkTable, table=True):
    __tablename__ = "consultations"

    consultation_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.case_id", index=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    provider_id: str = Field(default="", max_length=100)  # whose note it is (controller)
    recorded_by: str = Field(max_length=200)
    recorded_at: dt.datetime = Field(default_factory=utcnow)


class GoalRow(CaseworkTable, table=True):
    __tablename__ = "goals"

    goal_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.case_id", index=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    provider_id: str = Field(max_length=100)
    recorded_by: str = Field(max_length=200)
    recorded_at: dt.datetime = Field(default_factory=utcnow)


class ConsentRow(CaseworkTable, table=True):
    __tablename__ = "consents"

    consent_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.case_id", index=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recorded_by: str = Field(max_length=200)
    recorded_at: dt.datetime = Field(default_factory=utcnow)


class ReferralRow(CaseworkTable, table=True):
    __tablename__ = "referrals"

    referral_id: uuid.UUID = Field(primary_key=True)
    case_id: uuid.UUID = Field(foreign_key="cases.case_id", index=True)
    data: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    recorded_by: str = Field(max_length=200)
    recorded_at: dt.datetime = Field(default_factory=utcnow)


class PersonKeyRow(CaseworkTable, PersonKeyColumns, table=True):
    """The data keys of personal fields sealed on Kafka (``wegweiser.common.personal_data``)."""

    __tablename__ = "person_keys"


class AuditRow(CaseworkTable, table=True):
    """Who read or changed which case, when (docs/architecture.md). Append-only: the database refuses UPDATE
    and DELETE through triggers that the migrations create (autogenerate does not see triggers)."""

    __tablename__ = "audit_log"

    id: int | None = Field(
        default=None, sa_column=Column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    )
    at: dt.datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=200)
    actor_role: str = Field(max_length=60)
    provider_id: str | None = Field(default=None, index=True, max_length=100)
    case_id: uuid.UUID | None = Field(default=None, index=True)
    action: str = Field(max_length=60)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class IdempotencyRow(CaseworkTable, table=True):
    """A change already made for an ``Idempotency-Key`` or a web form's one-time token, and its answer.

    Written in the transaction of the change, with its answer (``status_code`` 0: a form's page that
    is not a redirect, which a repeat waits out as pending).
    """

    __tablename__ = "idempotency_keys"

    owner: str = Field(primary_key=True, max_length=300)
    key: str = Field(primary_key=True, max_length=200)
    request_hash: str = Field(max_length=64)
    status_code: int = 0
    body: bytes = Field(default=b"", sa_column=Column(LargeBinary, nullable=False))
    created_at: dt.datetime = Field(default_factory=utcnow, index=True)


# --- catalogue (from referrals' compacted topic) -----------------------------------------------------


class ProgrammeRow(CaseworkTable, table=True):
    __tablename__ = "catalogue_programmes"

    code: str = Field(primary_key=True, max_length=60)
    name_de: str = Field(max_length=300)
    name_en: str = Field(max_length=300)
    person_fields: list[str] = Field(sa_column=Column(JSON, nullable=False))
    required_fields: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    published_at: dt.datetime | None = None


class PartnerRow(CaseworkTable, table=True):
    __tablename__ = "catalogue_partners"

    partner_id: str = Field(primary_key=True, max_length=100)
    name: str = Field(max_length=300)
    programmes: list[str] = Field(sa_column=Column(JSON, nullable=False))
    ags: list[str] = Field(sa_column=Column(JSON, nullable=False))
    kreise: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    laender: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    active: bool = True
    published_at: dt.datetime | None = None

    def serves(self, ags: str) -> bool:
        """The shared rule: named municipality, its Kreis or its Land; nothing named: everywhere."""
        return PartnerArea(self.ags, self.kreise, self.laender).serves(place_of(ags))


# --- repositories ------------------------------------------------------------------------------------


class Scope:
    """The caller's reach: one provider, a set of AGS. Cases outside it do not exist for the caller."""

    def __init__(self, *, provider_id: str | None, ags: Iterable[str]) -> None:
        self.provider_id = provider_id
        self.ags = frozenset(ags)

    def covers(self, case: Case) -> bool:
        return self.provider_id is not None and case.provider_id == self.provider_id and case.ags in self.ags


class CaseRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, case: Case) -> None:
        row = _row(case)
        row.opened_trace = trace_context().get("traceparent")
        self.session.add(row)

    async def save(self, case: Case) -> None:
        row = await self.session.get(CaseRow, case.case_id)
        if row is None:
            self.add(case)
            return
        for key, value in _row(case).model_dump(exclude={"opened_trace"}).items():
            setattr(row, key, value)

    async def opened_trace(self, case_id: uuid.UUID) -> str | None:
        """The traceparent of the flow that opened the case (None for cases from before it was kept)."""
        return (
            await self.session.execute(
                select(col(CaseRow.opened_trace)).where(col(CaseRow.case_id) == case_id)
            )
        ).scalar_one_or_none()

    async def get(self, case_id: uuid.UUID, scope: Scope) -> Case | None:
        """The case if it lies within ``scope``; otherwise None, exactly as if it did not exist.

        An erased case is a tombstone for the system only: for people it no longer exists.
        """
        case = await self.for_system(case_id)
        return case if case is not None and case.status != "erased" and scope.covers(case) else None

    async def for_system(self, case_id: uuid.UUID) -> Case | None:
        """Unscoped read for consumers acting on events (no person behind it)."""
        row = await self.session.get(CaseRow, case_id)
        return _case(row) if row else None

    async def by_arrival(self, arrival_id: uuid.UUID) -> Case | None:
        row = (
            await self.session.execute(select(CaseRow).where(col(CaseRow.arrival_id) == arrival_id))
        ).scalar_one_or_none()
        return _case(row) if row else None

    async def visible(
        self,
        scope: Scope,
        *,
        ags: str | None = None,
        status: str | None = None,
        counsellor_id: str | None = None,
        team_id: str | None = None,
        unassigned: bool = False,
        name: str | None = None,
        date_of_birth: str | None = None,
        limit: int = 200,
    ) -> list[Case]:
        """Cases of the scope's provider in its AGS, newest first, narrowed by the given filters."""
        if scope.provider_id is None or not scope.ags:
            return []
        query = (
            select(CaseRow)
            .where(
                col(CaseRow.provider_id) == scope.provider_id,
                col(CaseRow.ags).in_(scope.ags),
                col(CaseRow.status) != "erased",
            )
            .order_by(col(CaseRow.opened_on).desc(), col(CaseRow.case_id))
            .limit(limit)
        )
        if ags:
            query = query.where(col(CaseRow.ags) == ags)
        if status:
            query = query.where(col(CaseRow.status) == status)
        if counsellor_id:
            query = query.where(col(CaseRow.counsellor_id) == counsellor_id)
        if team_id:
            query = query.where(col(CaseRow.team_id) == team_id)
        if unassigned:
            query = query.where(col(CaseRow.counsellor_id).is_(None), col(CaseRow.team_id).is_(None))
        for word in names.fold(name or "").split():
            query = query.where(col(CaseRow.search_names).contains(word, autoescape=True))
        if date_of_birth:
            query = query.where(col(CaseRow.search_dobs).contains(date_of_birth, autoescape=True))
        return [_case(r) for r in (await self.session.execute(query)).scalars()]

    async def open_by_provider(self) -> dict[str, int]:
        """Open cases per provider (the development login puts users with cases to look at first)."""
        query = (
            select(col(CaseRow.provider_id), func.count())
            .where(col(CaseRow.status) == "open")
            .group_by(col(CaseRow.provider_id))
        )
        return {provider: int(n) for provider, n in (await self.session.execute(query)).all()}

    async def counts_by_counsellor(self, scope: Scope) -> dict[tuple[str | None, str | None], int]:
        """Open cases per (team, counsellor) of one provider, for the supervisor's team view."""
        if scope.provider_id is None:
            return {}
        query = (
            select(col(CaseRow.team_id), col(CaseRow.counsellor_id), func.count())
            .where(
                col(CaseRow.provider_id) == scope.provider_id,
                col(CaseRow.ags).in_(scope.ags),
                col(CaseRow.status) == "open",
            )
            .group_by(col(CaseRow.team_id), col(CaseRow.counsellor_id))
        )
        return {(t, c): n for t, c, n in (await self.session.execute(query)).all()}

    # retention ---------------------------------------------------------------------------------------

    async def closed_on_or_before(self, latest: dt.date, *, limit: int) -> list[uuid.UUID]:
        """Closed (not yet erased) cases whose closure date is ``latest`` or earlier, oldest first."""
        query = (
            select(col(CaseRow.case_id))
            .where(col(CaseRow.status) == "closed", col(CaseRow.closed_on) <= latest)
            .order_by(col(CaseRow.closed_on), col(CaseRow.case_id))
            .limit(limit)
        )
        return list((await self.session.execute(query)).scalars())

    async def mark_erased(self, tombstone: Case) -> bool:
        """Overwrite the row with the tombstone unless it is erased already; True for exactly one caller.

        The condition on the status makes concurrent purges (replicas, the CLI) harmless: PostgreSQL
        re-checks it after the first one's commit, so the second updates nothing and stops there.
        """
        values = _row(tombstone).model_dump(exclude={"case_id"})
        result = await self.session.execute(
            update(CaseRow)
            .where(col(CaseRow.case_id) == tombstone.case_id, col(CaseRow.status) != "erased")
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def delete_records_of(self, case_id: uuid.UUID) -> dict[str, int]:
        """Delete the case's notes, plan, consents and referrals; returns how many of each."""
        counts = {}
        for name, table in (
            ("consultations", ConsultationRow),
            ("goals", GoalRow),
            ("consents", ConsentRow),
            ("referrals", ReferralRow),
        ):
            result = await self.session.execute(
                delete(table)
                .where(col(table.case_id) == case_id)
                .execution_options(synchronize_session=False)
            )
            counts[name] = int(getattr(result, "rowcount", 0) or 0)
        return counts

    # consultations, goals, consents, referrals ---------------------------------------------------------

    def add_consultation(
        self, case_id: uuid.UUID, consultation: Consultation, *, recorded_by: str, provider_id: str = ""
    ) -> None:
        self.session.add(
            ConsultationRow(
                consultation_id=consultation.consultation_id,
                case_id=case_id,
                data=consultation.model_dump(mode="json"),
                provider_id=provider_id,
                recorded_by=recorded_by,
            )
        )

    async def consultation(self, consultation_id: uuid.UUID) -> tuple[uuid.UUID, Consultation] | None:
        """The case a consultation id belongs to and the consultation, if it was recorded (of any case)."""
        row = await self.session.get(ConsultationRow, consultation_id)
        return (row.case_id, Consultation.model_validate(row.data)) if row else None

    async def consultations_of(self, case_id: uuid.UUID) -> list[RecordedConsultation]:
        query = select(ConsultationRow).where(col(ConsultationRow.case_id) == case_id)
        return [
            RecordedConsultation(
                Consultation.model_validate(r.data), r.provider_id, r.recorded_by, r.recorded_at
            )
            for r in (await self.session.execute(query)).scalars()
        ]

    async def save_goal(self, case_id: uuid.UUID, goal: Goal, *, recorded_by: str, provider_id: str) -> None:
        row = await self.session.get(GoalRow, goal.goal_id)
        if row is None:
            self.session.add(
                GoalRow(
                    goal_id=goal.goal_id,
                    case_id=case_id,
                    data=goal.model_dump(mode="json"),
                    provider_id=provider_id,
                    recorded_by=recorded_by,
                )
            )
        else:
            row.data = goal.model_dump(mode="json")

    async def goals_of(self, case_id: uuid.UUID) -> list[RecordedGoal]:
        query = select(GoalRow).where(col(GoalRow.case_id) == case_id)
        return [
            RecordedGoal(Goal.model_validate(r.data), r.provider_id, r.recorded_by, r.recorded_at)
            for r in (await self.session.execute(query)).scalars()
        ]

    async def save_consent(self, case_id: uuid.UUID, consent: Consent, *, recorded_by: str) -> None:
        row = await self.session.get(ConsentRow, consent.consent_id)
        if row is None:
            self.session.add(
                ConsentRow(
                    consent_id=consent.consent_id,
                    case_id=case_id,
                    data=consent.model_dump(mode="json"),
                    recorded_by=recorded_by,
                )
            )
        else:
            row.data = consent.model_dump(mode="json")

    async def consent(self, consent_id: uuid.UUID) -> tuple[uuid.UUID, Consent] | None:
        """The case a consent id belongs to and the consent as it stands, if it was recorded (any case)."""
        row = await self.session.get(ConsentRow, consent_id)
        return (row.case_id, Consent.model_validate(row.data)) if row else None

    async def consents_of(self, case_id: uuid.UUID) -> list[Consent]:
        query = select(ConsentRow).where(col(ConsentRow.case_id) == case_id)
        return [Consent.model_validate(r.data) for r in (await self.session.execute(query)).scalars()]

    async def save_referral(self, case_id: uuid.UUID, referral: Referral, *, recorded_by: str) -> None:
        row = await self.session.get(ReferralRow, referral.referral_id)
        if row is None:
            self.session.add(
                ReferralRow(
                    referral_id=referral.referral_id,
                    case_id=case_id,
                    data=referral.model_dump(mode="json"),
                    recorded_by=recorded_by,
                )
            )
        else:
            row.data = referral.model_dump(mode="json")

    async def referrals_of(self, case_id: uuid.UUID) -> list[Referral]:
        query = select(ReferralRow).where(col(ReferralRow.case_id) == case_id)
        return [Referral.model_validate(r.data) for r in (await self.session.execute(query)).scalars()]

    async def referral(self, referral_id: uuid.UUID) -> Referral | None:
        row = await self.session.get(ReferralRow, referral_id)
        return Referral.model_validate(row.data) if row else None

    async def hand_over_notes(self, case_id: uuid.UUID, *, to_provider: str) -> None:
        """With consent, the new provider becomes controller of the notes and Art. 9 texts too."""
        for table in (ConsultationRow, GoalRow):
            await self.session.execute(
                update(table).where(col(table.case_id) == case_id).values(provider_id=to_provider)
            )


class RecordedConsultation:
    def __init__(
        self, consultation: Consultation, provider_id: str, recorded_by: str, recorded_at: dt.datetime
    ) -> None:
        self.consultation = consultation
        self.provider_id = provider_id
        self.recorded_by = recorded_by
        self.recorded_at = recorded_at


class RecordedGoal:
    def __init__(self, goal: Goal, provider_id: str, recorded_by: str, recorded_at: dt.datetime) -> None:
        self.goal = goal
        self.provider_id = provider_id
        self.recorded_by = recorded_by
        self.recorded_at = recorded_at


class OrgRepository:
    """Providers, teams, staff and the per-AGS provider rule."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def provider_for(self, ags: str) -> str | None:
        rule = await self.session.get(ProviderRuleRow, ags)
        return rule.provider_id if rule else None

    async def providers(self) -> list[ProviderRow]:
        return _detached(
            self.session,
            list((await self.session.execute(select(ProviderRow).order_by(ProviderRow.name))).scalars()),
        )

    async def provider(self, provider_id: str) -> ProviderRow | None:
        return _one(self.session, await self.session.get(ProviderRow, provider_id))

    async def put_provider(self, row: ProviderRow) -> None:
        await self.session.merge(row)

    async def teams(self, provider_id: str | None = None) -> list[TeamRow]:
        query = select(TeamRow).order_by(TeamRow.name)
        if provider_id is not None:
            query = query.where(col(TeamRow.provider_id) == provider_id)
        return _detached(self.session, list((await self.session.execute(query)).scalars()))

    async def team(self, team_id: str) -> TeamRow | None:
        return _one(self.session, await self.session.get(TeamRow, team_id))

    async def put_team(self, row: TeamRow) -> None:
        await self.session.merge(row)

    async def staff(self, provider_id: str | None = None, *, roles: Sequence[str] = ()) -> list[StaffRow]:
        query = select(StaffRow).order_by(StaffRow.provider_id, StaffRow.role, StaffRow.display_name)
        if provider_id is not None:
            query = query.where(col(StaffRow.provider_id) == provider_id)
        if roles:
            query = query.where(col(StaffRow.role).in_(roles))
        return _detached(self.session, list((await self.session.execute(query)).scalars()))

    async def member(self, subject: str) -> StaffRow | None:
        return _one(self.session, await self.session.get(StaffRow, subject))

    async def put_member(self, row: StaffRow) -> None:
        await self.session.merge(row)

    async def rules(self) -> list[ProviderRuleRow]:
        query = select(ProviderRuleRow).order_by(ProviderRuleRow.ags)
        return _detached(self.session, list((await self.session.execute(query)).scalars()))

    async def put_rule(self, ags: str, provider_id: str) -> None:
        await self.session.merge(ProviderRuleRow(ags=ags, provider_id=provider_id))

    async def delete_rule(self, ags: str) -> bool:
        rule = await self.session.get(ProviderRuleRow, ags)
        if rule is None:
            return False
        await self.session.delete(rule)
        return True

    async def is_empty(self) -> bool:
        return (await self.session.execute(select(func.count()).select_from(ProviderRow))).scalar_one() == 0


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """What a request under a key was answered with; ``status_code`` 0 while it still runs."""

    request_hash: str
    status_code: int
    body: bytes


class AnswerLog:
    """Changes made once per key (``IdempotencyRow``): what a repeated request is answered with."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, owner: str, key: str) -> StoredAnswer | None:
        row = await self.session.get(IdempotencyRow, (owner, key))
        return StoredAnswer(row.request_hash, row.status_code, row.body) if row else None

    def add(self, row: IdempotencyRow) -> None:
        self.session.add(row)


@dataclass(frozen=True, slots=True)
class AuditActor:
    """Who an audit entry names: a person (token subject and role) or the system, and for which provider."""

    subject: str
    role: str
    provider_id: str | None


class AuditLog:
    """Append and read; there is deliberately no update or delete."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def append(
        self,
        *,
        by: AuditActor,
        action: str,
        case_id: uuid.UUID | None = None,
        **detail: Any,
    ) -> None:
        self.session.add(
            AuditRow(
                actor=by.subject,
                actor_role=by.role,
                provider_id=by.provider_id,
                case_id=case_id,
                action=action,
                detail={k: _jsonable(v) for k, v in detail.items()},
            )
        )

    async def recent_read(self, *, actor: str, case_id: uuid.UUID, action: str, since: dt.datetime) -> bool:
        query = (
            select(func.count())
            .select_from(AuditRow)
            .where(
                col(AuditRow.actor) == actor,
                col(AuditRow.case_id) == case_id,
                col(AuditRow.action) == action,
                col(AuditRow.at) >= since,
            )
        )
        return (await self.session.execute(query)).scalar_one() > 0

    async def entries(
        self,
        *,
        provider_id: str,
        case_ids: Sequence[uuid.UUID] | None = None,
        actor: str | None = None,
        limit: int = 200,
    ) -> list[AuditRow]:
        """Entries made by the provider's staff, or about cases the provider holds now."""
        condition = col(AuditRow.provider_id) == provider_id
        if case_ids:
            condition = or_(condition, col(AuditRow.case_id).in_(case_ids))
        query = select(AuditRow).where(condition).order_by(col(AuditRow.id).desc()).limit(limit)
        if actor:
            query = query.where(col(AuditRow.actor) == actor)
        return _detached(self.session, list((await self.session.execute(query)).scalars()))


CatalogueRowT = TypeVar("CatalogueRowT", ProgrammeRow, PartnerRow)


class CatalogueRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def programmes(self) -> list[ProgrammeRow]:
        query = select(ProgrammeRow).where(col(ProgrammeRow.active)).order_by(ProgrammeRow.code)
        return _detached(self.session, list((await self.session.execute(query)).scalars()))

    async def programme(self, code: str) -> ProgrammeRow | None:
        return _one(self.session, await self.session.get(ProgrammeRow, code))

    async def partners(self) -> list[PartnerRow]:
        query = select(PartnerRow).where(col(PartnerRow.active)).order_by(PartnerRow.name)
        return _detached(self.session, list((await self.session.execute(query)).scalars()))

    async def partner(self, partner_id: str) -> PartnerRow | None:
        return _one(self.session, await self.session.get(PartnerRow, partner_id))

    async def put_latest(self, row: CatalogueRowT) -> None:
        """Store ``row`` unless the stored version was published later: latest wins, since the compacted
        topic may replay older versions after a rebalance."""
        stored = await self.session.get(type(row), object_mapper(row).primary_key_from_instance(row))
        if stored is not None and _published_later(stored, row):
            return
        await self.session.merge(row)


def _published_later(stored: CatalogueRowT, row: CatalogueRowT) -> bool:
    return (
        stored.published_at is not None
        and row.published_at is not None
        and stored.published_at > row.published_at
    )


def _detached(session: AsyncSession, rows: list[RowT]) -> list[RowT]:
    """Rows outlive the unit of work (its rollback on exit would expire them): take them out of it."""
    for row in rows:
        session.expunge(row)
    return rows


def _one(session: AsyncSession, row: RowT | None) -> RowT | None:
    if row is not None:
        session.expunge(row)
    return row


def _jsonable(value: object) -> object:
    if isinstance(value, uuid.UUID | dt.date):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    return value


# The columns that hold a ``Case`` field as it is; persons and assignment are stored differently.
_CASE_FIELD_COLUMNS: set[str] = {
    "case_id",
    "ags",
    "provider_id",
    "arrival_id",
    "walk_in",
    "opened_on",
    "status",
    "closed_on",
    "closure_reason",
    "extension_justification",
    "notes_from_provider",
}


def _row(case: Case) -> CaseRow:
    return CaseRow(
        **case.model_dump(include=_CASE_FIELD_COLUMNS),
        persons=[p.model_dump(mode="json") for p in case.persons],
        counsellor_id=case.assignment.counsellor_id,
        team_id=case.assignment.team_id,
        search_names=search_names(case.persons),
        search_dobs=" | ".join(p.date_of_birth or "" for p in case.persons),
    )


def search_names(persons: Iterable[CasePerson]) -> str:
    """What name search compares: each person's folded name, so "Yilmaz" finds "Yılmaz"."""
    return " | ".join(names.fold(f"{p.family_name} {p.given_names}") for p in persons)


def _case(row: CaseRow) -> Case:
    return Case(
        **row.model_dump(include=_CASE_FIELD_COLUMNS),
        persons=tuple(CasePerson.model_validate(p) for p in row.persons),
        assignment=Assignment(counsellor_id=row.counsellor_id, team_id=row.team_id),
    )
