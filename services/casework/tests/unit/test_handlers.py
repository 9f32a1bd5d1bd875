"""Handlers with fakes that subclass the real ports: scope, events, audit, consent gate, transfer."""

import datetime as dt
import uuid
from typing import Any

import pytest

from wegweiser.casework.consumers import InjectedFault, event_handlers
from wegweiser.casework.db import (
    AuditLog,
    CaseRepository,
    CatalogueRepository,
    OrgRepository,
    PartnerRow,
    ProgrammeRow,
    RecordedConsultation,
    RecordedGoal,
    Scope,
    StaffRow,
    TeamRow,
)
from wegweiser.casework.domain.model import Case, CaseRefused, Consent, Consultation, Goal, Referral
from wegweiser.casework.handlers import (
    AssignCase,
    CaseNotFound,
    CaseworkUnitOfWork,
    GrantConsent,
    RecordConsultation,
    RequestReferral,
    SetGoal,
    WithdrawConsent,
    apply_referral_status,
    assign_case,
    close_case_for_withdrawal,
    grant_consent,
    open_case_for_arrival,
    record_consultation,
    request_referral,
    set_goal,
    transfer_case_for_relocation,
    withdraw_consent,
)
from wegweiser.casework.settings import CaseworkSettings
from wegweiser.casework.testing import COUNSELLOR, arrival_registered
from wegweiser.casework.views import can_read_note
from wegweiser.common import events
from wegweiser.common.auth import Principal
from wegweiser.common.envelope import Envelope
from wegweiser.common.events import Programme
from wegweiser.common.testing.fakes import FakeUnitOfWork

TODAY = dt.date(2026, 11, 26)
KEY = "k" * 32


class FakeCases(CaseRepository):
    def __init__(self) -> None:
        self.rows: dict[uuid.UUID, Case] = {}
        self.consultations: dict[uuid.UUID, list[RecordedConsultation]] = {}
        self.goals: dict[uuid.UUID, dict[uuid.UUID, RecordedGoal]] = {}
        self.consents: dict[uuid.UUID, dict[uuid.UUID, Consent]] = {}
        self.referrals: dict[uuid.UUID, tuple[uuid.UUID, Referral]] = {}

    def add(self, case: Case) -> None:
        self.rows[case.case_id] = case

    async def save(self, case: Case) -> None:
        self.rows[case.case_id] = case

    async def get(self, case_id: uuid.UUID, scope: Scope) -> Case | None:
        found = self.rows.get(case_id)
        return found if found and scope.covers(found) else None

    async def for_system(self, case_id: uuid.UUID) -> Case | None:
        return self.rows.get(case_id)

    async def by_arrival(self, arrival_id: uuid.UUID) -> Case | None:
        return next((c for c in self.rows.values() if c.arrival_id == arrival_id), None)

    async def opened_trace(self, case_id: uuid.UUID) -> str | None:
        return None  # no trace kept here: tests/test_one_trace.py checks the link on the real stack

    def add_consultation(
        self, case_id: uuid.UUID, consultation: Consultation, *, recorded_by: str, provider_id: str = ""
    ) -> None:
        record = RecordedConsultation(consultation, provider_id, recorded_by, dt.datetime.now(dt.UTC))
        self.consultations.setdefault(case_id, []).append(record)

    async def consultation(self, consultation_id: uuid.UUID) -> tuple[uuid.UUID, Consultation] | None:
        return next(
            (
                (case_id, r.consultation)
                for case_id, records in self.consultations.items()
                for r in records
                if r.consultation.consultation_id == consultation_id
            ),
            None,
        )

    async def consultations_of(self, case_id: uuid.UUID) -> list[RecordedConsultation]:
        return self.consultations.get(case_id, [])

    async def save_goal(self, case_id: uuid.UUID, goal: Goal, *, recorded_by: str, provider_id: str) -> None:
        self.goals.setdefault(case_id, {})[goal.goal_id] = RecordedGoal(
            goal, provider_id, recorded_by, dt.datetime.now(dt.UTC)
        )

    async def goals_of(self, case_id: uuid.UUID) -> list[RecordedGoal]:
        return list(self.goals.get(case_id, {}).values())

    async def save_consent(self, case_id: uuid.UUID, consent: Consent, *, recorded_by: str) -> None:
        self.consents.setdefault(case_id, {})[consent.consent_id] = consent

    async def consent(self, consent_id: uuid.UUID) -> tuple[uuid.UUID, Consent] | None:
        return next(
            ((case_id, c[consent_id]) for case_id, c in self.consents.items() if consent_id in c), None
        )

    async def consents_of(self, case_id: uuid.UUID) -> list[Consent]:
        return list(self.consents.get(case_id, {}).values())

    async def save_referral(self, case_id: uuid.UUID, referral: Referral, *, recorded_by: str) -> None:
        self.referrals[referral.referral_id] = (case_id, referral)

    async def referrals_of(self, case_id: uuid.UUID) -> list[Referral]:
        return [r for c, r in self.referrals.values() if c == case_id]

    async def referral(self, referral_id: uuid.UUID) -> Referral | None:
        found = self.referrals.get(referral_id)
        return found[1] if found else None

    async def hand_over_notes(self, case_id: uuid.UUID, *, to_provider: str) -> None:
        for record in self.consultations.get(case_id, []):
            record.provider_id = to_provider
        for goal in self.goals.get(case_id, {}).values():
            goal.provider_id = to_provider


