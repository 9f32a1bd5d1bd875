"""Casework's handlers: plain functions taking a command or event and their unit of work.

Every command carries the caller (``Principal``); a case outside the caller's provider and AGS raises
``CaseNotFound`` exactly like an unknown id. Every change writes an audit entry in the same transaction
as the change and its outgoing events.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from types import TracebackType
from typing import Literal, Self

from sqlalchemy.exc import IntegrityError

from wegweiser.casework.db import (
    AnswerLog,
    AuditActor,
    AuditLog,
    CaseRepository,
    CatalogueRepository,
    IdempotencyRow,
    OrgRepository,
    PartnerRow,
    PersonKeyRow,
    ProgrammeRow,
    Scope,
)
from wegweiser.casework.domain.model import (
    ART9_FIELDS,
    GOAL_TRANSITIONS,
    Assignment,
    Case,
    CasePerson,
    CaseRefused,
    Consent,
    Consultation,
    Goal,
    Referral,
    check_referral,
    default_provider,
    notes_may_follow,
    refusal_naming,
)
from wegweiser.casework.programmes import person_fields_for
from wegweiser.common import events
from wegweiser.common.auth import Principal
from wegweiser.common.db import UnitOfWork
from wegweiser.common.envelope import Envelope, link_to
from wegweiser.common.events import ClosureReason, GoalStatus, Programme
from wegweiser.common.key_copies import shred_person_keys
from wegweiser.common.pseudonyms import pseudonym
from wegweiser.common.regions import kreis_of

SYSTEM = "system"
INTAKE = AuditActor(SYSTEM, "intake", None)


class CaseworkUnitOfWork(UnitOfWork):
    person_key_table = PersonKeyRow
    seals_as = "casework"
    claim: IdempotencyRow | None = None
    """Set by ``idempotency.once``: recorded in the next commit, the one of the change it guards. That
    commit is held open until ``settle`` writes the answer beside the key, so the change, its key and
    its answer commit together: a crash between them can no longer leave a key answered "in progress"."""
    _held: bool = False

    @property
    def answers(self) -> AnswerLog:
        return AnswerLog(self.session)

    async def commit(self) -> None:
        if self.claim is None:
            await super().commit()
            return
        self.session.add(self.claim)
        self.claim = None
        await self.outbox.flush()
        await self.session.flush()  # a concurrent request with the same key fails here, on the key
        self._held = True

    async def __aenter__(self) -> Self:
        if self._held:
            raise RuntimeError("a change under an idempotency key is held: settle or release it first")
        return await super().__aenter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if not self._held:  # a held change waits for ``settle`` or ``release``
            await super().__aexit__(exc_type, exc, tb)

    async def settle(self, claim: IdempotencyRow, status_code: int, body: bytes) -> None:
        """Commit the held change with its answer (nothing to do when the change made no commit)."""
        if not self._held:
            return
        claim.status_code, claim.body = status_code, body
        self._held = False
        try:
            await super().commit()
        finally:
            await self.session.close()

    async def release(self) -> None:
        """Drop a held change that got no answer: the request failed after its change."""
        if self._held:
            self._held = False
            await super().__aexit__(None, None, None)

    @property
    def cases(self) -> CaseRepository:
        return CaseRepository(self.session)

    @property
    def org(self) -> OrgRepository:
        return OrgRepository(self.session)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.session)

    @property
    def catalogue(self) -> CatalogueRepository:
        return CatalogueRepository(self.session)


class CaseNotFound(LookupError):
    """Unknown, or belongs to another provider or AGS: both answer 404 so existence does not leak."""


def scope_of(principal: Principal) -> Scope:
    """Scope is provider AND municipality from the token, for every role (docs/architecture.md)."""
    return Scope(provider_id=principal.provider_id, ags=principal.ags)


def may_access(principal: Principal, case: Case) -> bool:
    return scope_of(principal).covers(case)


def role_of(principal: Principal) -> str:
    for role in ("supervisor", "counsellor", "admin"):
        if role in principal.roles:
            return role
    return ",".join(sorted(principal.roles)) or "none"


async def load_case(uow: CaseworkUnitOfWork, case_id: uuid.UUID, principal: Principal) -> Case:
    case = await uow.cases.get(case_id, scope_of(principal))
    if case is None:
        raise CaseNotFound(str(case_id))
    return case


def actor_of(principal: Principal) -> AuditActor:
    return AuditActor(principal.subject, role_of(principal), principal.provider_id)


def audit(
    uow: CaseworkUnitOfWork, principal: Principal, action: str, case: Case | None, **detail: object
) -> None:
    uow.audit.append(
        by=actor_of(principal),
        case_id=case.case_id if case else None,
        action=action,
        **detail,
    )


def _pseudonyms(case: Case, key: str, person_ids: tuple[uuid.UUID, ...] | None = None) -> tuple[str, ...]:
    ids = person_ids if person_ids is not None else tuple(p.person_id for p in case.persons)
    return tuple(pseudonym(i, key) for i in ids)


def _person(p: events.ArrivedPerson) -> CasePerson:
    """The fields casework keeps, by name; what intake does not know (the address) counsellors add."""
    return CasePerson.model_validate(p, from_attributes=True)


def _audit_intake_change(
    uow: CaseworkUnitOfWork, case: Case, action: str, envelope: Envelope, **detail: object
) -> None:
    """No person acted: intake's event did, and its id (``source``) says which one."""
    uow.audit.append(by=INTAKE, case_id=case.case_id, action=action, **detail, source=envelope.id)


