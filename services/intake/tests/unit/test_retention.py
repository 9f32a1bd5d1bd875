"""Which arrivals are due for erasure, and what an erased arrival still allows (pure domain)."""

import datetime as dt

import pytest

from wegweiser.common.retention import RetentionPeriod
from wegweiser.intake.domain.model import Arrival, ArrivalConflict
from wegweiser.intake.testing import arrival as build_arrival

TWO_YEARS = RetentionPeriod(months=24)


def arrival(allocation_date: dt.date, **changes: object) -> Arrival:
    return build_arrival(allocation_date=allocation_date, authority_reference="UAB-2024-0001", **changes)


def test_due_the_day_after_the_period_from_the_allocation_date_whatever_the_status() -> None:
    for status in ("registered", "relocated", "withdrawn", "merged"):
        a = arrival(dt.date(2024, 11, 25), status=status)
        assert not a.due_for_erasure(TWO_YEARS, today=dt.date(2026, 11, 25))
        assert a.due_for_erasure(TWO_YEARS, today=dt.date(2026, 11, 26))


def test_erased_keeps_reference_municipality_and_dates_but_no_person_or_free_text() -> None:
    withdrawn = arrival(
        dt.date(2020, 1, 1),
        status="withdrawn",
        withdrawn_on=dt.date(2020, 2, 1),
        withdrawal_reason="Frau H. zog",
    )
    erased = withdrawn.erased()
    assert (erased.status, erased.persons, erased.withdrawal_reason) == ("erased", (), None)
    kept = ("arrival_id", "authority_id", "authority_reference", "ags", "allocation_date", "withdrawn_on")
    assert {k: getattr(erased, k) for k in kept} == {k: getattr(withdrawn, k) for k in kept}
    assert not erased.due_for_erasure(TWO_YEARS, today=dt.date(2099, 1, 1))


def test_an_erased_arrival_is_no_longer_corrected_or_relocated() -> None:
    erased = arrival(dt.date(2020, 1, 1)).erased()
    with pytest.raises(ArrivalConflict, match="erased"):
        erased.corrected(allocation_date=None, facility="LEA", persons=None, today=dt.date(2026, 11, 26))
    with pytest.raises(ArrivalConflict) as refused:
        erased.relocated(
            new_ags="08115003", on=dt.date(2026, 1, 1), today=dt.date(2026, 11, 26), is_allocation_target=True
        )
    assert "gelöscht" in refused.value.message_de
