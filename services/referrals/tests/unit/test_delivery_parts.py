"""Webhook signatures and the per-partner circuit breaker, on their own."""

import datetime as dt

import httpx

from wegweiser.referrals.delivery.breaker import CircuitBreaker
from wegweiser.referrals.delivery.signing import signature, signed_headers, verify
from wegweiser.referrals.delivery.worker import WorkerConfig, classify

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


def test_the_signature_covers_timestamp_and_body_and_expires() -> None:
    body = b'{"referral_id": "x"}'
    headers = signed_headers(secret="whsec_s", delivery_id="d1", timestamp=1_800_000_000, body=body)
    assert headers["Webhook-Signature"].startswith("v1=") and len(headers["Webhook-Signature"]) == 3 + 64
    sig = headers["Webhook-Signature"]

    def ok(*, secret: str = "whsec_s", ts: str = "1800000000", header: str = sig, data: bytes = body,
           now: float = 1_800_000_100) -> bool:  # fmt: skip
        return verify(secret=secret, timestamp=ts, signature_header=header, body=data, now=now)

    assert ok()
    assert not ok(data=body + b" ")  # body changed
    assert not ok(ts="1800000001")  # timestamp changed
    assert not ok(secret="other")
    assert not ok(now=1_800_000_000 + 301)  # outside the replay window
    assert ok(header=f"{signature('old', 1_800_000_000, body)} {sig}")  # during a secret rotation


def test_the_breaker_opens_probes_and_closes() -> None:
    breaker = CircuitBreaker(failure_threshold=3, open_s=10, open_max_s=40)
    assert breaker.allow(T0) == -1
    for _ in range(3):
        breaker.record_failure(T0)
    assert breaker.state == "open" and breaker.allow(T0 + dt.timedelta(seconds=9)) == 0
    assert breaker.allow(T0 + dt.timedelta(seconds=10)) == 1 and breaker.state == "half_open"
    assert breaker.allow(T0 + dt.timedelta(seconds=10)) == 0  # one probe at a time
    breaker.record_failure(T0 + dt.timedelta(seconds=10))
    assert breaker.state == "open" and breaker.open_for_s == 20  # a failed probe doubles the wait
    assert breaker.allow(T0 + dt.timedelta(seconds=29)) == 0
    assert breaker.allow(T0 + dt.timedelta(seconds=30)) == 1
    breaker.record_success()
    assert breaker.state == "closed" and breaker.allow(T0) == -1 and breaker.open_for_s == 10


def test_outcomes_and_back_off() -> None:
    request = httpx.Request("POST", "https://partner.example/hook")
    assert classify(httpx.Response(204, request=request), None).kind == "delivered"
    assert classify(httpx.Response(503, request=request), None).kind == "retry"
    assert classify(httpx.Response(429, request=request), None).kind == "retry"
    assert classify(httpx.Response(400, request=request), None).kind == "permanent"
    assert classify(None, httpx.ConnectError("refused")).kind == "retry"
    config = WorkerConfig(backoff_initial_s=2, backoff_max_s=60)
    delays = [config.backoff(n).total_seconds() for n in (1, 2, 3, 10)]
    assert 1.6 <= delays[0] <= 2.4 and 3.2 <= delays[1] <= 4.8 and 6.4 <= delays[2] <= 9.6
    assert 48 <= delays[3] <= 72