# --- consumers of intake's arrivals --------------------------------------------------------------------


async def responsible_provider(uow: CaseworkUnitOfWork, ags: str) -> str:
    """The admin's rule for the AGS, else the Kreis's default provider."""
    return await uow.org.provider_for(ags) or default_provider(kreis_of(ags))


async def open_case_for_arrival(
    event: events.ArrivalRegistered, envelope: Envelope, uow: CaseworkUnitOfWork, *, pseudonym_key: str
) -> None:
    """One case per household, given to the provider responsible for the target municipality."""
    if await uow.cases.by_arrival(event.arrival_id) is not None:
        return
    case = Case(
        case_id=uuid.uuid4(),
        ags=event.ags,
        provider_id=await responsible_provider(uow, event.ags),
        arrival_id=event.arrival_id,
        opened_on=event.allocation_date,
        persons=tuple(_person(p) for p in event.persons),
    )
    uow.cases.add(case)
    _audit_intake_change(uow, case, "open", envelope)
    uow.publish(_case_opened(case, pseudonym_key, allocation_date=event.allocation_date))


def _case_opened(
    case: Case, pseudonym_key: str, *, allocation_date: dt.date | None = None
) -> events.CaseOpened:
    """Codes, dates and pseudonyms of a new case, whether intake allocated it or it walked in."""
    return events.CaseOpened(
        ags=case.ags,
        case_id=case.case_id,
        provider_id=case.provider_id,
        arrival_id=case.arrival_id,
        walk_in=case.walk_in,
        allocation_date=allocation_date,
        opened_on=case.opened_on,
        household_size=len(case.persons),
        person_pseudonyms=_pseudonyms(case, pseudonym_key),
    )


async def correct_case_for_arrival(
    event: events.ArrivalCorrected, envelope: Envelope, uow: CaseworkUnitOfWork
) -> None:
    """The authority corrected master data: take its snapshot, keep the contact details counsellors added."""
    case = await uow.cases.by_arrival(event.arrival_id)
    if case is None or case.status == "erased":
        return  # an erased case takes no personal data again
    known = {p.person_id: p for p in case.persons}
    persons = []
    for incoming in event.persons:
        fresh = _person(incoming)
        old = known.get(incoming.person_id)
        if old is not None:
            fresh = fresh.model_copy(
                update={
                    "phone": fresh.phone or old.phone,
                    "email": fresh.email or old.email,
                    "address": old.address,
                }
            )
        persons.append(fresh)
    await uow.cases.save(case.model_copy(update={"persons": tuple(persons)}))
    _audit_intake_change(uow, case, "correct", envelope, fields=list(event.corrected_fields))


