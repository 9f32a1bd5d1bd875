"""Webhook delivery: while one partner is down, another partner's deliveries all complete."""

import uuid
from collections.abc import Callable

import pytest

from wegweiser.common import events
from wegweiser.common.envelope import encode
from wegweiser.common.testing.apps import eventually, running
from wegweiser.common.testing.kafka import produce
from wegweiser.referrals.app import build
from wegweiser.referrals.deps import context_of
from wegweiser.referrals.settings import ReferralsSettings
from wegweiser.referrals.testing import WebhookReceiver, closed_port_url, referral_requested

pytestmark = pytest.mark.integration

Bearer = Callable[..., dict[str, str]]
PER_PARTNER = 20
# The test group reads the shared requests topic from its start, so it also sees earlier runs' requests:
# fresh partner ids (webhook partners have no topics to pile up) in a Kreis no other test uses keep
# those away from this run's partners.
RUN = uuid.uuid4().hex[:6]
DOWN, UP, FLAKY = f"it-hook-down-{RUN}", f"it-hook-up-{RUN}", f"it-hook-flaky-{RUN}"
KREIS = "08426"


def requested(partner_id: str) -> events.ReferralRequested:
    """A psychosocial referral: the partner gets her first name and phone number."""
    return referral_requested("psychosozial", partner_id, phone="0711 1")