class FakeOrg(OrgRepository):
    def __init__(self) -> None:
        self.rules: dict[str, str] = {}  # type: ignore[assignment]
        self.members: dict[str, StaffRow] = {}
        self.team_rows: dict[str, TeamRow] = {}

    async def provider_for(self, ags: str) -> str | None:
        return self.rules.get(ags)

    async def member(self, subject: str) -> StaffRow | None:
        return self.members.get(subject)

    async def team(self, team_id: str) -> TeamRow | None:
        return self.team_rows.get(team_id)


class FakeAudit(AuditLog):
    def __init__(self) -> None:
        self.pending: list[dict[str, Any]] = []

    def append(self, **entry: Any) -> None:
        self.pending.append(entry)


class FakeCatalogue(CatalogueRepository):
    def __init__(self) -> None:
        self.programme_rows: dict[str, ProgrammeRow] = {}
        self.partner_rows: dict[str, PartnerRow] = {}

    async def programme(self, code: str) -> ProgrammeRow | None:
        return self.programme_rows.get(code)

    async def partners(self) -> list[PartnerRow]:
        return list(self.partner_rows.values())

    async def partner(self, partner_id: str) -> PartnerRow | None:
        return self.partner_rows.get(partner_id)


class FakeCaseworkUnitOfWork(FakeUnitOfWork, CaseworkUnitOfWork):
    """Audit entries become durable only on commit, like the events (one transaction)."""

    def __init__(self) -> None:
        super().__init__()
        self._cases = FakeCases()
        self._org = FakeOrg()
        self._audit = FakeAudit()
        self._catalogue = FakeCatalogue()
        self.audit_log: list[dict[str, Any]] = []

    @property
    def cases(self) -> FakeCases:
        return self._cases

    @property
    def org(self) -> FakeOrg:
        return self._org

    @property
    def audit(self) -> FakeAudit:
        return self._audit

    @property
    def catalogue(self) -> FakeCatalogue:
        return self._catalogue

    async def commit(self) -> None:
        await super().commit()
        self.audit_log += self._audit.pending
        self._audit.pending = []


def arrival(ags: str = "08111000") -> events.ArrivalRegistered:
    """Rania's household, allocated three weeks before ``TODAY``."""
    return arrival_registered(ags=ags, allocation_date=dt.date(2026, 11, 2))


ENVELOPE = Envelope(
    id="e1", source="/wegweiser/intake", type="t", subject="s", time=dt.datetime.now(dt.UTC), headers={}
)
SUPERVISOR = COUNSELLOR.model_copy(update={"subject": "s-weber", "roles": frozenset({"supervisor"})})
OTHER_PROVIDER = COUNSELLOR.model_copy(update={"provider_id": "caritas-stuttgart"})
OTHER_AGS = COUNSELLOR.model_copy(update={"ags": frozenset({"08115003"})})


async def open_case(uow: FakeCaseworkUnitOfWork, event: events.ArrivalRegistered | None = None) -> Case:
    event = event or arrival()
    async with uow:
        await open_case_for_arrival(event, ENVELOPE, uow, pseudonym_key=KEY)
        await uow.commit()
    found = await uow.cases.by_arrival(event.arrival_id)
    assert found is not None
    return found