async def transfer_case_for_relocation(
    event: events.ArrivalRelocated, envelope: Envelope, uow: CaseworkUnitOfWork, *, today: dt.date
) -> None:
    """The household moved: the new municipality's provider gets the case; notes follow only with consent."""
    case = await uow.cases.by_arrival(event.arrival_id)
    if case is None or case.ags == event.new_ags or case.status != "open":
        return
    new_provider = await responsible_provider(uow, event.new_ags)
    same_controller = new_provider == case.provider_id
    follow = same_controller or notes_may_follow(await uow.cases.consents_of(case.case_id))
    if follow and not same_controller:
        await uow.cases.hand_over_notes(case.case_id, to_provider=new_provider)
    moved = case.model_copy(
        update={
            "ags": event.new_ags,
            "provider_id": new_provider,
            "assignment": case.assignment if same_controller else Assignment(),
            "notes_from_provider": case.notes_from_provider if follow else case.provider_id,
        }
    )
    await uow.cases.save(moved)
    _audit_intake_change(
        uow,
        case,
        "transfer",
        envelope,
        from_ags=case.ags,
        to_ags=event.new_ags,
        from_provider=case.provider_id,
        to_provider=new_provider,
        notes_transferred=follow,
    )
    uow.publish(
        events.CaseTransferred(
            ags=event.new_ags,
            case_id=case.case_id,
            from_ags=case.ags,
            from_provider_id=case.provider_id,
            to_provider_id=new_provider,
            transferred_on=event.relocated_on,
            notes_transferred=follow,
        )
    )


async def close_case_for_withdrawal(
    event: events.ArrivalWithdrawn, envelope: Envelope, uow: CaseworkUnitOfWork
) -> None:
    """The authority withdrew the allocation: the case closes (reason ``other``) and says why."""
    case = await uow.cases.by_arrival(event.arrival_id)
    if case is None or case.status != "open":
        return
    on = max(event.withdrawn_on, case.opened_on)
    await uow.cases.save(
        case.model_copy(update={"status": "closed", "closed_on": on, "closure_reason": "other"})
    )
    _audit_intake_change(uow, case, "close", envelope, reason="arrival_withdrawn")
    uow.publish(events.CaseClosed(ags=case.ags, case_id=case.case_id, closed_on=on, reason="other"))


# --- consumer of referrals' status events ---------------------------------------------------------------

REFERRAL_STATUS_EVENTS = tuple(events.REFERRAL_STATUS_OF)


async def apply_referral_status(event: events.Event, envelope: Envelope, uow: CaseworkUnitOfWork) -> None:
    """Show the referral's progress on the case; an older status never overwrites a newer one."""
    referral_id = getattr(event, "referral_id", None)
    occurred_at = getattr(event, "occurred_at", None)
    if referral_id is None or occurred_at is None:
        return
    referral = await uow.cases.referral(referral_id)
    if referral is None:
        return  # not ours (e.g. requested by another system)
    if referral.status_at is not None and occurred_at < referral.status_at:
        return
    case_id = getattr(event, "case_id")  # noqa: B009 - every status event has it
    updated = referral.model_copy(
        update={
            "status": events.REFERRAL_STATUS_OF[type(event)],
            "status_at": occurred_at,
            "status_reason": getattr(event, "reason", None),
            "status_reason_de": getattr(event, "reason_de", None),
            "status_reason_en": getattr(event, "reason_en", None),
            "partner_id": getattr(event, "partner_id", None) or referral.partner_id,
        }
    )
    await uow.cases.save_referral(case_id, updated, recorded_by=SYSTEM)


# --- consumer of referrals' programme and partner catalogue (compacted topic) ----------------------------
# Counsellors pick a programme, and a partner where the person wants one, from this copy; the programme's
# ``person_fields`` decide what a referral request may carry (``programmes.person_fields_for``).


async def programme_published(
    event: events.ProgrammePublished, envelope: Envelope, uow: CaseworkUnitOfWork
) -> None:
    """Latest wins (``put_latest``): the compacted topic may replay older versions after a rebalance."""
    await uow.catalogue.put_latest(
        ProgrammeRow(
            code=event.programme,
            name_de=event.name_de,
            name_en=event.name_en,
            person_fields=list(event.person_fields),
            required_fields=list(event.required_fields),
            active=event.active,
            published_at=event.published_at,
        )
    )


