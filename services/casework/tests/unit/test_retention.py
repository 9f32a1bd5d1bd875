"""Which cases are due for erasure, and what their tombstone keeps (pure domain, no I/O)."""

import datetime as dt
import uuid

import pytest

from wegweiser.casework.domain.model import Assignment, Case, CaseRefused
from wegweiser.casework.testing import head_of_household
from wegweiser.common.retention import RetentionPeriod

TWO_YEARS = RetentionPeriod(months=24)


def case(**changes: object) -> Case:
    base = Case(
        case_id=uuid.uuid4(),
        ags="08111000",
        provider_id="kreis-08111",
        arrival_id=uuid.uuid4(),
        opened_on=dt.date(2022, 1, 10),
        persons=(head_of_household(),),
        assignment=Assignment(counsellor_id="s-mueller", team_id="team-1"),
        extension_justification="Sprachkurs noch nicht abgeschlossen",
        notes_from_provider="kreis-08115",
    )
    return base.model_copy(update=changes)


def closed(on: dt.date) -> Case:
    return case(status="closed", closed_on=on, closure_reason="goals_met")


def test_a_closed_case_is_due_the_day_after_its_retention_period() -> None:
    c = closed(dt.date(2024, 6, 30))
    assert not c.due_for_erasure(TWO_YEARS, today=dt.date(2026, 6, 30))
    assert c.due_for_erasure(TWO_YEARS, today=dt.date(2026, 7, 1))


def test_the_period_is_configurable() -> None:
    c = closed(dt.date(2025, 6, 30))
    assert c.due_for_erasure(RetentionPeriod(months=12), today=dt.date(2026, 7, 1))
    assert not c.due_for_erasure(TWO_YEARS, today=dt.date(2026, 7, 1))


def test_open_and_erased_cases_are_never_due() -> None:
    far_future = dt.date(2099, 1, 1)
    assert not case().due_for_erasure(TWO_YEARS, today=far_future)
    assert not closed(dt.date(2020, 1, 1)).erase().due_for_erasure(TWO_YEARS, today=far_future)


def test_the_tombstone_keeps_the_frame_and_drops_persons_and_free_text() -> None:
    c = closed(dt.date(2024, 1, 1))
    tombstone = c.erase()
    assert tombstone.status == "erased"
    assert tombstone.persons == ()
    assert tombstone.assignment == Assignment()
    assert tombstone.extension_justification is None
    assert tombstone.notes_from_provider is None
    kept = ("case_id", "ags", "provider_id", "arrival_id", "opened_on", "closed_on", "closure_reason")
    assert {k: getattr(tombstone, k) for k in kept} == {k: getattr(c, k) for k in kept}
    assert tombstone.erase() == tombstone  # erasing again changes nothing


def test_an_open_case_is_not_erased() -> None:
    with pytest.raises(CaseRefused) as refused:
        case().erase()
    assert refused.value.code == "case_open"