async def test_an_arrival_opens_one_case_for_the_responsible_provider() -> None:
    uow = FakeCaseworkUnitOfWork()
    uow.org.rules["08115003"] = "caritas-bb"
    event = arrival()
    await open_case(uow, event)
    await open_case(uow, event)  # the same arrival again: still one case
    await open_case(uow, arrival("08115003"))
    providers = sorted(c.provider_id for c in uow.cases.rows.values())
    assert providers == ["caritas-bb", "kreis-08111"]
    opened = [e for e in uow.published if isinstance(e, events.CaseOpened)]
    assert len(opened) == 2
    assert "Haddad" not in opened[0].model_dump_json()
    assert [a["action"] for a in uow.audit_log] == ["open", "open"]


async def test_an_injected_fault_fails_the_named_municipalitys_arrivals_before_any_database_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = CaseworkSettings(_env_file=None, fault_fail_ags="08425001,08116033")
    handle = event_handlers(settings)[events.ArrivalRegistered]
    uow = FakeCaseworkUnitOfWork()
    failing = arrival("08425001")

    async def no_database(*_: Any) -> None:
        raise AssertionError("the injected fault must fail before the handler reads the database")

    with monkeypatch.context() as patched:
        patched.setattr(uow.cases, "by_arrival", no_database)
        with pytest.raises(InjectedFault, match="CASEWORK_FAULT_FAIL_AGS names 08425001: "):
            async with uow:
                await handle(failing, ENVELOPE, uow)
    other = arrival("08111000")
    async with uow:
        await handle(other, ENVELOPE, uow)  # another municipality: the real handler opens its case
        await uow.commit()
    assert [c.arrival_id for c in uow.cases.rows.values()] == [other.arrival_id]
    assert [e.ags for e in uow.published if isinstance(e, events.CaseOpened)] == ["08111000"]
    assert [a["action"] for a in uow.audit_log] == ["open"]
    unset = event_handlers(CaseworkSettings(_env_file=None))[events.ArrivalRegistered]
    async with uow:
        await unset(failing, ENVELOPE, uow)  # without the setting the same arrival opens its case
        await uow.commit()
    assert failing.arrival_id in {c.arrival_id for c in uow.cases.rows.values()}


async def test_consultations_are_refused_for_foreign_or_closed_cases_and_carry_no_note() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    consultation = Consultation(
        held_on=TODAY, duration_minutes=30, type="erstgespraech", channel="telefon", note="Traumafolgen"
    )
    await record_consultation(
        RecordConsultation(case.case_id, consultation, COUNSELLOR), uow=uow, today=TODAY
    )
    assert isinstance(uow.published[-1], events.ConsultationRecorded)
    assert "Traumafolgen" not in uow.published[-1].model_dump_json()
    assert uow.audit_log[-1]["action"] == "record_consultation"

    for outsider in (OTHER_PROVIDER, OTHER_AGS):
        with pytest.raises(CaseNotFound):
            await record_consultation(
                RecordConsultation(case.case_id, consultation, outsider), uow=uow, today=TODAY
            )

    uow.cases.rows[case.case_id] = case.model_copy(update={"status": "closed"})
    before = len(uow.published)
    with pytest.raises(CaseRefused):
        await record_consultation(
            RecordConsultation(case.case_id, consultation, COUNSELLOR), uow=uow, today=TODAY
        )
    assert len(uow.published) == before  # nothing leaves on refusal


async def test_a_consultation_sent_twice_is_recorded_once_and_a_used_id_is_refused() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    consultation = Consultation(held_on=TODAY, duration_minutes=30, type="kurzberatung", channel="telefon")
    command = RecordConsultation(case.case_id, consultation, COUNSELLOR)
    first = await record_consultation(command, uow=uow, today=TODAY)
    published, audited = len(uow.published), len(uow.audit_log)

    again = await record_consultation(command, uow=uow, today=TODAY)
    assert again == first
    assert len(await uow.cases.consultations_of(case.case_id)) == 1
    assert (len(uow.published), len(uow.audit_log)) == (published, audited)  # nothing new left

    changed = consultation.model_copy(update={"duration_minutes": 45})
    with pytest.raises(CaseRefused) as refused:
        await record_consultation(RecordConsultation(case.case_id, changed, COUNSELLOR), uow=uow, today=TODAY)
    assert refused.value.code == "consultation_id_taken" and refused.value.field is None  # 409
    other = await open_case(uow)
    with pytest.raises(CaseRefused):
        await record_consultation(
            RecordConsultation(other.case_id, consultation, COUNSELLOR), uow=uow, today=TODAY
        )
    assert len(uow.published) == published + 1  # the second case's case.opened only