async def partner_published(
    event: events.PartnerPublished, envelope: Envelope, uow: CaseworkUnitOfWork
) -> None:
    await uow.catalogue.put_latest(
        PartnerRow(
            partner_id=event.partner_id,
            name=event.organisation,
            programmes=list(event.programmes),
            ags=list(event.ags),
            kreise=list(event.kreise),
            laender=list(event.laender),
            active=event.active,
            published_at=event.published_at,
        )
    )


async def partner_removed(event: events.PartnerRemoved, envelope: Envelope, uow: CaseworkUnitOfWork) -> None:
    current = await uow.catalogue.partner(event.partner_id)
    if current is not None:  # a partner never published stays unknown
        current.active = False
        current.published_at = event.published_at
        await uow.catalogue.put_latest(current)


# --- commands from counsellors and supervisors ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenWalkInCase:
    ags: str
    opened_on: dt.date
    persons: tuple[CasePerson, ...]
    principal: Principal


async def open_walk_in_case(
    cmd: OpenWalkInCase, *, uow: CaseworkUnitOfWork, today: dt.date, pseudonym_key: str
) -> Case:
    """A person who never came through intake (e.g. private housing): opened by the counsellor's provider."""
    if cmd.ags not in cmd.principal.ags or cmd.principal.provider_id is None:
        raise CaseRefused("ags_out_of_scope", "municipality outside your scope", field="ags")
    if cmd.opened_on > today:
        raise CaseRefused("future_date", "date lies in the future", field="opened_on")
    if not cmd.persons:
        raise CaseRefused("no_person", "at least one person", field="persons")
    case = Case(
        case_id=uuid.uuid4(),
        ags=cmd.ags,
        provider_id=cmd.principal.provider_id,
        walk_in=True,
        opened_on=cmd.opened_on,
        persons=cmd.persons,
        assignment=Assignment(counsellor_id=cmd.principal.subject)
        if "counsellor" in cmd.principal.roles
        else Assignment(),
    )
    async with uow:
        uow.cases.add(case)
        audit(uow, cmd.principal, "open", case, walk_in=True)
        uow.publish(_case_opened(case, pseudonym_key))
        if case.assignment.counsellor_id:
            _publish_assigned(uow, case, today)
        await uow.commit()
    return case


def _publish_assigned(uow: CaseworkUnitOfWork, case: Case, today: dt.date) -> None:
    uow.publish(
        events.CaseAssigned(
            ags=case.ags,
            case_id=case.case_id,
            provider_id=case.provider_id,
            counsellor_id=case.assignment.counsellor_id,
            team_id=case.assignment.team_id,
            assigned_on=today,
        )
    )


@dataclass(frozen=True, slots=True)
class AssignCase:
    case_id: uuid.UUID
    counsellor_id: str | None
    team_id: str | None
    principal: Principal


async def assign_case(cmd: AssignCase, *, uow: CaseworkUnitOfWork, today: dt.date) -> Case:
    """To a counsellor and/or team of the same provider; counsellors may take cases, supervisors assign."""
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        if "supervisor" not in cmd.principal.roles and cmd.counsellor_id not in (None, cmd.principal.subject):
            raise CaseRefused(
                "assign_others", "only supervisors assign cases to others", field="counsellor_id"
            )
        if cmd.counsellor_id:
            member = await uow.org.member(cmd.counsellor_id)
            known = member is not None and member.provider_id == case.provider_id and member.active
            if not known and cmd.counsellor_id != cmd.principal.subject:
                raise CaseRefused(
                    "unknown_counsellor", "not a counsellor of this provider", field="counsellor_id"
                )
        if cmd.team_id:
            team = await uow.org.team(cmd.team_id)
            if team is None or team.provider_id != case.provider_id:
                raise CaseRefused("unknown_team", "not a team of this provider", field="team_id")
        updated = case.assign(Assignment(counsellor_id=cmd.counsellor_id, team_id=cmd.team_id))
        await uow.cases.save(updated)
        audit(uow, cmd.principal, "assign", case, counsellor_id=cmd.counsellor_id, team_id=cmd.team_id)
        _publish_assigned(uow, updated, today)
        await uow.commit()
    return updated