async def test_a_dead_partner_opens_its_breaker_and_never_delays_the_others(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    settings = settings.model_copy(update={"breaker_open_s": 300.0, "breaker_open_max_s": 600.0})
    admin = tokens("admin")
    receiver = WebhookReceiver()
    app = build(settings)
    async with receiver.serving() as base_url, running(app) as client:
        for partner_id, url in ((DOWN, closed_port_url()), (UP, f"{base_url}/{UP}")):
            body = {
                "partner_id": partner_id,
                "organisation": f"Test {partner_id}",
                "programmes": ["psychosozial"],
                "kreise": [KREIS],
                "delivery": "webhook",
                "webhook_url": url,
            }
            created = await client.post("/v1/admin/partners", json=body, headers=admin)
            assert created.status_code == 201, created.text
            receiver.secrets[partner_id] = created.json()["webhook_secret"]

        sent = [requested(p) for _ in range(PER_PARTNER) for p in (DOWN, UP)]  # interleaved
        await produce(settings.kafka_bootstrap_servers, *(encode(e) for e in sent))

        async def all_up_delivered() -> bool:
            status = (await client.get(f"/v1/admin/partners/{UP}/delivery", headers=admin)).json()
            return bool(status["deliveries"].get("delivered") == PER_PARTNER)

        await eventually(all_up_delivered, timeout_s=60, what="every delivery to the healthy partner")
        down = (await client.get(f"/v1/admin/partners/{DOWN}/delivery", headers=admin)).json()
        queue = context_of(app).worker.queues[DOWN]

    # The healthy partner: everything arrived once, signed, as a CloudEvent with only the minimum data.
    got = receiver.received[UP]
    assert len(got) == PER_PARTNER and all(r["verified"] for r in got)
    assert len({r["headers"]["webhook-id"] for r in got}) == PER_PARTNER
    expected = {str(e.referral_id) for e in sent if e.partner_id == UP}
    assert {r["event"]["subject"] for r in got} == expected
    person = got[0]["event"]["data"]["person"]
    assert {k: v for k, v in person.items() if v is not None} == {"given_names": "Rania", "phone": "0711 1"}
    assert got[0]["event"]["type"] == events.PartnerReferralOffered.ce_type()
    # The dead partner: its breaker opened after the threshold and stopped spending attempts.
    assert down["breaker"] == "open"
    assert down["deliveries"] == {"pending": PER_PARTNER}
    # At most the requests already in flight when the threshold was reached (concurrency per partner).
    threshold, in_flight = settings.breaker_failure_threshold, settings.webhook_concurrency_per_partner
    assert threshold <= queue.failed_attempts < threshold + in_flight
    assert receiver.received[DOWN] == []


async def test_delivered_payloads_are_erased_and_a_recovered_partner_gets_its_backlog(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    from sqlalchemy import select

    from wegweiser.referrals.db import WebhookDeliveryRow

    admin = tokens("admin")
    receiver = WebhookReceiver()
    receiver.status = 503  # up, but failing: retried with back-off, then the breaker opens
    app = build(settings)
    async with receiver.serving() as base_url, running(app) as client:
        body = {
            "partner_id": FLAKY,
            "organisation": "Test",
            "programmes": ["psychosozial"],
            "kreise": [KREIS],
            "delivery": "webhook",
            "webhook_url": f"{base_url}/{FLAKY}",
        }
        created = await client.post("/v1/admin/partners", json=body, headers=admin)
        assert created.status_code == 201, created.text
        receiver.secrets[FLAKY] = created.json()["webhook_secret"]
        sent = [requested(FLAKY) for _ in range(5)]
        await produce(settings.kafka_bootstrap_servers, *(encode(e) for e in sent))

        async def breaker(state: str) -> bool:
            status = (await client.get(f"/v1/admin/partners/{FLAKY}/delivery", headers=admin)).json()
            return bool(status["breaker"] == state)

        await eventually(lambda: breaker("open"), what="breaker open while the partner answers 503")
        receiver.status = 204  # the partner recovers: the next probe succeeds and the backlog drains

        async def drained() -> bool:
            async with context_of(app).runtime.sessions() as session:
                rows = list((await session.execute(select(WebhookDeliveryRow).where(
                    WebhookDeliveryRow.referral_id.in_([e.referral_id for e in sent])  # type: ignore[attr-defined]
                ))).scalars())  # fmt: skip
            return len(rows) == 5 and all(r.status == "delivered" and r.body is None for r in rows)

        await eventually(drained, timeout_s=60, what="backlog delivered after recovery")
        assert await breaker("closed")
    delivered = {r["event"]["subject"] for r in receiver.received[FLAKY] if r["verified"]}
    assert delivered == {str(e.referral_id) for e in sent}


async def test_webhook_urls_into_our_network_are_refused_at_registration_and_before_delivery(
    settings: ReferralsSettings, tokens: Bearer
) -> None:
    from sqlalchemy import select

    from wegweiser.referrals.db import WebhookDeliveryRow

    admin = tokens("admin")
    strict = settings.model_copy(update={"webhook_allowed_hosts": ()})  # production: no allow-list
    local = f"it-hook-local-{RUN}"
    receiver = WebhookReceiver()

    def partner(url: str) -> dict[str, object]:
        return {"partner_id": local, "organisation": "Test", "programmes": ["psychosozial"],
                "kreise": [KREIS], "delivery": "webhook", "webhook_url": url}  # fmt: skip

    async with receiver.serving() as base_url:
        async with running(build(strict)) as client:
            for url in (f"{base_url}/{local}", "https://169.254.169.254/latest/meta-data/"):
                refused = await client.post("/v1/admin/partners", json=partner(url), headers=admin)
                assert refused.status_code == 422, refused.text
                assert refused.headers["content-type"].startswith("application/problem+json")
                assert [e["field"] for e in refused.json()["errors"]] == ["webhook_url"]
        async with running(build(settings)) as client:  # loopback named in the allow-list: accepted
            created = await client.post(
                "/v1/admin/partners", json=partner(f"{base_url}/{local}"), headers=admin
            )
            assert created.status_code == 201, created.text
            receiver.secrets[local] = created.json()["webhook_secret"]

        # Later the allow-list no longer names it (as when its DNS name turns to an internal address):
        # the worker checks again before it sends, and sends nothing.
        app = build(strict)
        sent = requested(local)
        async with running(app) as client:
            await produce(settings.kafka_bootstrap_servers, encode(sent))

            async def failed() -> bool:
                status = (await client.get(f"/v1/admin/partners/{local}/delivery", headers=admin)).json()
                return bool(status["deliveries"] == {"failed": 1})

            await eventually(failed, timeout_s=30, what="the delivery refused before sending")
            async with context_of(app).runtime.sessions() as session:
                query = select(WebhookDeliveryRow).where(WebhookDeliveryRow.referral_id == sent.referral_id)  # type: ignore[arg-type]
                [row] = (await session.execute(query)).scalars()
    assert row.last_error is not None and row.last_error.startswith("refused address: 127.0.0.1")
    assert row.body is None  # the payload is erased with the failure
    assert receiver.received[local] == []
