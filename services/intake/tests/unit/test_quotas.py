"""Token buckets: a flooding authority or municipality waits; the others do not."""

from wegweiser.intake.quotas import Quotas, retry_after


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def quotas(clock: Clock) -> Quotas:
    return Quotas(authority_rate_per_s=10, authority_burst=100, ags_rate_per_s=1, ags_burst=5, clock=clock)


def test_the_authority_bucket_refills_at_its_rate() -> None:
    clock = Clock()
    q = quotas(clock)
    assert q.admit_authority("a", 100) == 0
    assert q.admit_authority("a", 10) == 1.0
    assert q.admit_authority("b", 100) == 0, "another authority has its own bucket"
    clock.now = 1.0
    assert q.admit_authority("a", 10) == 0


def test_a_request_larger_than_the_burst_waits_for_a_full_bucket_and_leaves_a_debt() -> None:
    clock = Clock()
    q = quotas(clock)
    assert q.admit_authority("a", 150) == 0
    assert q.admit_authority("a", 1) == 5.1


def test_municipalities_are_refused_one_by_one_and_the_authority_gets_its_tokens_back() -> None:
    clock = Clock()
    q = quotas(clock)
    assert q.admit_ags({"08111000": 5}) == {}
    assert q.admit_authority("a", 7) == 0
    refused = q.admit_ags({"08111000": 1, "08115003": 2})
    assert refused == {"08111000": 1.0}
    q.refund_authority("a", 1)
    assert q.admit_authority("a", 94) == 0


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert retry_after(0.01) == "1"
    assert retry_after(2.2) == "3"