@dataclass(frozen=True, slots=True)
class RecordConsultation:
    case_id: uuid.UUID
    consultation: Consultation
    principal: Principal


async def record_consultation(
    cmd: RecordConsultation, *, uow: CaseworkUnitOfWork, today: dt.date, pseudonym_key: str = ""
) -> Consultation:
    """The note stays in casework; the event carries codes, dates and pseudonyms only.

    Idempotent by ``consultation_id`` while the case is open: the same consultation sent again (a
    client's retry) is answered with the one recorded and records nothing; another one under a used id
    is refused (409).
    """
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        case.check_can_record(cmd.consultation, today=today)
        recorded = await uow.cases.consultation(cmd.consultation.consultation_id)
        if recorded is not None:
            if recorded == (case.case_id, cmd.consultation):
                return cmd.consultation
            raise CaseRefused("consultation_id_taken", "another consultation has this id")
        uow.cases.add_consultation(
            case.case_id, cmd.consultation, recorded_by=cmd.principal.subject, provider_id=case.provider_id
        )
        c = cmd.consultation
        audit(uow, cmd.principal, "record_consultation", case, consultation_id=c.consultation_id)
        uow.publish(
            events.ConsultationRecorded(
                ags=case.ags,
                case_id=case.case_id,
                consultation_id=c.consultation_id,
                held_on=c.held_on,
                duration_minutes=c.duration_minutes,
                type=c.type,
                channel=c.channel,
                interpreter_used=c.interpreter_used,
                interpreter_language=c.interpreter_language,
                handlungsfelder=c.handlungsfelder,
                persons_present=c.persons_present,
                person_pseudonyms=_pseudonyms(case, pseudonym_key, c.present_person_ids)
                if pseudonym_key
                else (),
                counsellor_id=cmd.principal.subject,
            )
        )
        try:
            await uow.commit()
        except IntegrityError as exc:  # the same id recorded at the same moment by a concurrent request
            raise CaseRefused("consultation_id_taken", "another consultation has this id") from exc
    return cmd.consultation


@dataclass(frozen=True, slots=True)
class SetGoal:
    case_id: uuid.UUID
    goal: Goal
    principal: Principal


async def set_goal(cmd: SetGoal, *, uow: CaseworkUnitOfWork, today: dt.date, pseudonym_key: str) -> Goal:
    """A goal of the Integrationsplan; the event carries the Handlungsfeld, never the description."""
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        goal = cmd.goal.model_copy(update={"status": "open", "status_changed_on": None})
        case.check_goal(goal, today=today)
        await uow.cases.save_goal(
            case.case_id, goal, recorded_by=cmd.principal.subject, provider_id=case.provider_id
        )
        audit(uow, cmd.principal, "set_goal", case, goal_id=goal.goal_id)
        uow.publish(
            events.GoalSet(
                ags=case.ags,
                case_id=case.case_id,
                goal_id=goal.goal_id,
                handlungsfeld=goal.handlungsfeld,
                set_on=goal.set_on,
                target_date=goal.target_date,
                person_pseudonym=pseudonym(goal.person_id, pseudonym_key) if goal.person_id else None,
            )
        )
        await uow.commit()
    return goal


@dataclass(frozen=True, slots=True)
class ChangeGoalStatus:
    case_id: uuid.UUID
    goal_id: uuid.UUID
    status: GoalStatus
    principal: Principal


async def change_goal_status(cmd: ChangeGoalStatus, *, uow: CaseworkUnitOfWork, today: dt.date) -> Goal:
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        case.check_open()
        recorded = next(
            (g for g in await uow.cases.goals_of(case.case_id) if g.goal.goal_id == cmd.goal_id), None
        )
        if recorded is None:
            raise CaseNotFound(str(cmd.goal_id))
        goal = recorded.goal
        if cmd.status not in GOAL_TRANSITIONS[goal.status]:
            raise CaseRefused(
                "goal_transition", f"a goal cannot go from {goal.status} to {cmd.status}", field="status"
            )
        changed = goal.model_copy(update={"status": cmd.status, "status_changed_on": today})
        await uow.cases.save_goal(
            case.case_id, changed, recorded_by=cmd.principal.subject, provider_id=recorded.provider_id
        )
        audit(uow, cmd.principal, "change_goal_status", case, goal_id=goal.goal_id, status=cmd.status)
        uow.publish(
            events.GoalStatusChanged(
                ags=case.ags,
                case_id=case.case_id,
                goal_id=goal.goal_id,
                handlungsfeld=goal.handlungsfeld,
                status=cmd.status,
                changed_on=today,
            )
        )
        await uow.commit()
    return changed


