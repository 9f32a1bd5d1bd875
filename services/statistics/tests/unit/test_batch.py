"""Events → deltas: the merge rules make the order of events and the batching irrelevant."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

from statistics_builders import consultation as build_consultation

from wegweiser.common import events
from wegweiser.statistics.projection.batch import Batch, Caches, person_key

CASE = uuid.uuid4()
T0 = 1_700_000_000_000_000


def consultation(day: dt.date, *persons: str, ags: str = "08111000") -> events.ConsultationRecorded:
    return build_consultation(
        ags,
        CASE,
        day.isoformat(),
        "folgeberatung",
        interpreter_used=True,
        handlungsfelder=("sprache", "wohnen", "sprache"),
        person_pseudonyms=persons,
    )


def status(model: type[events.Event], at: dt.datetime, **extra: object) -> events.Event:
    return model.model_validate(
        {
            "ags": "08111000",
            "referral_id": "6f1c1a8e-0000-4000-8000-000000000001",
            "case_id": str(CASE),
            "programme": "integrationskurs",
            "requested_on": "2024-03-01",
            "occurred_at": at.isoformat(),
            **extra,
        }
    )


# One delta per fact table of a generation: all of them but the bookkeeping and what was published.
DELTAS = ("arrivals", "cases", "moves", "consultations", "breakdowns", "persons", "goals", "referrals")


def snapshot(batch: Batch) -> tuple[object, ...]:
    return tuple(getattr(batch, name) for name in DELTAS)


def test_consultations_count_at_the_municipality_and_break_down_at_the_kreis() -> None:
    batch = Batch()
    batch.add(consultation(dt.date(2024, 3, 5), "p1", "p2"), time_us=T0)
    batch.add(consultation(dt.date(2024, 3, 20), "p1"), time_us=T0 + 1)
    assert batch.consultations == {("08111000", 202403): 2}
    assert batch.breakdowns[("08111", 202403, "field", "sprache")] == 2  # named twice, counted once each
    assert batch.breakdowns[("08111", 202403, "interpreter", "yes")] == 2
    assert batch.persons[("08111000", 2024, person_key("p1"))] == 1 << 2
    assert batch.cases[CASE.int].first_consultation_day == dt.date(2024, 3, 5).toordinal()


def test_the_latest_status_wins_in_any_order() -> None:
    at = dt.datetime(2024, 3, 2, tzinfo=dt.UTC)
    lifecycle = [
        status(events.ReferralSent, at),
        status(events.ReferralAccepted, at + dt.timedelta(days=2)),
        status(events.ReferralStarted, at + dt.timedelta(days=30), started_on="2024-04-01"),
        status(events.ReferralCompleted, at + dt.timedelta(days=200)),
    ]
    results = set()
    for order in itertools.permutations(lifecycle):
        batch = Batch()
        for e in order:
            batch.add(e, time_us=T0)
        (delta,) = batch.referrals.values()
        results.add((delta.status, delta.started_day, delta.requested_month))
    assert results == {("completed", dt.date(2024, 4, 1).toordinal(), 202403)}


def test_caches_drop_writes_that_change_nothing() -> None:
    caches = Caches()
    first = Batch()
    first.add(consultation(dt.date(2024, 3, 5), "p1"), time_us=T0)
    first.prune(caches)
    assert first.persons and first.cases
    again = Batch()
    again.add(consultation(dt.date(2024, 3, 28), "p1"), time_us=T0 + 1)  # same month, later day
    again.prune(caches)
    assert again.persons == {} and again.cases == {}
    later = Batch()
    later.add(consultation(dt.date(2024, 4, 2), "p1"), time_us=T0 + 2)
    later.prune(caches)
    assert later.persons == {("08111000", 2024, person_key("p1")): 1 << 3}


def test_event_types_the_projection_does_not_use_are_reported() -> None:
    consent = events.ConsentWithdrawn(
        ags="08111000", case_id=CASE, consent_id=uuid.uuid4(), withdrawn_on=dt.date(2024, 1, 1)
    )
    batch = Batch()
    assert batch.add(consent, time_us=T0) is False
    assert batch.is_empty()


def test_a_batch_is_the_same_whichever_way_events_are_split() -> None:
    days = [dt.date(2024, m, 3) for m in (1, 2, 2, 5)]
    whole = Batch()
    for i, day in enumerate(days):
        whole.add(consultation(day, f"p{i % 2}"), time_us=T0 + i)
    halves = [Batch(), Batch()]
    for i, day in enumerate(days):
        halves[i % 2].add(consultation(day, f"p{i % 2}"), time_us=T0 + i)
    merged_persons: dict[tuple[str, int, int], int] = {}
    for h in halves:
        for k, bits in h.persons.items():
            merged_persons[k] = merged_persons.get(k, 0) | bits
    assert merged_persons == whole.persons
    assert halves[0].consultations + halves[1].consultations == whole.consultations
    assert snapshot(whole)[0] == {}
