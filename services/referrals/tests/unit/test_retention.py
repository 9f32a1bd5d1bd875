"""Which referrals are due for erasure (pure lifecycle rule, no I/O)."""

import datetime as dt
import uuid

from wegweiser.common.retention import RetentionPeriod
from wegweiser.referrals.domain.lifecycle import Referral, due_for_erasure, ended_on

TWO_YEARS = RetentionPeriod(months=24)


def referral(state: str, updated_at: dt.datetime | None) -> Referral:
    return Referral.model_validate(
        {
            "referral_id": uuid.uuid4(),
            "case_id": uuid.uuid4(),
            "ags": "08111000",
            "provider_id": "kreis-08111",
            "programme": "integrationskurs",
            "consent_id": uuid.uuid4(),
            "requested_on": dt.date(2024, 1, 2),
            "state": state,
            "updated_at": updated_at,
        }
    )


def test_the_period_counts_from_the_final_state_in_berlin_time() -> None:
    # 23:30 UTC on 30 June is already 1 July in Berlin
    done = referral("completed", dt.datetime(2024, 6, 30, 23, 30, tzinfo=dt.UTC))
    assert ended_on(done) == dt.date(2024, 7, 1)
    assert not due_for_erasure(done, TWO_YEARS, today=dt.date(2026, 7, 1))
    assert due_for_erasure(done, TWO_YEARS, today=dt.date(2026, 7, 2))


def test_a_referral_under_way_is_never_due_by_its_own_period() -> None:
    for state in ("requested", "sent", "accepted", "started"):
        assert ended_on(referral(state, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))) is None
        assert not due_for_erasure(referral(state, None), TWO_YEARS, today=dt.date(2099, 1, 1))


def test_every_final_state_counts_and_without_a_timestamp_the_request_date_does() -> None:
    for state in ("declined", "completed", "dropped", "expired", "unroutable"):
        assert ended_on(referral(state, None)) == dt.date(2024, 1, 2)
        assert due_for_erasure(referral(state, None), RetentionPeriod(months=12), today=dt.date(2025, 1, 3))


def test_a_timestamp_without_zone_counts_as_utc() -> None:
    naive = referral("expired", dt.datetime(2024, 6, 30, 23, 30))
    assert ended_on(naive) == dt.date(2024, 7, 1)