@dataclass(frozen=True, slots=True)
class GrantConsent:
    case_id: uuid.UUID
    consent: Consent
    principal: Principal


async def grant_consent(
    cmd: GrantConsent, *, uow: CaseworkUnitOfWork, today: dt.date, pseudonym_key: str
) -> Consent:
    """Idempotent by ``consent_id`` like a consultation: the same consent again changes nothing; a used
    id (another consent, another case, or one withdrawn since) is refused rather than overwritten."""
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        case.check_consent(cmd.consent, today=today)
        consent = cmd.consent
        recorded = await uow.cases.consent(consent.consent_id)
        if recorded is not None:
            if recorded == (case.case_id, consent):
                return consent
            raise CaseRefused("consent_id_taken", "another consent has this id")
        if consent.partner_id is not None and consent.purpose != "case_transfer":
            partner = await uow.catalogue.partner(consent.partner_id)
            partners_known = bool(await uow.catalogue.partners())
            if partners_known and (partner is None or consent.purpose not in partner.programmes):
                raise CaseRefused(
                    "unknown_partner", "partner does not offer this programme", field="partner_id"
                )
        await uow.cases.save_consent(case.case_id, consent, recorded_by=cmd.principal.subject)
        audit(
            uow, cmd.principal, "grant_consent", case, consent_id=consent.consent_id, purpose=consent.purpose
        )
        if consent.purpose != "case_transfer":
            uow.publish(
                events.ConsentGranted(
                    ags=case.ags,
                    case_id=case.case_id,
                    consent_id=consent.consent_id,
                    programme=consent.purpose,
                    partner_id=consent.partner_id,
                    granted_on=consent.granted_on,
                    person_pseudonym=pseudonym(consent.person_id, pseudonym_key),
                    by_guardian=consent.by_guardian,
                    language=consent.language,
                )
            )
        await uow.commit()
    return consent


@dataclass(frozen=True, slots=True)
class WithdrawConsent:
    case_id: uuid.UUID
    consent_id: uuid.UUID
    principal: Principal
    withdrawn_on: dt.date | None = None


async def withdraw_consent(cmd: WithdrawConsent, *, uow: CaseworkUnitOfWork, today: dt.date) -> Consent:
    """Withdrawal is possible on closed cases too, and is propagated (``consent.withdrawn``)."""
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        consent = next(
            (c for c in await uow.cases.consents_of(case.case_id) if c.consent_id == cmd.consent_id), None
        )
        if consent is None:
            raise CaseNotFound(str(cmd.consent_id))
        if not consent.active:
            raise CaseRefused("consent_withdrawn", "consent was already withdrawn")
        on = cmd.withdrawn_on or today
        if on > today or on < consent.granted_on:
            raise CaseRefused(
                "withdrawal_date", "withdrawal date outside the consent's life", field="withdrawn_on"
            )
        withdrawn = consent.model_copy(update={"withdrawn_on": on})
        await uow.cases.save_consent(case.case_id, withdrawn, recorded_by=cmd.principal.subject)
        audit(uow, cmd.principal, "withdraw_consent", case, consent_id=consent.consent_id)
        if consent.purpose != "case_transfer":
            uow.publish(
                events.ConsentWithdrawn(
                    ags=case.ags, case_id=case.case_id, consent_id=consent.consent_id, withdrawn_on=on
                )
            )
        await uow.commit()
    return withdrawn


@dataclass(frozen=True, slots=True)
class RequestReferral:
    case_id: uuid.UUID
    person_id: uuid.UUID
    programme: Programme
    principal: Principal
    partner_id: str | None = None
    note_for_partner: str | None = None
    referral_id: uuid.UUID = field(default_factory=uuid.uuid4)


