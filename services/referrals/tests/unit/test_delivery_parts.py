"""Webhook signatures and the per-partner circuit breaker, on their own."""

import base64
import datetime as dt

import httpx
import pytest

from wegweiser.referrals.delivery.breaker import CircuitBreaker
from wegweiser.referrals.delivery.signing import (
    TOLERANCE_S,
    ReplayGuard,
    new_secret,
    sign,
    signed_headers,
    signing_key,
    verify,
)
from wegweiser.referrals.delivery.worker import WorkerConfig, classify

T0 = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
NOW = 1_800_000_100


def test_the_signature_covers_id_timestamp_and_body_and_expires() -> None:
    secret, other = new_secret(), new_secret()
    body = b'{"type": "de.wegweiser.partner.referral.offered.v1", "subject": "r1"}'
    headers = signed_headers(secret=secret, webhook_id="d1", timestamp=1_800_000_000, body=body)
    version, _, digest = headers["webhook-signature"].partition(",")
    assert version == "v1" and len(base64.b64decode(digest)) == 32

    def ok(
        changed: dict[str, str] | None = None, *, key: str = secret, data: bytes = body, now: float = NOW
    ) -> bool:
        return verify(secret=key, headers=headers | (changed or {}), body=data, now=now)

    assert ok()
    assert not ok(data=body.replace(b"offered", b"withdrawn"))  # the type is in the signed body
    assert not ok({"webhook-id": "d2"})  # a captured delivery passed off under a new id
    assert not ok({"webhook-timestamp": "1800000001"})
    assert not ok(key=other)
    assert not ok(now=1_800_000_000 + TOLERANCE_S + 1)  # outside the tolerance
    rotated = (
        f"{sign(other, webhook_id='d1', timestamp=1_800_000_000, body=body)} {headers['webhook-signature']}"
    )
    assert ok({"webhook-signature": rotated})  # during a secret rotation


def test_the_signature_is_the_standard_webhooks_one() -> None:
    """The specification's own test vector (standard-webhooks, libraries' README)."""
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    body = b'{"test": 2432232314}'
    expected = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
    assert (
        sign(secret, webhook_id="msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp=1614265330, body=body) == expected
    )


def test_older_url_safe_secrets_still_sign_and_broken_ones_are_refused() -> None:
    old = "whsec_" + base64.urlsafe_b64encode(bytes(range(200, 232))).decode().rstrip("=")
    assert signing_key(old) == bytes(range(200, 232))
    with pytest.raises(ValueError, match="base64"):
        signing_key("whsec_not base64!")


def test_a_replay_of_a_seen_id_is_refused_within_the_tolerance() -> None:
    guard = ReplayGuard(tolerance_s=300)
    assert guard.first_time("d1", now=1000)
    assert not guard.first_time("d1", now=1200)
    assert guard.first_time("d2", now=1200)
    assert guard.first_time("d1", now=1000 + 601)  # long after its timestamp could still verify


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