async def test_a_consent_sent_twice_is_recorded_once_and_never_overwritten_through_its_id() -> None:
    uow = FakeCaseworkUnitOfWork()
    case, other = await open_case(uow), await open_case(uow)
    consent = Consent(person_id=case.persons[0].person_id, purpose="mbe", granted_on=TODAY)
    command = GrantConsent(case.case_id, consent, COUNSELLOR)
    await grant_consent(command, uow=uow, today=TODAY, pseudonym_key=KEY)
    published = len(uow.published)
    assert await grant_consent(command, uow=uow, today=TODAY, pseudonym_key=KEY) == consent
    assert len(uow.published) == published  # no second consent.granted

    foreign = consent.model_copy(update={"person_id": other.persons[0].person_id})
    await withdraw_consent(
        WithdrawConsent(case.case_id, consent.consent_id, COUNSELLOR), uow=uow, today=TODAY
    )
    for attempt in (GrantConsent(other.case_id, foreign, COUNSELLOR), command):  # elsewhere; withdrawn
        with pytest.raises(CaseRefused) as refused:
            await grant_consent(attempt, uow=uow, today=TODAY, pseudonym_key=KEY)
        assert refused.value.code == "consent_id_taken"
    (kept,) = await uow.cases.consents_of(case.case_id)
    assert kept.withdrawn_on == TODAY and await uow.cases.consents_of(other.case_id) == []


async def test_a_referral_without_matching_consent_is_refused_and_sends_nothing() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    with pytest.raises(CaseRefused) as refused:
        await refer(uow, case, "integrationskurs")
    assert refused.value.code == "consent_missing"
    assert not [e for e in uow.published if isinstance(e, events.ReferralRequested)]


async def test_a_referral_carries_only_the_programmes_fields_and_the_consent_as_granted() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    person = case.persons[0]
    consent = Consent(person_id=person.person_id, purpose="mbe", granted_on=TODAY, partner_id="caritas-mbe")
    await grant_consent(
        GrantConsent(case.case_id, consent, COUNSELLOR), uow=uow, today=TODAY, pseudonym_key=KEY
    )
    granted = uow.published[-1]
    assert isinstance(granted, events.ConsentGranted) and granted.partner_id == "caritas-mbe"

    with pytest.raises(CaseRefused) as other_partner:
        await refer(uow, case, "mbe", partner_id="diakonie-mbe")
    assert other_partner.value.code == "consent_other_partner"

    referral = await refer(uow, case, "mbe", partner_id="caritas-mbe")
    requested = uow.published[-1]
    assert isinstance(requested, events.ReferralRequested)
    assert (
        requested.consent.consent_id == consent.consent_id and requested.consent.partner_id == "caritas-mbe"
    )
    sent = {k for k, v in requested.person.model_dump().items() if v is not None}
    assert sent == {
        "person_pseudonym",
        "family_name",
        "given_names",
        "languages",
        "phone",
    }  # built-in for mbe
    assert requested.referral_id == referral.referral_id and requested.ags == "08111000"


async def test_the_catalogue_decides_the_fields_and_its_partners_are_checked() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    person = case.persons[0]
    uow.catalogue.programme_rows["jobcenter"] = ProgrammeRow(
        code="jobcenter", name_de="Jobcenter", name_en="Jobcenter", person_fields=["given_names", "email"]
    )
    uow.catalogue.partner_rows["jc-stuttgart"] = PartnerRow(
        partner_id="jc-stuttgart", name="Jobcenter Stuttgart", programmes=["jobcenter"], ags=["08111000"]
    )
    consent = Consent(person_id=person.person_id, purpose="jobcenter", granted_on=TODAY)
    await grant_consent(
        GrantConsent(case.case_id, consent, COUNSELLOR), uow=uow, today=TODAY, pseudonym_key=KEY
    )
    with pytest.raises(CaseRefused) as unknown:
        await refer(uow, case, "jobcenter", partner_id="jc-ulm")
    assert unknown.value.code == "unknown_partner"
    await refer(uow, case, "jobcenter", partner_id="jc-stuttgart")
    requested = uow.published[-1]
    assert isinstance(requested, events.ReferralRequested)
    assert {k for k, v in requested.person.model_dump().items() if v is not None} == {
        "person_pseudonym",
        "given_names",
        "email",
    }