async def request_referral(
    cmd: RequestReferral, *, uow: CaseworkUnitOfWork, today: dt.date, pseudonym_key: str
) -> Referral:
    """Refused without a matching consent; sends only the fields the programme needs, and the consent."""
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        link_to(await uow.cases.opened_trace(case.case_id))  # the referral's trace, shown with the arrival's
        if cmd.partner_id is not None:
            await _check_partner(uow, cmd.partner_id, programme=cmd.programme, ags=case.ags)
        consent = check_referral(
            case,
            await uow.cases.consents_of(case.case_id),
            person_id=cmd.person_id,
            programme=cmd.programme,
            partner_id=cmd.partner_id,
        )
        person = case.person(cmd.person_id)
        entry = await uow.catalogue.programme(cmd.programme)
        wanted = person_fields_for(cmd.programme, entry)
        _check_required_fields(person, entry.required_fields if entry else [])
        referral = Referral(
            referral_id=cmd.referral_id,
            person_id=person.person_id,
            programme=cmd.programme,
            partner_id=cmd.partner_id,
            consent_id=consent.consent_id,
            requested_on=today,
        )
        await uow.cases.save_referral(case.case_id, referral, recorded_by=cmd.principal.subject)
        audit(
            uow,
            cmd.principal,
            "request_referral",
            case,
            referral_id=referral.referral_id,
            programme=cmd.programme,
            fields_sent=sorted(wanted),
        )
        uow.publish(
            events.ReferralRequested(
                ags=case.ags,
                referral_id=referral.referral_id,
                case_id=case.case_id,
                provider_id=case.provider_id,
                programme=cmd.programme,
                partner_id=cmd.partner_id,
                requested_on=today,
                consent=events.ConsentScope(
                    consent_id=consent.consent_id,
                    programme=cmd.programme,
                    partner_id=consent.partner_id,
                    granted_on=consent.granted_on,
                ),
                person=minimum_person(person, wanted, pseudonym_key),
                note_for_partner=cmd.note_for_partner or None,
            )
        )
        await uow.commit()
    return referral


def _check_required_fields(person: CasePerson, required: list[str]) -> None:
    """The programme cannot work without these details of the person (the catalogue names them)."""
    missing = [f for f in required if not getattr(person, f, None)]
    if missing:
        raise refusal_naming(
            "incomplete_person", "missing for this programme: {}", missing, "person_id", "fields"
        )


async def _check_partner(uow: CaseworkUnitOfWork, partner_id: str, *, programme: str, ags: str) -> None:
    """The partner offers the programme and serves the case's municipality (if the catalogue knows any
    partner at all: before referrals has published it, any name is taken as given)."""
    partner = await uow.catalogue.partner(partner_id)
    if partner is None or not partner.active or programme not in partner.programmes:
        if partner is not None or await uow.catalogue.partners():
            raise CaseRefused("unknown_partner", "partner does not offer this programme", field="partner_id")
    elif not partner.serves(ags):
        raise CaseRefused("partner_area", "partner does not serve this municipality", field="partner_id")


def minimum_person(person: CasePerson, wanted: frozenset[str], pseudonym_key: str) -> events.ReferralPerson:
    """Only the fields the programme needs leave casework; the rest stays None."""
    values = {
        "family_name": person.family_name,
        "given_names": person.given_names,
        "date_of_birth": person.date_of_birth,
        "sex": person.sex,
        "languages": person.languages or None,
        "phone": person.phone,
        "email": person.email,
        "address": person.address,
    }
    return events.ReferralPerson(
        person_pseudonym=pseudonym(person.person_id, pseudonym_key),
        **{k: v for k, v in values.items() if k in wanted},
    )


@dataclass(frozen=True, slots=True)
class CloseCase:
    case_id: uuid.UUID
    reason: ClosureReason
    closed_on: dt.date
    principal: Principal


async def close_case(cmd: CloseCase, *, uow: CaseworkUnitOfWork, today: dt.date) -> Case:
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        closed = case.close(reason=cmd.reason, on=cmd.closed_on, today=today)
        await uow.cases.save(closed)
        audit(uow, cmd.principal, "close", case, reason=cmd.reason)
        uow.publish(
            events.CaseClosed(ags=case.ags, case_id=case.case_id, closed_on=cmd.closed_on, reason=cmd.reason)
        )
        await uow.commit()
    return closed


