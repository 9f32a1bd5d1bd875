"""The case aggregate's rules, without I/O."""

import datetime as dt
import uuid

import pytest
from pydantic import ValidationError

from wegweiser.casework.domain.model import (
    Assignment,
    Case,
    CasePerson,
    CaseRefused,
    Consent,
    Consultation,
    Goal,
    check_referral,
    notes_may_follow,
)

TODAY = dt.date(2026, 11, 26)
ADULT = CasePerson(
    person_id=uuid.uuid4(), role="head", family_name="Haddad", given_names="Rania", date_of_birth="1988-03"
)
CHILD = CasePerson(
    person_id=uuid.uuid4(), role="child", family_name="Haddad", given_names="Omar", date_of_birth="2016"
)


def case(**changes: object) -> Case:
    base = Case(
        case_id=uuid.uuid4(),
        ags="08111000",
        provider_id="kreis-08111",
        arrival_id=None,
        opened_on=dt.date(2026, 1, 10),
        persons=(ADULT, CHILD),
    )
    return base.model_copy(update=changes)


def consent(person: CasePerson = ADULT, purpose: str = "integrationskurs", **changes: object) -> Consent:
    return Consent.model_validate(
        {"person_id": person.person_id, "purpose": purpose, "granted_on": dt.date(2026, 11, 1), **changes}
    )


@pytest.mark.parametrize(
    ("born", "on", "minor"),
    [
        ("2016", TODAY, True),
        ("2008", dt.date(2026, 12, 30), True),  # a year alone: 31 December assumed
        ("2008", dt.date(2026, 12, 31), False),
        ("2008-11", dt.date(2026, 11, 29), True),
        ("2008-11-15", TODAY, False),
        (None, TODAY, False),
    ],
)
def test_minority_counts_partial_birth_dates_conservatively(
    born: str | None, on: dt.date, minor: bool
) -> None:
    assert ADULT.model_copy(update={"date_of_birth": born}).is_minor(today=on) is minor


def test_the_time_limit_warns_ninety_days_ahead_and_a_justification_adds_a_year() -> None:
    opened = dt.date(2023, 12, 1)
    c = case(opened_on=opened)
    assert c.time_limit(today=dt.date(2026, 9, 1)).state == "ok"
    approaching = c.time_limit(today=dt.date(2026, 9, 2))
    assert (approaching.state, approaching.days_left, approaching.ends_on) == (
        "approaching",
        90,
        dt.date(2026, 12, 1),
    )
    assert c.time_limit(today=dt.date(2026, 12, 2)).state == "exceeded"
    extended = c.extend("Ausbildung beginnt im Januar, Begleitung nötig").time_limit(
        today=dt.date(2026, 12, 2)
    )
    assert (extended.state, extended.ends_on, extended.extended) == ("ok", dt.date(2027, 12, 1), True)
    with pytest.raises(CaseRefused) as short:
        c.extend("weil")
    assert short.value.field == "justification"
    closed = c.close(reason="goals_met", on=TODAY, today=TODAY)
    assert closed.time_limit(today=dt.date(2030, 1, 1)).state == "closed"


def test_a_closed_case_refuses_every_change() -> None:
    closed = case().close(reason="moved_away", on=TODAY, today=TODAY)
    consultation = Consultation(held_on=TODAY, duration_minutes=30, type="folgeberatung", channel="telefon")
    goal = Goal(handlungsfeld="sprache", description="B1 erreichen", set_on=TODAY)
    for attempt in (
        lambda: closed.check_can_record(consultation, today=TODAY),
        lambda: closed.check_goal(goal, today=TODAY),
        lambda: closed.check_consent(consent(), today=TODAY),
        lambda: closed.assign(Assignment(counsellor_id="s-mueller")),
        lambda: closed.close(reason="other", on=TODAY, today=TODAY),
    ):
        with pytest.raises(CaseRefused) as refused:
            attempt()
        assert refused.value.code == "case_closed"


def test_dates_in_the_future_or_before_the_case_are_refused_with_their_field() -> None:
    c = case()
    future = Consultation(
        held_on=TODAY + dt.timedelta(days=1), duration_minutes=30, type="kurzberatung", channel="video"
    )
    with pytest.raises(CaseRefused) as refused:
        c.check_can_record(future, today=TODAY)
    assert (refused.value.code, refused.value.field) == ("future_date", "held_on")
    with pytest.raises(CaseRefused) as early:
        c.close(reason="other", on=dt.date(2025, 1, 1), today=TODAY)
    assert early.value.code == "before_opening"


def test_minors_consent_through_a_guardian() -> None:
    c = case()
    with pytest.raises(CaseRefused) as refused:
        c.check_consent(consent(CHILD), today=TODAY)
    assert (refused.value.code, refused.value.field) == ("guardian_required", "by_guardian")
    c.check_consent(consent(CHILD, by_guardian=True, guardian_name="Rania Haddad"), today=TODAY)
    with pytest.raises(ValidationError):
        consent(CHILD, by_guardian=True)  # a guardian must be named


def test_a_referral_needs_an_active_consent_for_programme_person_and_partner() -> None:
    c = case()
    general = consent()
    assert (
        check_referral(c, [general], person_id=ADULT.person_id, programme="integrationskurs", partner_id=None)
        == general
    )
    assert check_referral(
        c, [general], person_id=ADULT.person_id, programme="integrationskurs", partner_id="vhs-stuttgart"
    )

    refusals = [
        ([], ADULT, "integrationskurs", None, "consent_missing"),
        ([general], ADULT, "jobcenter", None, "consent_missing"),  # other programme
        ([general], CHILD, "integrationskurs", None, "consent_missing"),  # other person
        (
            [general.model_copy(update={"withdrawn_on": TODAY})],
            ADULT,
            "integrationskurs",
            None,
            "consent_missing",
        ),
        (
            [consent(partner_id="vhs-stuttgart")],
            ADULT,
            "integrationskurs",
            "ifa-akademie",
            "consent_other_partner",
        ),
        ([consent(partner_id="vhs-stuttgart")], ADULT, "integrationskurs", None, "consent_other_partner"),
    ]
    for consents, person, programme, partner, code in refusals:
        with pytest.raises(CaseRefused) as refused:
            check_referral(c, consents, person_id=person.person_id, programme=programme, partner_id=partner)
        assert refused.value.code == code, (programme, partner)
    restricted = consent(partner_id="vhs-stuttgart")
    found = check_referral(
        c, [restricted], person_id=ADULT.person_id, programme="integrationskurs", partner_id="vhs-stuttgart"
    )
    assert found == restricted


def test_notes_follow_a_move_only_with_an_active_transfer_consent() -> None:
    transfer = consent(purpose="case_transfer")
    assert notes_may_follow([transfer])
    assert not notes_may_follow([consent()])
    assert not notes_may_follow([transfer.model_copy(update={"withdrawn_on": TODAY})])


def test_cross_field_rules_of_the_forms() -> None:
    with pytest.raises(ValidationError, match="interpreter_language"):
        Consultation(
            held_on=TODAY,
            duration_minutes=30,
            type="erstgespraech",
            channel="hausbesuch",
            interpreter_used=True,
        )
    with pytest.raises(ValidationError, match="target_date"):
        Goal(
            handlungsfeld="wohnen",
            description="Wohnung finden",
            set_on=TODAY,
            target_date=dt.date(2026, 1, 1),
        )