async def test_withdrawing_consent_is_propagated_and_blocks_later_referrals() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    person = case.persons[0]
    consent = Consent(person_id=person.person_id, purpose="integrationskurs", granted_on=TODAY)
    await grant_consent(
        GrantConsent(case.case_id, consent, COUNSELLOR), uow=uow, today=TODAY, pseudonym_key=KEY
    )
    await withdraw_consent(
        WithdrawConsent(case.case_id, consent.consent_id, COUNSELLOR), uow=uow, today=TODAY
    )
    assert isinstance(uow.published[-1], events.ConsentWithdrawn)
    with pytest.raises(CaseRefused) as again:
        await withdraw_consent(
            WithdrawConsent(case.case_id, consent.consent_id, COUNSELLOR), uow=uow, today=TODAY
        )
    assert again.value.code == "consent_withdrawn"
    with pytest.raises(CaseRefused) as refused:
        await refer(uow, case, "integrationskurs")
    assert refused.value.code == "consent_missing"


async def refer(
    uow: FakeCaseworkUnitOfWork,
    case: Case,
    programme: Programme,
    partner_id: str | None = None,
) -> Referral:
    """The counsellor refers the case's first person to ``programme``."""
    person_id = case.persons[0].person_id
    command = RequestReferral(case.case_id, person_id, programme, COUNSELLOR, partner_id=partner_id)
    return await request_referral(command, uow=uow, today=TODAY, pseudonym_key=KEY)


async def _relocate(uow: FakeCaseworkUnitOfWork, case: Case, new_ags: str) -> None:
    event = events.ArrivalRelocated(
        ags=case.ags, arrival_id=case.arrival_id or uuid.uuid4(), new_ags=new_ags, relocated_on=TODAY
    )
    async with uow:
        await transfer_case_for_relocation(event, ENVELOPE, uow, today=TODAY)
        await uow.commit()


@pytest.mark.parametrize("transfer_consent", [False, True])
async def test_relocation_moves_the_case_and_notes_follow_only_with_consent(transfer_consent: bool) -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    person = case.persons[0]
    note = Consultation(
        held_on=TODAY, duration_minutes=45, type="erstgespraech", channel="hausbesuch", note="n"
    )
    await record_consultation(RecordConsultation(case.case_id, note, COUNSELLOR), uow=uow, today=TODAY)
    await set_goal(
        SetGoal(
            case.case_id,
            Goal(handlungsfeld="gesundheit_psychosozial", description="Therapie", set_on=TODAY),
            COUNSELLOR,
        ),
        uow=uow,
        today=TODAY,
        pseudonym_key=KEY,
    )
    if transfer_consent:
        consent = Consent(person_id=person.person_id, purpose="case_transfer", granted_on=TODAY)
        await grant_consent(
            GrantConsent(case.case_id, consent, COUNSELLOR), uow=uow, today=TODAY, pseudonym_key=KEY
        )
        assert not isinstance(uow.published[-1], events.ConsentGranted)  # not a programme consent

    await _relocate(uow, case, "08426021")  # Biberach an der Riß
    await _relocate(uow, case, "08426021")  # redelivered: no second transfer
    moved = uow.cases.rows[case.case_id]
    assert (moved.ags, moved.provider_id) == ("08426021", "kreis-08426")
    transferred = [e for e in uow.published if isinstance(e, events.CaseTransferred)]
    assert len(transferred) == 1
    assert transferred[0].key() == "08426021" and transferred[0].from_ags == "08111000"
    assert transferred[0].notes_transferred is transfer_consent

    with pytest.raises(CaseNotFound):  # the old provider lost access
        await record_consultation(RecordConsultation(case.case_id, note, COUNSELLOR), uow=uow, today=TODAY)
    newcomer = Principal(
        subject="bc-hager",
        roles=frozenset({"counsellor"}),
        provider_id="kreis-08426",
        ags=frozenset({"08426021"}),
    )
    [record] = await uow.cases.consultations_of(case.case_id)
    moved_for_new = moved.model_copy(
        update={"assignment": moved.assignment.model_copy(update={"counsellor_id": "bc-hager"})}
    )
    assert can_read_note(newcomer, moved_for_new, record) is transfer_consent
    assert (moved.notes_from_provider is None) is transfer_consent