@dataclass(frozen=True, slots=True)
class ExtendCase:
    case_id: uuid.UUID
    justification: str
    principal: Principal


async def extend_case(cmd: ExtendCase, *, uow: CaseworkUnitOfWork) -> Case:
    """A 4th year of counselling, with the recorded justification the VwV asks for."""
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        extended = case.extend(cmd.justification)
        await uow.cases.save(extended)
        audit(uow, cmd.principal, "extend", case)
        await uow.commit()
    return extended


@dataclass(frozen=True, slots=True)
class UpdateContact:
    case_id: uuid.UUID
    person_id: uuid.UUID
    phone: str | None
    email: str | None
    address: str | None
    principal: Principal


async def update_contact(cmd: UpdateContact, *, uow: CaseworkUnitOfWork) -> Case:
    """Contact details a counsellor learns (needed by some programmes' minimum dataset)."""
    async with uow:
        case = await load_case(uow, cmd.case_id, cmd.principal)
        case.check_open()
        person = case.person(cmd.person_id)
        changed = person.model_copy(update={"phone": cmd.phone, "email": cmd.email, "address": cmd.address})
        updated = case.model_copy(
            update={"persons": tuple(changed if p.person_id == person.person_id else p for p in case.persons)}
        )
        await uow.cases.save(updated)
        audit(uow, cmd.principal, "update_contact", case, person_id=cmd.person_id)
        await uow.commit()
    return updated


def goal_description_visible(goal: Goal, *, goal_provider: str, case: Case) -> bool:
    """Art. 9 texts (health) written by a former provider stay with that provider."""
    return goal_provider == case.provider_id or goal.handlungsfeld not in ART9_FIELDS


# --- erasure (retention period over, or on request) -------------------------------------------------------

ErasureReason = Literal["retention", "request"]


async def erase_case(
    uow: CaseworkUnitOfWork,
    case: Case,
    *,
    today: dt.date,
    reason: ErasureReason,
    by: tuple[str, str] = (SYSTEM, "retention"),
) -> dict[str, int] | None:
    """Erase a closed case's personal data in the caller's transaction; the row stays as a tombstone.

    Notes, plan, consents and referrals are deleted (statistics has its pseudonymous facts already);
    the audit log keeps who did what when, with ids but never content, and gets one entry for this.
    ``case.erased`` tells referrals to erase its partner data and intake the arrival.
    None when another run erased it first.
    """
    if not await uow.cases.mark_erased(case.erase()):
        return None
    counts = await uow.cases.delete_records_of(case.case_id)
    # Crypto-shredding: our keys (referral requests, scoped by case) and our copies of intake's (by arrival).
    scopes = [str(case.case_id)] + ([str(case.arrival_id)] if case.arrival_id else [])
    await shred_person_keys(uow, scopes)
    subject, role = by
    # the provider is the controller whose data it was: its supervisors see the entry
    uow.audit.append(
        by=AuditActor(subject, role, case.provider_id),
        case_id=case.case_id,
        action="erase",
        reason=reason,
        closed_on=case.closed_on,
        persons=len(case.persons),
        **counts,
    )
    erased = events.CaseErased(
        ags=case.ags, case_id=case.case_id, erased_on=today, reason=reason, arrival_id=case.arrival_id
    )
    uow.publish(erased)
    return {"persons": len(case.persons), **counts}


@dataclass(frozen=True, slots=True)
class EraseCase:
    case_id: uuid.UUID
    principal: Principal


async def erase_case_on_request(
    cmd: EraseCase, *, uow: CaseworkUnitOfWork, today: dt.date
) -> dict[str, int] | None:
    """An admin erases one closed case now (e.g. a data subject's request); None if it was erased before."""
    async with uow:
        case = await uow.cases.for_system(cmd.case_id)
        if case is None:
            raise CaseNotFound(str(cmd.case_id))
        if case.status == "erased":
            return None
        counts = await erase_case(
            uow, case, today=today, reason="request", by=(cmd.principal.subject, "admin")
        )
        await uow.commit()
    return counts