async def test_referral_status_events_update_the_referral_but_never_go_backwards() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    person = case.persons[0]
    consent = Consent(person_id=person.person_id, purpose="integrationskurs", granted_on=TODAY)
    await grant_consent(
        GrantConsent(case.case_id, consent, COUNSELLOR), uow=uow, today=TODAY, pseudonym_key=KEY
    )
    referral = await refer(uow, case, "integrationskurs")
    at = dt.datetime(2026, 11, 27, 10, tzinfo=dt.UTC)
    common: dict[str, Any] = {
        "ags": case.ags,
        "referral_id": referral.referral_id,
        "case_id": case.case_id,
        "programme": "integrationskurs",
        "requested_on": TODAY,
    }
    accepted = events.ReferralAccepted(**common, partner_id="vhs-stuttgart", occurred_at=at)
    sent_earlier = events.ReferralSent(**common, occurred_at=at - dt.timedelta(hours=1))
    for event in (accepted, sent_earlier):
        async with uow:
            await apply_referral_status(event, ENVELOPE, uow)
            await uow.commit()
    stored = await uow.cases.referral(referral.referral_id)
    assert stored is not None
    assert (stored.status, stored.partner_id) == ("accepted", "vhs-stuttgart")


async def test_assignment_to_others_is_for_supervisors_within_their_provider() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    uow.org.members["s-yilmaz"] = StaffRow(
        subject="s-yilmaz", display_name="D", role="counsellor", provider_id="kreis-08111"
    )
    uow.org.members["c-nowak"] = StaffRow(
        subject="c-nowak", display_name="M", role="counsellor", provider_id="caritas-stuttgart"
    )
    with pytest.raises(CaseRefused) as not_allowed:
        await assign_case(AssignCase(case.case_id, "s-yilmaz", None, COUNSELLOR), uow=uow, today=TODAY)
    assert not_allowed.value.code == "assign_others"
    await assign_case(
        AssignCase(case.case_id, "s-mueller", None, COUNSELLOR), uow=uow, today=TODAY
    )  # takes it
    with pytest.raises(CaseRefused) as foreign:
        await assign_case(AssignCase(case.case_id, "c-nowak", None, SUPERVISOR), uow=uow, today=TODAY)
    assert foreign.value.code == "unknown_counsellor"
    await assign_case(AssignCase(case.case_id, "s-yilmaz", None, SUPERVISOR), uow=uow, today=TODAY)
    assigned = [e for e in uow.published if isinstance(e, events.CaseAssigned)]
    assert [a.counsellor_id for a in assigned] == ["s-mueller", "s-yilmaz"]


async def test_a_withdrawn_arrival_closes_its_case_once() -> None:
    uow = FakeCaseworkUnitOfWork()
    case = await open_case(uow)
    withdrawn = events.ArrivalWithdrawn(
        ags=case.ags, arrival_id=case.arrival_id or uuid.uuid4(), withdrawn_on=TODAY
    )
    for _ in range(2):
        async with uow:
            await close_case_for_withdrawal(withdrawn, ENVELOPE, uow)
            await uow.commit()
    assert uow.cases.rows[case.case_id].status == "closed"
    assert len([e for e in uow.published if isinstance(e, events.CaseClosed)]) == 1


def test_a_partner_serves_its_municipalities_kreise_and_laender_as_the_region_catalogue_has_them() -> None:
    def partner(
        ags: tuple[str, ...] = (), kreise: tuple[str, ...] = (), laender: tuple[str, ...] = ()
    ) -> PartnerRow:
        return PartnerRow(
            partner_id="p", name="P", programmes=["mbe"], ags=[*ags], kreise=[*kreise], laender=[*laender]
        )

    assert partner().serves("08111000")  # nothing named: everywhere
    assert partner(ags=("08111000",)).serves("08111000")
    assert partner(kreise=("08111",)).serves("08111000")
    assert not partner(kreise=("08426",)).serves("08111000")
    assert partner(laender=("08",)).serves("08426021")
    assert not partner(laender=("09",)).serves("08426021")
    assert not partner(laender=("08",)).serves("08999999")  # not a municipality the catalogue knows
